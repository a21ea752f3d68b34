"""Deadlines of a case (amends.domain.case_sla): its SLA as staff see it, and the sweep's escalation check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from amends.domain.case_sla import CaseSla
from amends.domain.clock import Clock
from amends.domain.model import Case
from amends.domain.reference import normalise
from amends.domain.sla import MilestoneStatus
from amends.services.common import with_optimistic_retry
from amends.services.ports import CaseRepository


class NoSla(LookupError):
    """The case was stored before SLA policies were pinned on cases: it has only the flat final-response date."""


@dataclass(frozen=True)
class SlaReport:
    case: Case
    sla: CaseSla
    milestones: list[MilestoneStatus]
    at: datetime


def report(reference: str, *, repo: CaseRepository, clock: Clock) -> SlaReport:
    case, now = repo.get(normalise(reference)), clock.now()
    if case.sla is None:
        raise NoSla(case.reference)
    return SlaReport(case=case, sla=case.sla, milestones=case.sla.statuses(case.received_at, now), at=now)


def escalate(reference: str, *, repo: CaseRepository, clock: Clock) -> Case | None:
    """The ``sla_check`` timer's handler: fire the escalation rules the case has reached (once each: the firing is
    recorded on the case in the same conditional write, so an overlapping sweep re-reads and finds nothing left).
    None when nothing is reached, e.g. the case moved on since the timer was set."""

    def attempt() -> Case | None:
        change = repo.get(normalise(reference)).escalate(clock.now())
        if change is None:
            return None
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)
