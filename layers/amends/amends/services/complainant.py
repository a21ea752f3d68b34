"""What a complainant can do with their reference and access token (7.3 tracking).

A wrong token and an unknown reference give the same answer, so a reference alone reveals nothing.
"""

from __future__ import annotations

from amends.domain.clock import Clock
from amends.domain.errors import CaseNotFound
from amends.domain.model import Actor, Case, TimelineEntry
from amends.domain.reference import normalise
from amends.services.common import token_matches, with_optimistic_retry
from amends.services.ports import CaseRecord, CaseRepository


def _authorised(reference: str, token: str | None, repo: CaseRepository) -> CaseRecord:
    reference = normalise(reference)
    try:
        record = repo.get_with_timeline(reference)
    except CaseNotFound:
        raise CaseNotFound(reference) from None
    if not token_matches(token, record.case.access_token_hash):
        raise CaseNotFound(reference)
    return record


def view_case(reference: str, token: str | None, *, repo: CaseRepository) -> CaseRecord:
    """The case with only the timeline entries the complainant may see."""
    record = _authorised(reference, token, repo)
    return CaseRecord(record.case, [e for e in record.timeline if e.complainant_visible])


def add_message(
    reference: str, token: str | None, body: str, *, repo: CaseRepository, clock: Clock
) -> tuple[Case, TimelineEntry]:
    _authorised(reference, token, repo)

    def attempt() -> tuple[Case, TimelineEntry]:
        case = repo.get(normalise(reference))
        change = case.add_message(body, Actor(kind="complainant", id="complainant"), clock.now())
        repo.record(change)
        return change.case, change.entry

    return with_optimistic_retry(attempt)
