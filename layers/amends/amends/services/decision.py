"""The response and the decision (ISO 10002 7.7-7.9): propose, approve or return (four eyes), communicate, conclude
an internal review, and close a case whose decision went unanswered (the sweep)."""

from __future__ import annotations

from datetime import datetime

from amends.domain import steps
from amends.domain.clock import Clock
from amends.domain.handling import ResponseContent
from amends.domain.model import Actor, Case
from amends.domain.reference import normalise
from amends.services.common import with_optimistic_retry
from amends.services.handling import change_case
from amends.services.ports import CaseRepository
from amends.settings import Settings


def propose_response(reference: str, content: ResponseContent, actor: Actor, *, repo: CaseRepository, clock: Clock,
                     settings: Settings) -> Case:
    policy = settings.handling_policy()
    return change_case(reference, lambda case, now: steps.propose_response(case, content, actor, now, policy),
                       repo=repo, clock=clock)


def approve_response(reference: str, actor: Actor, *, repo: CaseRepository, clock: Clock) -> Case:
    return change_case(reference, lambda case, now: steps.approve_response(case, actor, now), repo=repo, clock=clock)


def return_proposal(reference: str, reason: str, actor: Actor, *, repo: CaseRepository, clock: Clock) -> Case:
    return change_case(reference, lambda case, now: steps.return_proposal(case, reason, actor, now),
                       repo=repo, clock=clock)


def answer_proposal(reference: str, approve: bool, reason: str | None, actor: Actor, *, repo: CaseRepository,
                    clock: Clock) -> Case:
    """7.7: the approver approves the proposed response, or returns it to the investigation with a reason."""
    if approve:
        return approve_response(reference, actor, repo=repo, clock=clock)
    return return_proposal(reference, reason or "", actor, repo=repo, clock=clock)


def communicate_decision(reference: str, actor: Actor, *, repo: CaseRepository, clock: Clock,
                         settings: Settings) -> Case:
    policy = settings.handling_policy()
    return change_case(reference, lambda case, now: steps.communicate_decision(case, actor, now, policy),
                       repo=repo, clock=clock)


def conclude_review(reference: str, content: ResponseContent, actor: Actor, *, repo: CaseRepository, clock: Clock,
                    settings: Settings) -> Case:
    policy = settings.handling_policy()
    return change_case(reference, lambda case, now: steps.conclude_review(case, content, actor, now, policy),
                       repo=repo, clock=clock)


def close_unanswered(reference: str, now: datetime, *, repo: CaseRepository, settings: Settings) -> Case | None:
    """For the sweep: close with ``no_reply`` when the complainant's answer is overdue at ``now``. Returns the closed
    case, or None when there was nothing to do (answered, not yet due, or closed already: safe to repeat)."""
    policy = settings.handling_policy()

    def attempt() -> Case | None:
        change = steps.close_unanswered(repo.get(normalise(reference)), now, policy)
        if change is None:
            return None
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)
