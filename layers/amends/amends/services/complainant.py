"""What a complainant can do with their reference and access token (7.3 tracking).

A wrong token and an unknown reference give the same answer, so a reference alone reveals nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from amends.domain import steps
from amends.domain.clock import Clock
from amends.domain.errors import CaseNotFound
from amends.domain.handling import ClosureReason
from amends.domain.lifecycle import Status
from amends.domain.model import Actor, Case, TimelineEntry
from amends.domain.reference import normalise
from amends.services.common import token_matches, with_optimistic_retry
from amends.services.intake import response_due_by
from amends.services.ports import CaseRecord, CaseRepository
from amends.settings import Settings

COMPLAINANT = Actor(kind="complainant", id="complainant")


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
        change = case.add_message(body, COMPLAINANT, clock.now())
        repo.record(change)
        return change.case, change.entry

    return with_optimistic_retry(attempt)


def answer_decision(reference: str, token: str | None, *, accept: bool, reason: str | None, repo: CaseRepository,
                    clock: Clock, settings: Settings) -> Case:
    """7.9: accept (the case closes) or reject with a reason (an internal review; after a final decision the case
    closes with the rejection recorded and the external recourse repeated)."""
    _authorised(reference, token, repo)
    policy = settings.handling_policy()

    def attempt() -> Case:
        case, now = repo.get(normalise(reference)), clock.now()
        change = (steps.accept_decision(case, COMPLAINANT, now, policy) if accept
                  else steps.reject_decision(case, reason or "", COMPLAINANT, now, policy))
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)


class NextStep(BaseModel):
    """What happens next on a complaint and by when, in the complainant's words."""

    model_config = ConfigDict(frozen=True)

    what: str
    by: datetime | None = Field(None, description="When it should happen by; none when it is up to the complainant "
                                                   "or nothing is due.")


def next_step(case: Case, settings: Settings) -> NextStep:
    response_due = response_due_by(case, settings)
    if case.status is Status.AWAITING_COMPLAINANT:
        question = case.information_request.question if case.information_request else "see our last message"
        return NextStep(what=f"We have asked you: {question} Reply with a message; the time we take is paused until "
                             f"you do.")
    if case.status is Status.DECISION_COMMUNICATED and case.decision:
        if case.decision.final:
            external = case.decision.recourse.external
            return NextStep(what=f"This is our final decision. Tell us whether you accept it; if you do not, you can "
                                 f"refer your complaint to {external.body} within {external.time_limit}.",
                            by=case.reply_due_at)
        return NextStep(what="Tell us whether you accept our decision. If you do not, tell us why and someone who "
                             "took no part in it will review your complaint.", by=case.reply_due_at)
    if case.status is Status.INTERNAL_REVIEW:
        # The review's outcome is the final response, so it is due when the policy's final response is.
        return NextStep(what="Someone who took no part in our decision is reviewing your complaint and will send you "
                             "our final decision.", by=response_due)
    if case.status is Status.CLOSED and case.closure:
        if case.closure.merged_into:
            return NextStep(what=f"Your complaint was the same as complaint {case.closure.merged_into} and has been "
                                 f"merged into it: we will answer you there.")
        if case.closure.reason is ClosureReason.WITHDRAWN:
            return NextStep(what="Your complaint is closed as you withdrew it. If you want us to look at it again, "
                                 "ask us to reopen it.", by=case.closure.reopen_until)
        return NextStep(what="Your complaint is closed. If something is still not put right, ask us to reopen it.",
                        by=case.closure.reopen_until)
    if case.status is Status.CLOSED:
        return NextStep(what="Your complaint is closed.")
    if case.status is Status.RECEIVED:
        return NextStep(what="We will acknowledge your complaint, normally within one working day, and send you our "
                             "decision.", by=response_due)
    return NextStep(what="We are looking into your complaint and will send you our decision.", by=response_due)
