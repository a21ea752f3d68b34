"""Timers: what falls due on a case at a time (e.g. the end of the window for answering a decision).

A change sets or clears its case's timers; the storage adapter writes them in the same transaction as the change, so
a timer is never left behind by a state it belongs to, nor missing from one that set it. A scheduled sweep acts on the
timers that fall due, through one handler per timer name (``amends.services.timers``). They are data on the case, not
Step Functions ``Wait`` states: a Wait counts Step Functions' own time, which the local clock cannot move and which
would keep a second copy of a deadline the case already holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

if TYPE_CHECKING:
    from amends.domain.model import Change

# The timers the lifecycle uses. A name is part of the timer's storage key: keep it short and stable.
REPLY_WINDOW = "reply_window"  # the complainant may answer the decision until then; then the case closes (no_reply)
SLA_CHECK = "sla_check"  # the next time an escalation rule can be reached (amends.domain.case_sla)

TimerName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise ValueError("a timer's due time needs a time zone (the clock gives UTC)")
    return value


class Timer(BaseModel):
    """Set ``name`` to fall due at ``due_at``, or clear it (``due_at`` None). Setting a timer again moves it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: TimerName
    due_at: Annotated[datetime | None, AfterValidator(_aware)]

    @classmethod
    def at(cls, name: str, due_at: datetime) -> Timer:
        return cls(name=name, due_at=due_at)

    @classmethod
    def cleared(cls, name: str) -> Timer:
        return cls(name=name, due_at=None)


def with_timers(change: Change, *timers: Timer) -> Change:
    """``change`` that also sets or clears ``timers``, written with it. Each timer at most once per change."""
    combined = (*change.timers, *timers)
    names = [t.name for t in combined]
    if len(names) != len(set(names)):
        raise ValueError(f"a change may set or clear each timer once; got {', '.join(names)}")
    return change.model_copy(update={"timers": combined})
