"""Services with in-memory fakes for their ports: the rules, without any AWS."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import CaseNotFound, Forbidden
from amends.domain.events import DomainEvent
from amends.domain.lifecycle import Action, Status
from amends.domain.model import Actor, Channel, Person, Role
from amends.domain.outgoing_mail import OutgoingMail
from amends.services import complainant, intake, notifications, outbox, staff
from amends.settings import Settings

from .conftest import make_submission
from .memory import MemoryCaseRepository

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com")


class MemoryRepository(MemoryCaseRepository):
    """The in-memory repository (tests/unit/memory.py), with the races of a test set up front: the next ``races``
    writes each lose to someone else's write of the same item, which stays in the table."""

    def __init__(self, races: int = 0) -> None:
        super().__init__()
        self.races = races


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> str:
        self.sent.append(mail)
        return f"m-{len(self.sent)}"


class MemoryBus:
    def __init__(self, refuse: set[str] = frozenset()) -> None:
        self.published: list[DomainEvent] = []
        self.refuse = refuse

    def publish(self, events: Sequence[DomainEvent]) -> list[DomainEvent]:
        self.published += [e for e in events if e.type not in self.refuse]
        return [e for e in events if e.type in self.refuse]


class MemoryOutbox:
    """Pending events until marked published, as the adapter's by-due index holds them."""

    def __init__(self, pending: list[DomainEvent]) -> None:
        self.pending = list(pending)
        self.marked: list[str] = []

    def pending_events(self, older_than_iso: str, limit: int) -> list[DomainEvent]:
        return [e for e in self.pending if e.occurred_at.isoformat() < older_than_iso][:limit]

    def mark_published(self, events: Sequence[DomainEvent], at: datetime) -> None:
        self.marked += [e.event_id for e in events]
        self.pending = [e for e in self.pending if e.event_id not in self.marked]


def file(repo: MemoryRepository, **kw: object) -> intake.FiledComplaint:
    return intake.file_complaint(make_submission(**kw), Channel.WEB, repo=repo, clock=FixedClock(T0),
                                 settings=SETTINGS)


def test_intake_draws_again_when_a_reference_is_taken() -> None:
    repo = MemoryRepository(races=2)  # twice, another complaint takes the reference drawn just before it is written
    filed = file(repo)
    assert len(repo.cases) == 3 and filed.case.reference in repo.cases
    assert repo.cases[filed.case.reference].access_token_hash == filed.case.access_token_hash  # ours, not theirs
    # The default policy's final response: 56 days, to the end of the day (London, GMT in January).
    assert filed.response_due_by == datetime(2027, 1, 19, 0, 0, tzinfo=UTC)
    assert filed.case.sla.pinned.policy.id == "default"
    assert filed.case.received_at_local.utcoffset() == timedelta(0)  # London in November
    assert filed.access_token not in filed.case.access_token_hash


def test_receipt_time_is_also_kept_in_the_organisations_zone() -> None:
    summer = Settings(table_name="t", event_bus_name="b", organisation_time_zone="Australia/Sydney")
    filed = intake.file_complaint(make_submission(), Channel.MOBILE, repo=MemoryRepository(),
                                  clock=FixedClock(T0), settings=summer)
    assert filed.case.received_at_local.hour == 20 and filed.case.received_at_local == filed.case.received_at


def test_the_token_opens_only_its_own_case() -> None:
    repo = MemoryRepository()
    mine, other = file(repo), file(repo)
    assert complainant.view_case(mine.case.reference.lower(), mine.access_token, repo=repo).case == mine.case
    for token in (other.access_token, None, ""):
        with pytest.raises(CaseNotFound):
            complainant.view_case(mine.case.reference, token, repo=repo)


def test_a_message_survives_a_concurrent_write() -> None:
    repo = MemoryRepository()
    filed = file(repo)
    repo.races = 2  # a colleague's note lands before each of the first two writes: decided again on the latest case
    case, entry = complainant.add_message(filed.case.reference, filed.access_token, "more", repo=repo,
                                          clock=FixedClock(T0))
    assert entry.body == "more" and case.version == 4
    assert [e.action for e in repo.timelines[case.reference]] == ["open", "add_note", "add_note", "add_message"]


