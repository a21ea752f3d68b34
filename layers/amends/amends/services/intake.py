"""Receipt (ISO 10002 7.2): turn a submission into a case with a reference and an access token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from amends.domain.case_sla import CaseSla
from amends.domain.clock import Clock
from amends.domain.model import Actor, Case, Channel, Submission, open_case
from amends.domain.reference import new_reference
from amends.domain.sla import Pinned
from amends.services.common import hash_token
from amends.services.ports import CaseRepository, ReferenceTaken
from amends.settings import Settings

MAX_REFERENCE_DRAWS = 5


@dataclass(frozen=True)
class FiledComplaint:
    case: Case
    access_token: str  # shown once, to the complainant; only its hash is stored
    response_due_by: datetime


def file_complaint(
    submission: Submission, channel: Channel, *, repo: CaseRepository, clock: Clock, settings: Settings
) -> FiledComplaint:
    received_at = clock.now()
    token = secrets.token_urlsafe(32)
    config = settings.sla_config()
    policy, calendar = config.policy_for(product=submission.product_or_service, channel=channel.value,
                                         jurisdiction=settings.jurisdiction)
    sla = CaseSla.open(Pinned.of(policy, calendar, received_at), config.escalation.rules)
    actor = Actor(kind="complainant", id="complainant")
    for _ in range(MAX_REFERENCE_DRAWS):
        change = open_case(
            reference=new_reference(received_at, settings.reference_prefix),
            access_token_hash=hash_token(token),
            submission=submission,
            channel=channel,
            actor=actor,
            received_at=received_at,
            received_at_local=received_at.astimezone(settings.zone),
            sla=sla,
        )
        try:
            repo.record(change)
        except ReferenceTaken:
            continue
        return FiledComplaint(change.case, token, response_due_by(change.case, settings))
    raise RuntimeError(f"could not draw a free reference in {MAX_REFERENCE_DRAWS} tries; the reference space is full")


def response_due_by(case: Case, settings: Settings, now: datetime | None = None) -> datetime:
    """The time frame quoted to the complainant: its SLA policy's final response (a case stored before policies were
    pinned on cases keeps the flat calendar-day rule it was promised)."""
    if case.sla is None:
        return case.received_at + timedelta(days=settings.final_response_days)
    return case.sla.final_response_due(case.received_at, now or case.updated_at)
