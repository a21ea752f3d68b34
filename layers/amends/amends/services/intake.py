"""Receipt (ISO 10002 7.2): turn a submission into a case with a reference and an access token."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from amends.domain.case_sla import CaseSla
from amends.domain.clock import Clock
from amends.domain.errors import RequestKeyReused
from amends.domain.model import Actor, Case, Channel, Submission, open_case
from amends.domain.reference import new_reference
from amends.domain.sla import Pinned
from amends.services.common import hash_token
from amends.services.ports import CaseRepository, FilingRequest, FilingRequests, ReferenceTaken, RequestAlreadyFiled
from amends.settings import Settings

MAX_REFERENCE_DRAWS = 5
REQUEST_KEPT = timedelta(hours=24)  # as long as Powertools keeps the answer to an Idempotency-Key


@dataclass(frozen=True)
class FiledComplaint:
    case: Case
    access_token: str  # shown once, to the complainant; only its hash is stored
    response_due_by: datetime


@dataclass(frozen=True)
class Once:
    """File at most one complaint for ``key`` (a client's Idempotency-Key), remembered in ``requests``."""

    key: str
    requests: FilingRequests


def file_complaint(
    submission: Submission, channel: Channel, *, repo: CaseRepository, clock: Clock, settings: Settings,
    once: Once | None = None,
) -> FiledComplaint:
    """A new case for the submission. With ``once``, a key that filed a case already gets that case and its access
    token again when it comes with the same request (its first answer was lost), and ``RequestKeyReused`` with
    another; a key is remembered for 24 hours."""
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
            if once is None:
                repo.record(change)
            else:
                once.requests.record_case(change, FilingRequest(
                    key_hash=hash_token(once.key), request_hash=request_hash(submission, channel),
                    reference=change.case.reference, access_token=token, expires_at=received_at + REQUEST_KEPT,
                ), received_at)
        except ReferenceTaken:
            continue
        except RequestAlreadyFiled as already:
            return _filed_before(already.filed, request_hash(submission, channel), repo, settings)
        return FiledComplaint(change.case, token, response_due_by(change.case, settings))
    raise RuntimeError(f"could not draw a free reference in {MAX_REFERENCE_DRAWS} tries; the reference space is full")


def request_hash(submission: Submission, channel: Channel) -> str:
    """The request as filed, whatever the order of its fields: what a retry must repeat exactly."""
    request = {"channel": channel.value, "submission": submission.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _filed_before(filed: FilingRequest, this_request: str, repo: CaseRepository, settings: Settings) -> FiledComplaint:
    if filed.request_hash != this_request:
        raise RequestKeyReused(filed.reference)
    case = repo.get(filed.reference)
    return FiledComplaint(case, filed.access_token, response_due_by(case, settings))


def response_due_by(case: Case, settings: Settings, now: datetime | None = None) -> datetime:
    """The time frame quoted to the complainant: its SLA policy's final response (a case stored before policies were
    pinned on cases keeps the flat calendar-day rule it was promised)."""
    if case.sla is None:
        return case.received_at + timedelta(days=settings.final_response_days)
    return case.sla.final_response_due(case.received_at, now or case.updated_at)
