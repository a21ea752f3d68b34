"""Service-level policies: the milestones a case must meet, when each is due, and whether it is on time.

A policy is data (``amends/config/sla/policies/*.json``): milestones, each a time limit on a calendar, met by a step of
the case (``MET_BY``). A milestone may be an early exit (summary resolution: meeting it is a way out, missing it is no
breach), optional (a holding reply: only needed when the final response cannot be given in time), or extended once
another milestone is met in time (PSD2: 15 business days, 35 after a holding reply).

A case keeps the policy and the calendar it was opened under (``Pinned``), so a later edit of either never changes what
was promised. Nothing here reads files, clocks or AWS (``amends.domain.sla_config`` loads the files).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from amends.domain.calendar import BusinessCalendar
from amends.domain.deadlines import Limit, Pause, Unit, budget, due_at, in_units, last_day, paused_time, used

# The steps of a case that can meet a milestone (the services record them as they happen).
MET_BY = ("acknowledged", "holding_reply_sent", "decision_communicated", "resolved_and_closed", "closed", "referred")


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    within: int = Field(ge=1)
    unit: Unit
    after: str = Field(description="The milestone that, met before this one is due, extends it (a holding reply).")


class Milestone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    within: int = Field(ge=0)
    unit: Unit
    met_by: list[str] = Field(min_length=1, description=f"Steps that meet it, any of: {', '.join(MET_BY)}.")
    early_exit: bool = Field(False, description="Meeting it is a way out (summary resolution); missing it is no breach.")
    optional: bool = Field(False, description="Only needed in some cases (a holding reply): never breached itself.")
    extension: Extension | None = None

    @model_validator(mode="after")
    def _steps(self) -> Milestone:
        if unknown := [m for m in self.met_by if m not in MET_BY]:
            raise ValueError(f"met_by: {', '.join(map(repr, unknown))} is not a step (steps: {', '.join(MET_BY)})")
        return self

    @property
    def limit(self) -> Limit:
        return Limit(self.within, self.unit)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    title: str
    source: str | None = Field(None, description="The rule it implements (e.g. FCA DISP 1.6).")
    calendar: str = Field(description="The id of the calendar its business days and hours are counted on.")
    at_risk_percent: int = Field(80, gt=0, lt=100, description="Share (%) of a milestone's time used that makes it at risk.")
    milestones: list[Milestone] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> Policy:
        names = [m.name for m in self.milestones]
        if len(set(names)) != len(names):
            raise ValueError(f"milestones: a name is used twice ({', '.join(sorted(names))})")
        for m in self.milestones:
            if m.extension and m.extension.after not in names:
                raise ValueError(f"milestone {m.name}: extension.after names no milestone ({m.extension.after!r})")
            if m.extension and m.extension.after == m.name:
                raise ValueError(f"milestone {m.name}: cannot be extended by itself")
        return self

    def milestone(self, name: str) -> Milestone:
        return next(m for m in self.milestones if m.name == name)


class Pinned(BaseModel):
    """The policy and the calendar a case was opened under, copied onto the case (holidays written in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: Policy
    calendar: BusinessCalendar

    @classmethod
    def of(cls, policy: Policy, calendar: BusinessCalendar, received_at: datetime) -> Pinned:
        return cls(policy=policy, calendar=calendar.pinned(received_at.year))


class State(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    MET_LATE = "met_late"
    PAUSED = "paused"
    NOT_NEEDED = "not_needed"  # an early exit or optional milestone the case went past


class MilestoneStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    limit: str = Field(description="The time limit in words, e.g. '15 business days'.")
    due_at: datetime | None = Field(description="None while the clock is paused (set again when the case resumes).")
    met_at: datetime | None
    state: State
    used_share: float = Field(description="Share of the time limit used so far (1.0 and above: used up).")
    extended: bool = False
    promised: bool = Field(True, description="False for an early exit or an optional milestone: missing it is no breach.")
    explanation: str


def _when(calendar: BusinessCalendar, at: datetime) -> str:
    local = at.astimezone(calendar.zone)
    if local.time() == time():
        day = last_day(local.replace(tzinfo=None))
        return f"the end of {day:%A} {day.day} {day:%B %Y} ({local.tzname()})"
    return f"{local:%A} {local.day} {local:%B %Y %H:%M} {local.tzname()}"


def evaluate(pinned: Pinned, received_at: datetime, steps: dict[str, datetime], pauses: list[Pause],
             now: datetime) -> list[MilestoneStatus]:
    """Every milestone of the case at ``now``: ``steps`` says when each step in ``MET_BY`` happened (first time)."""
    policy, calendar = pinned.policy, pinned.calendar
    met = {m.name: min((steps[s] for s in m.met_by if s in steps), default=None) for m in policy.milestones}
    dues = {m.name: due_at(calendar, received_at, m.limit, pauses) for m in policy.milestones}
    out = []
    for m in policy.milestones:
        limit, due, extended = m.limit, dues[m.name], False
        if m.extension and (trigger := met[m.extension.after]) and (due is None or trigger <= due):
            limit, extended = Limit(m.extension.within, m.extension.unit), True
            due = due_at(calendar, received_at, limit, pauses)
        out.append(_status(pinned, m, limit, due, met[m.name], extended, received_at, pauses, now))
    return out


def _status(pinned: Pinned, m: Milestone, limit: Limit, due: datetime | None, met_at: datetime | None,
            extended: bool, received_at: datetime, pauses: list[Pause], now: datetime) -> MilestoneStatus:
    calendar, policy = pinned.calendar, pinned.policy
    upto = min(met_at, now) if met_at else now
    granted = budget(calendar, received_at, limit)
    spent = used(calendar, received_at, limit, upto, pauses)
    share = spent / granted if granted else (1.0 if upto >= received_at else 0.0)
    left = granted - spent
    words = in_units(calendar, limit.unit, abs(left))
    stopped = paused_time(calendar, received_at, limit, upto, pauses)
    pause_note = (f" The clock was stopped for {in_units(calendar, limit.unit, stopped)} while we waited for the "
                  f"complainant, so the due date moved on by that much.") if stopped else ""
    why = f"{m.description}: {limit}{' (extended after a holding reply)' if extended else ''}"
    state = _state(m, due, met_at, now, share * 100 >= policy.at_risk_percent)
    when_due = _when(calendar, due) if due else ""
    text = {
        State.MET: f"Met on {_when(calendar, met_at or now)}, with {words} to spare.",
        State.MET_LATE: f"Met late on {_when(calendar, met_at or now)}, {words} after it was due ({when_due}).",
        State.PAUSED: f"Paused while we wait for the complainant; {words} will be left when they reply.",
        State.NOT_NEEDED: f"Not needed: the time for it ended {when_due} without it, which is no breach.",
        State.BREACHED: f"Breached: due {when_due} and not met; overdue by {words}.",
        State.AT_RISK: f"At risk: {share:.0%} of the time used, {words} left; due {when_due}.",
        State.ON_TIME: f"On time: due {when_due}, {words} left ({share:.0%} used).",
    }[state] + f" {why}."
    return MilestoneStatus(name=m.name, description=m.description, limit=str(limit), due_at=due, met_at=met_at,
                           state=state, used_share=round(share, 4), extended=extended,
                           promised=not (m.early_exit or m.optional),
                           explanation=text + pause_note + f" Policy {policy.id} v{policy.version}, calendar "
                                                           f"{calendar.id} v{calendar.version}.")


def _state(m: Milestone, due: datetime | None, met_at: datetime | None, now: datetime, at_risk: bool) -> State:
    promised = not (m.early_exit or m.optional)
    if met_at:
        return State.MET if due is None or met_at <= due else State.MET_LATE
    if due is None:
        return State.PAUSED
    if now > due:
        return State.BREACHED if promised else State.NOT_NEEDED
    return State.AT_RISK if at_risk and promised else State.ON_TIME


def next_due(statuses: list[MilestoneStatus]) -> MilestoneStatus | None:
    """The next milestone still to meet (the complainant's "when to expect our next answer")."""
    waiting = [s for s in statuses
               if s.promised and s.state in (State.ON_TIME, State.AT_RISK, State.BREACHED) and s.due_at]
    return min(waiting, key=lambda s: s.due_at, default=None)  # type: ignore[arg-type, return-value]


def elapsed_share(pinned: Pinned, milestone: str, received_at: datetime, pauses: list[Pause], now: datetime) -> float:
    """Share of a milestone's (unextended) time used at ``now``: what escalation rules at 50 % and 80 % test."""
    m = pinned.policy.milestone(milestone)
    granted = budget(pinned.calendar, received_at, m.limit)
    return used(pinned.calendar, received_at, m.limit, now, pauses) / granted if granted else 1.0


def overdue_by(pinned: Pinned, due: datetime, now: datetime, unit: Unit) -> timedelta:
    """Counted time from ``due`` to ``now`` (zero when not yet due)."""
    return used(pinned.calendar, due, Limit(0, unit), now)  # used() counts nothing up to ``due``
