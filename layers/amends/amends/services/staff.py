"""What staff do with cases: queues, the full record, assignment, internal notes (7.6)."""

from __future__ import annotations

from dataclasses import dataclass

from amends.domain.clock import Clock
from amends.domain.errors import Forbidden
from amends.domain.model import Actor, Case, TimelineEntry
from amends.domain.permissions import Command, allowed_actions_for, assignment_refusal, role_allows
from amends.domain.reference import normalise
from amends.services.common import with_optimistic_retry
from amends.services.ports import CasePage, CaseQuery, CaseRecord, CaseRepository, MailLog, MailPage, MailQuery


def list_cases(query: CaseQuery, *, repo: CaseRepository) -> CasePage:
    return repo.list_cases(query)


def list_mail(query: MailQuery, *, mail_log: MailLog) -> MailPage:
    """Every inbound message with what became of it, newest first."""
    return mail_log.list_mail(query)


def get_case(reference: str, *, repo: CaseRepository) -> CaseRecord:
    return repo.get_with_timeline(normalise(reference))


@dataclass(frozen=True)
class StaffCaseView:
    record: CaseRecord
    allowed_actions: list[Command]


def read_case(reference: str, actor: Actor, *, repo: CaseRepository, clock: Clock) -> StaffCaseView:
    """The full record, and what ``actor`` may do to the case now (their roles, the case's state and the rules
    about persons all allow it)."""
    record = get_case(reference, repo=repo)
    return StaffCaseView(record, allowed_actions_for(record.case, actor, clock.now()))


def assign_owner(
    reference: str, owner: str, actor: Actor, *, reason: str | None, repo: CaseRepository, clock: Clock
) -> Case:
    """Supervisors, managers and admins assign anyone; a handler may only take a case for themselves."""
    if refused := assignment_refusal(actor, owner):
        raise refused

    def attempt() -> Case:
        change = repo.get(normalise(reference)).assign(owner, actor, clock.now(), reason)
        repo.record(change)
        return change.case

    return with_optimistic_retry(attempt)


def add_note(reference: str, body: str, actor: Actor, *, repo: CaseRepository, clock: Clock) -> TimelineEntry:
    if not role_allows(Command.ADD_NOTE, actor):
        raise Forbidden("Auditors have read-only access; adding a note needs the handler, supervisor, "
                        "manager or admin role.")

    def attempt() -> TimelineEntry:
        change = repo.get(normalise(reference)).add_note(body, actor, clock.now())
        repo.record(change)
        return change.entry

    return with_optimistic_retry(attempt)
