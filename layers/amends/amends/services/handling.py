"""What staff do to move a case from assessment to investigation, and to close or reopen it (ISO 10002 7.5, 7.6,
7.9). Each use case reads the case, runs one domain command (which checks the role table, the state and the rules
about persons), and records the change, re-reading on a concurrent update. Each returns the new case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from amends.domain import steps
from amends.domain.clock import Clock
from amends.domain.errors import CaseNotFound, InvalidLink
from amends.domain.handling import ClosureReason, Findings, LinkRelation
from amends.domain.model import Actor, Case, Change
from amends.domain.permissions import Command, allowed_actions_for
from amends.domain.reference import normalise
from amends.services.common import with_optimistic_retry
from amends.services.ports import CaseRepository
from amends.settings import Settings


def change_case(reference: str, command: Callable[[Case, datetime], Change], *, repo: CaseRepository,
                clock: Clock) -> Case:
    """Read, decide, write; again on a concurrent update. The shape of every single-case use case."""
    def attempt() -> Case:
        change = command(repo.get(normalise(reference)), clock.now())
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)


def allowed_actions(case: Case, actor: Actor, *, clock: Clock) -> list[Command]:
    """What ``actor`` may do to ``case`` now (for the staff view of a case)."""
    return allowed_actions_for(case, actor, clock.now())


def assess(reference: str, findings: Findings, actor: Actor, *, repo: CaseRepository, clock: Clock,
           settings: Settings) -> Case:
    rules = settings.priority_rules()
    return change_case(reference, lambda case, now: steps.assess(case, findings, actor, now, rules),
                       repo=repo, clock=clock)


def start_investigation(reference: str, actor: Actor, *, owner: str | None = None, repo: CaseRepository,
                        clock: Clock) -> Case:
    return change_case(reference, lambda case, now: steps.start_investigation(case, actor, now, owner),
                       repo=repo, clock=clock)


def request_information(reference: str, question: str, actor: Actor, *, repo: CaseRepository, clock: Clock) -> Case:
    return change_case(reference, lambda case, now: steps.request_information(case, question, actor, now),
                       repo=repo, clock=clock)


def link(reference: str, other_reference: str, relation: LinkRelation, actor: Actor, *, repo: CaseRepository,
         clock: Clock, settings: Settings) -> Case:
    """Link two cases, or merge this one into the other (``duplicate_of``): both change in one transaction."""
    policy = settings.handling_policy()
    reference, other_reference = normalise(reference), normalise(other_reference)

    def attempt() -> Case:
        case = repo.get(reference)
        try:
            other = repo.get(other_reference)
        except CaseNotFound:
            raise InvalidLink(f"There is no complaint {other_reference} to link complaint {reference} to.") from None
        changes = steps.link(case, other, relation, actor, clock.now(), policy)
        repo.record_all(changes)
        return changes[0].case

    return with_optimistic_retry(attempt)


def close(reference: str, reason: ClosureReason, actor: Actor, *, note: str | None = None, repo: CaseRepository,
          clock: Clock, settings: Settings) -> Case:
    policy = settings.handling_policy()
    return change_case(reference, lambda case, now: steps.close(case, reason, actor, now, policy, note),
                       repo=repo, clock=clock)


def reopen(reference: str, reason: str, actor: Actor, *, owner: str | None = None, repo: CaseRepository,
           clock: Clock) -> Case:
    return change_case(reference, lambda case, now: steps.reopen(case, reason, actor, now, owner),
                       repo=repo, clock=clock)
