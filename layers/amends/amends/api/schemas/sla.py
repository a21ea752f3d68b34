"""What GET /staff/cases/{reference}/sla answers: every milestone of the case and why it stands where it stands."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from amends.domain.sla import MilestoneStatus
from amends.services.sla import SlaReport


class PausedInterval(BaseModel):
    start: datetime
    end: datetime | None = Field(description="None: still paused (the case awaits the complainant).")


class SlaView(BaseModel):
    reference: str
    at: datetime = Field(description="When this was worked out (states are as of then).")
    policy: str = Field(description="The policy's id, e.g. fca-disp.")
    policy_version: int
    policy_title: str
    policy_source: str | None
    calendar: str
    calendar_version: int
    time_zone: str
    paused: list[PausedInterval] = Field(description="When the clock was stopped while we waited for the complainant.")
    escalations_fired: list[str] = Field(description="Escalation rules fired on this case, as rule#level.")
    milestones: list[MilestoneStatus]

    @classmethod
    def of(cls, report: SlaReport) -> SlaView:
        pinned = report.sla.pinned
        return cls(
            reference=report.case.reference, at=report.at, policy=pinned.policy.id,
            policy_version=pinned.policy.version, policy_title=pinned.policy.title, policy_source=pinned.policy.source,
            calendar=pinned.calendar.id, calendar_version=pinned.calendar.version, time_zone=pinned.calendar.time_zone,
            paused=[PausedInterval(start=p.start, end=p.end) for p in report.sla.pauses],
            escalations_fired=list(report.sla.fired), milestones=report.milestones,
        )
