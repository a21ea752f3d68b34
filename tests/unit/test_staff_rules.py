"""What staff read: a case's full record with what the reader may do to it now (by their roles, the case's state and
the reopen window), and the mail log page for the filter they asked for; and who a new investigation is given to."""

from __future__ import annotations

from datetime import timedelta

from amends.domain.clock import FixedClock
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailOutcome
from amends.domain.permissions import Command
from amends.services import handling, staff
from amends.services.ports import MailPage, MailQuery

from .cases import AUDITOR, HANDLER, HANDLER_2, SUPERVISOR, T0, opening, walk
from .memory import MemoryCaseRepository

REF = "CMP-2026-7K3F9Q"


def repo_with(status: Status) -> MemoryCaseRepository:
    repo = MemoryCaseRepository()
    repo.record(opening(REF))
    for change in walk(status, repo.get(REF))[1]:
        repo.record(change)
    return repo


def test_a_handler_reading_a_new_case_sees_its_record_and_what_they_may_do() -> None:
    repo = repo_with(Status.RECEIVED)
    view = staff.read_case(REF.lower(), HANDLER, repo=repo, clock=FixedClock(T0))
    assert view.record.case == repo.get(REF)
    assert [e.action for e in view.record.timeline] == ["open"]
    assert view.allowed_actions == [Command.ASSESS, Command.LINK, Command.ASSIGN, Command.ADD_NOTE, Command.CLOSE]


def test_an_auditor_reads_the_record_but_may_do_nothing() -> None:
    view = staff.read_case(REF, AUDITOR, repo=repo_with(Status.RECEIVED), clock=FixedClock(T0))
    assert view.record.case.reference == REF and view.allowed_actions == []


class AskedMailLog:
    def __init__(self) -> None:
        self.queries: list[MailQuery] = []

    def list_mail(self, query: MailQuery) -> MailPage:
        self.queries.append(query)
        return MailPage([], "next-page")


def test_the_mail_log_is_listed_with_the_outcome_and_cursor_staff_asked_for() -> None:
    log = AskedMailLog()
    query = MailQuery(outcome=MailOutcome.QUARANTINED, limit=10, cursor="page-2")
    assert staff.list_mail(query, mail_log=log) == MailPage([], "next-page")
    assert log.queries == [query]


def test_a_supervisor_starting_an_investigation_can_give_it_to_another_handler() -> None:
    repo = repo_with(Status.ASSESSED)
    case = handling.start_investigation(REF, SUPERVISOR, owner=HANDLER_2.id, repo=repo, clock=FixedClock(T0))
    assert case.status is Status.INVESTIGATING and case.owner == HANDLER_2.id == repo.get(REF).owner


def test_reopening_is_offered_only_until_the_reopen_window_ends() -> None:
    repo = repo_with(Status.CLOSED)
    until = repo.get(REF).closure.reopen_until
    assert until == T0 + timedelta(days=56)
    assert Command.REOPEN in staff.read_case(REF, SUPERVISOR, repo=repo, clock=FixedClock(until)).allowed_actions
    later = FixedClock(until + timedelta(seconds=1))
    assert Command.REOPEN not in staff.read_case(REF, SUPERVISOR, repo=repo, clock=later).allowed_actions