def test_only_the_right_roles_assign() -> None:
    repo = MemoryRepository()
    ref = file(repo).case.reference
    handler = Actor(kind="staff", id="h-1", roles=(Role.HANDLER,))
    auditor = Actor(kind="staff", id="a-1", roles=(Role.AUDITOR,))
    supervisor = Actor(kind="staff", id="s-1", roles=(Role.SUPERVISOR,))
    with pytest.raises(Forbidden, match="only to themselves"):
        staff.assign_owner(ref, "h-2", handler, reason=None, repo=repo, clock=FixedClock(T0))
    with pytest.raises(Forbidden, match="read-only"):
        staff.assign_owner(ref, "a-1", auditor, reason=None, repo=repo, clock=FixedClock(T0))
    with pytest.raises(Forbidden, match="read-only"):
        staff.add_note(ref, "n", auditor, repo=repo, clock=FixedClock(T0))
    assert staff.assign_owner(ref, "h-1", handler, reason=None, repo=repo, clock=FixedClock(T0)).owner == "h-1"
    assert staff.assign_owner(ref, "h-2", supervisor, reason="cover", repo=repo, clock=FixedClock(T0)).owner == "h-2"


def test_only_the_acknowledgement_is_mailed_and_only_by_email_with_consent() -> None:
    repo, mailer = MemoryRepository(), MemoryMailer()
    case = file(repo).case
    repo.record(case.apply(Action.ACKNOWLEDGE, Actor.system("sfn"), T0))
    ack, opened = repo.events[-1], repo.events[0]
    assert notifications.notify(opened, repo=repo, mailer=mailer, settings=SETTINGS).sent is False
    assert notifications.notify(ack, repo=repo, mailer=mailer, settings=SETTINGS).sent is True
    assert mailer.sent[0].to == "ada@example.com" and case.reference in mailer.sent[0].subject
    assert "18 January 2027" in mailer.sent[0].text

    by_phone = file(repo, complainant=Person(name="Bo", phone="+44 1"), preferred_contact_channel="phone").case
    no_consent = file(repo, consent={"contact": False}).case
    for other in (by_phone, no_consent):
        repo.record(other.apply(Action.ACKNOWLEDGE, Actor.system("sfn"), T0))
        assert notifications.notify(repo.events[-1], repo=repo, mailer=mailer, settings=SETTINGS).sent is False
    assert len(mailer.sent) == 1


def test_outbox_marks_only_what_the_bus_accepted_and_sweeps_after_grace() -> None:
    repo = MemoryRepository()
    case = file(repo).case
    repo.record(case.apply(Action.ACKNOWLEDGE, Actor.system("sfn"), T0 + timedelta(minutes=10)))
    opened, changed = repo.events
    store = MemoryOutbox([opened, changed])
    failed = outbox.publish([opened, changed], publisher=MemoryBus(refuse={"CaseStatusChanged"}), outbox=store,
                            clock=FixedClock(T0))
    assert failed == [changed] and store.marked == [opened.event_id]
    later, bus = FixedClock(T0 + timedelta(minutes=12)), MemoryBus()
    published, failed_count = outbox.sweep(grace_seconds=300, clock=later, publisher=bus, outbox=store)
    assert (published, failed_count) == (0, 0)  # the opening is published, the acknowledgement inside its grace
    later.advance(timedelta(minutes=10))
    assert outbox.sweep(grace_seconds=300, clock=later, publisher=bus, outbox=store) == (1, 0)
    assert outbox.sweep(grace_seconds=300, clock=later, publisher=bus, outbox=store) == (0, 0)  # marked: done
    assert [e.event_id for e in bus.published] == [changed.event_id] and store.pending == []


def test_lifecycle_steps_are_only_those_the_state_machine_may_ask_for() -> None:
    from amends.services import lifecycle

    repo = MemoryRepository()
    ref = file(repo).case.reference
    assert lifecycle.take_step(ref, "acknowledge", execution="x", repo=repo, clock=FixedClock(T0)).status \
        is Status.ACKNOWLEDGED
    with pytest.raises(ValueError, match="unknown lifecycle step"):
        lifecycle.take_step(ref, "close", execution="x", repo=repo, clock=FixedClock(T0))
