"""A case's SLA: the policy, calendar and escalation rules it was opened under, and what has happened to its clock.

The case carries it (``Case.sla``) and every status change updates it in the same write: a request for information
stops the clock, the complainant's answer starts it again, the acknowledgement, the decision and the closure meet
milestones. From it follow the milestones' states (``/sla``), the date quoted to the complainant, and the case's
``sla`` timer: the next instant an escalation rule it has not fired yet can be reached, so the sweep reads the case
only when there is something to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from amends.domain.deadlines import Limit, Pause, budget, when_used
from amends.domain.escalation import EscalationRules, Firing, Rule, due_firings
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import Action, Status
from amends.domain.sla import Milestone, MilestoneStatus, Pinned, State, elapsed_share, evaluate, next_due, overdue_by

# The step each action records (first time only), for milestones' met_by.
STEP_OF = {Action.ACKNOWLEDGE: "acknowledged", Action.COMMUNICATE_DECISION: "decision_communicated",
           Action.CONCLUDE_REVIEW: "decision_communicated", Action.CLOSE: "closed"}
CLOSURE_STEPS = {ClosureReason.RESOLVED: "resolved_and_closed", ClosureReason.REFERRED_ELSEWHERE: "referred"}


class CaseSla(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pinned: Pinned
    escalation: tuple[Rule, ...] = Field((), description="The escalation rules for the policy's milestones.")
    pauses: tuple[Pause, ...] = ()
    steps: dict[str, datetime] = Field(default_factory=dict, description="When each step meeting a milestone happened.")
    fired: tuple[str, ...] = Field((), description="Escalations fired, as rule#level: each fires once.")
    breached: tuple[str, ...] = Field((), description="Milestones an escalation rule marked as breached.")

    @classmethod
    def open(cls, pinned: Pinned, rules: list[Rule]) -> CaseSla:
        names = {m.name for m in pinned.policy.milestones}
        return cls(pinned=pinned, escalation=tuple(r for r in rules if r.milestone in names))

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    def after(self, action: Action, target: Status, at: datetime, closure: ClosureReason | None = None) -> CaseSla:
        """The SLA after the case took ``action`` into ``target`` at ``at``."""
        pauses, steps = list(self.pauses), dict(self.steps)
        if target is Status.AWAITING_COMPLAINANT and not self.paused:
            pauses.append(Pause(at))
        elif target is not Status.AWAITING_COMPLAINANT and self.paused:
            pauses[-1] = Pause(pauses[-1].start, at)
        for step in (STEP_OF.get(action), CLOSURE_STEPS.get(closure) if closure else None):
            if step:
                steps.setdefault(step, at)
        return self.model_copy(update={"pauses": tuple(pauses), "steps": steps})

    def fire(self, firings: list[Firing]) -> CaseSla:
        """The SLA with ``firings`` recorded (and the milestones they mark breached)."""
        marked = [f.milestone for f in firings if any(a.do.value == "mark_breached" for a in f.actions)]
        return self.model_copy(update={"fired": (*self.fired, *(f.key for f in firings)),
                                       "breached": tuple(dict.fromkeys((*self.breached, *marked)))})

    def statuses(self, received_at: datetime, now: datetime) -> list[MilestoneStatus]:
        return evaluate(self.pinned, received_at, self.steps, list(self.pauses), now)

    def final_response_due(self, received_at: datetime, now: datetime) -> datetime:
        """The date quoted to the complainant: the final response's (else the last promised milestone's). While the
        clock is stopped, the earliest it can be: as if the complainant answered now."""
        running = self if not self.paused else self.model_copy(
            update={"pauses": (*self.pauses[:-1], Pause(self.pauses[-1].start, max(now, self.pauses[-1].start)))})
        statuses = running.statuses(received_at, now)
        final = [s.due_at for s in statuses if s.name == "final_response" and s.due_at]
        promised = [s.due_at for s in statuses if s.promised and s.due_at]
        return (final or [max(promised)])[0]

    def next_answer(self, received_at: datetime, now: datetime) -> MilestoneStatus | None:
        return next_due(self.statuses(received_at, now))

    def firings(self, received_at: datetime, now: datetime, *, priority: str, category: str | None,
                status: Status) -> list[Firing]:
        """The escalation rules reached at ``now`` and not fired yet."""
        statuses, pauses = self.statuses(received_at, now), list(self.pauses)
        shares = {s.name: elapsed_share(self.pinned, s.name, received_at, pauses, now) for s in statuses}
        units = {m.name: m.unit for m in self.pinned.policy.milestones}
        overdue = {s.name: overdue_by(self.pinned, s.due_at, now, units[s.name]) for s in statuses if s.due_at}
        return due_firings(EscalationRules(rules=list(self.escalation)), statuses, shares, overdue, priority, category,
                           status, set(self.fired), now)

    def next_check(self, received_at: datetime, now: datetime, *, priority: str, category: str | None,
                   status: Status) -> datetime | None:
        """When the next rule not fired yet, and applying to the case as it is, can be reached (None: none can, or
        the clock is stopped). A rule already reached gives ``now``: the sweep fires it on its next run."""
        statuses = {s.name: s for s in self.statuses(received_at, now)}
        calendar, pauses, times = self.pinned.calendar, list(self.pauses), []
        for rule in self.escalation:
            milestone = statuses.get(rule.milestone)
            if (f"{rule.id}#{rule.level}" in self.fired or milestone is None or milestone.state in _SETTLED
                    or not rule.applies(priority, category, status)):
                continue
            m = self.pinned.policy.milestone(rule.milestone)
            if rule.at_percent is not None:
                limit, amount = m.limit, budget(calendar, received_at, m.limit) * rule.at_percent / 100
            else:  # past the due date, the extended one if an extension moved it
                limit = _extended(m) if milestone.extended else m.limit
                amount = budget(calendar, received_at, limit) + timedelta(hours=rule.overdue_by_hours or 0)
            if (at := when_used(calendar, received_at, limit, amount, pauses)) is not None:
                times.append(max(at + _MARGIN, now))  # a second past it: rounding never leaves it unreached
        return min(times, default=None)


_MARGIN = timedelta(seconds=1)
_SETTLED = (State.MET, State.MET_LATE, State.NOT_NEEDED, State.PAUSED)


def _extended(m: Milestone) -> Limit:
    assert m.extension is not None
    return Limit(m.extension.within, m.extension.unit)
