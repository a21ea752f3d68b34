"""Escalation rules, as data: when a case's milestone is getting late, who is told and what is done.

``amends/config/sla/escalation.json`` holds an ordered list of rules. A rule names a milestone and a level, a
condition on the time (a share of the milestone's time used, e.g. 0.5 and 0.8, or overdue by an amount of its unit)
and optionally on the case (priority, category, status), and the actions to take. The sweep asks ``due_firings`` which
rules a case has reached and not fired yet; the caller records each firing under (case, rule, level) with a condition
that it is new, so a rule fires once per case and level however many sweeps run, even at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from amends.domain.lifecycle import Status
from amends.domain.sla import MilestoneStatus, Policy, State


class ActionKind(StrEnum):
    NOTIFY_ROLE = "notify_role"  # every staff member with a role (supervisor, manager...)
    NOTIFY_OWNER = "notify_owner"  # the case's owner (or the supervisors when it has none)
    NOTIFY_PERSON = "notify_person"  # one address
    NOTIFY_COMPLAINANT = "notify_complainant"  # a holding reply: we need more time, and when to expect the answer
    RETURN_TO_QUEUE = "return_to_queue"  # the owner is taken off: the case is back in the unassigned queue
    RAISE_PRIORITY = "raise_priority"
    MARK_BREACHED = "mark_breached"
    EMIT_EVENT = "emit_event"  # an SlaBreached event on the bus as well, for an organisation's own systems


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    do: ActionKind
    role: str | None = None
    address: str | None = None

    @model_validator(mode="after")
    def _arguments(self) -> Action:
        needs = {ActionKind.NOTIFY_ROLE: "role", ActionKind.NOTIFY_PERSON: "address",
                 }.get(self.do)
        given = {n for n in ("role", "address") if getattr(self, n) is not None}
        if needs and needs not in given:
            raise ValueError(f"{self.do.value} needs {needs!r}")
        if extra := given - {needs}:
            raise ValueError(f"{self.do.value} takes no {', '.join(sorted(extra))}")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    milestone: str
    level: int = Field(ge=1, description="Escalation level: 1 first warning, 2 next, ...; each fires once per case.")
    at_percent: int | None = Field(None, gt=0, le=100, description="Fires once this share (%) of the time is used.")
    overdue_by_hours: int | None = Field(None, ge=0, description="Fires once overdue by this many counted hours.")
    priority: list[Literal["urgent", "high", "normal", "low"]] | None = None
    category: list[str] | None = None
    status: list[Status] | None = None
    actions: list[Action] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_time_condition(self) -> Rule:
        if (self.at_percent is None) == (self.overdue_by_hours is None):
            raise ValueError("give exactly one of at_percent (e.g. 80) and overdue_by_hours (e.g. 0 for at the deadline)")
        return self

    def reached(self, milestone: MilestoneStatus, used_share: float, overdue: timedelta) -> bool:
        if milestone.state in (State.MET, State.MET_LATE, State.PAUSED, State.NOT_NEEDED):
            return False
        if self.at_percent is not None:
            return used_share * 100 >= self.at_percent
        return milestone.state is State.BREACHED and overdue >= timedelta(hours=self.overdue_by_hours or 0)

    def applies(self, priority: str, category: str | None, status: Status) -> bool:
        return ((self.priority is None or priority in self.priority)
                and (self.category is None or (category or "").casefold() in {c.casefold() for c in self.category})
                and (self.status is None or status in self.status))


class EscalationRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique(self) -> EscalationRules:
        keys = [(r.id, r.level) for r in self.rules]
        if len(set(keys)) != len(keys):
            raise ValueError("rules: an id is used twice at the same level")
        return self

    def check_against(self, policies: dict[str, Policy]) -> None:
        names = {m.name for p in policies.values() for m in p.milestones}
        for i, rule in enumerate(self.rules):
            if rule.milestone not in names:
                raise ValueError(f"rules.{i}.milestone: {rule.milestone!r} is a milestone of no policy "
                                 f"(milestones: {', '.join(sorted(names))})")


class Firing(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    level: int
    milestone: str
    actions: list[Action]
    reason: str

    @property
    def key(self) -> str:
        return f"{self.rule}#{self.level}"


def due_firings(rules: EscalationRules, statuses: list[MilestoneStatus], shares: dict[str, float],
                overdue: dict[str, timedelta], priority: str, category: str | None, status: Status,
                fired: set[str], now: datetime) -> list[Firing]:
    """The rules this case has reached and not yet fired (``fired``: keys of earlier firings), lowest level first."""
    by_name = {s.name: s for s in statuses}
    out = []
    for rule in sorted(rules.rules, key=lambda r: r.level):
        milestone = by_name.get(rule.milestone)
        if milestone is None or f"{rule.id}#{rule.level}" in fired or not rule.applies(priority, category, status):
            continue
        if rule.reached(milestone, shares.get(rule.milestone, 0.0), overdue.get(rule.milestone, timedelta())):
            when = (f"{rule.at_percent} % of the time for {rule.milestone} used" if rule.at_percent is not None
                    else f"{rule.milestone} overdue by at least {rule.overdue_by_hours} hours")
            out.append(Firing(rule=rule.id, level=rule.level, milestone=rule.milestone, actions=rule.actions,
                              reason=f"Escalation {rule.id} level {rule.level}: {when} at {now:%Y-%m-%d %H:%M} UTC. "
                                     f"{milestone.explanation}"))
    return out
