"""The delivery guard (amends.services.outbound) beyond tests/mail/test_outbound.py: a letter is sent once, the
refusals say exactly why, the hourly budget is counted from the start of the hour and kept for two, and what was
sent is recorded with everything a reply or a bounce needs to find it again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from amends.domain.clock import FixedClock
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sent_mail import SentMail
from amends.services.outbound import GuardedMailer, MailRefused
from amends.settings import Settings

from tests.mail.memory_mail import KeepingMailer, MemorySentMail

AT = datetime(2026, 7, 1, 9, 47, 12, 345, tzinfo=UTC)
SETTINGS = Settings(table_name="t", event_bus_name="b", automatic_mail_per_hour=3)


class CountingStore(MemorySentMail):
    """The memory store, also keeping each slot asked for and the letter each sent mail was recorded under."""

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[tuple[str, datetime, int, datetime]] = []
        self.recorded: list[tuple[SentMail, str | None]] = []

    def take_automatic_slot(self, address: str, window_start: datetime, limit: int, expires_at: datetime) -> bool:
        self.slots.append((address, window_start, limit, expires_at))
        return super().take_automatic_slot(address, window_start, limit, expires_at)

    def record_sent(self, sent: SentMail, letter: str | None = None) -> None:
        self.recorded.append((sent, letter))
        super().record_sent(sent, letter)


def guard(store: MemorySentMail) -> tuple[GuardedMailer, KeepingMailer]:
    mailer = KeepingMailer()
    return GuardedMailer(mailer, store, clock=FixedClock(AT), settings=SETTINGS,
                         message_id_of=lambda pid: f"<{pid}@eu-west-2.amazonses.com>"), mailer


def mail(**fields: object) -> OutgoingMail:
    return OutgoingMail(**{"to": "ada@example.com", "subject": "s", "text": "t", "case_reference": "CMP-2026-7K3F9Q",
                           "kind": "decision", **fields})  # type: ignore[arg-type]


def test_what_was_sent_is_recorded_by_its_message_id_with_its_case_kind_addressee_time_and_letter() -> None:
    store = CountingStore()
    sender, _ = guard(store)
    assert sender.send(mail(automatic=False, letter="evt-1/decision/ada@example.com")) == \
        "<0100018c-0001@eu-west-2.amazonses.com>"
    assert store.recorded == [(SentMail(message_id="0100018c-0001@eu-west-2.amazonses.com",
                                        case_reference="CMP-2026-7K3F9Q", kind="decision", to="ada@example.com",
                                        sent_at=AT, automatic=False), "evt-1/decision/ada@example.com")]


def test_a_letter_already_sent_is_not_sent_again_and_gives_its_first_message_id() -> None:
    store = CountingStore()
    sender, mailer = guard(store)
    first = sender.send(mail(letter="evt-1/decision/ada@example.com"))
    store.mark_undeliverable("ada@example.com", "bounced", AT)  # not even asked: nothing is sent
    assert sender.send(mail(letter="evt-1/decision/ada@example.com")) == first
    assert len(mailer.sent) == 1 and len(store.slots) == 1


def test_mail_without_a_letter_key_is_sent_each_time() -> None:
    sender, mailer = guard(CountingStore())
    sender.send(mail())
    sender.send(mail())
    assert len(mailer.sent) == 2


def test_an_undeliverable_address_is_refused_saying_why() -> None:
    store = CountingStore()
    store.mark_undeliverable("ada@example.com", "bounced (ada@example.com: failed 5.1.1)", AT)
    sender, mailer = guard(store)
    with pytest.raises(MailRefused) as refused:
        sender.send(mail())
    assert str(refused.value) == "ada@example.com is marked undeliverable: bounced (ada@example.com: failed 5.1.1)"
    assert mailer.sent == [] and store.slots == []


def test_the_hourly_budget_starts_on_the_hour_and_is_kept_for_two_hours() -> None:
    store = CountingStore()
    sender, _ = guard(store)
    sender.send(mail())
    hour = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert store.slots == [("ada@example.com", hour, 3, datetime(2026, 7, 1, 11, 0, tzinfo=UTC))]


def test_over_the_budget_the_refusal_names_the_limit_and_the_setting() -> None:
    store = CountingStore()
    sender, mailer = guard(store)
    for _ in range(3):
        sender.send(mail())
    with pytest.raises(MailRefused) as refused:
        sender.send(mail())
    assert str(refused.value) == ("ada@example.com has had 3 automatic emails this hour (AUTOMATIC_MAIL_PER_HOUR): "
                                  "not sent, in case it is an auto-responder answering us")
    assert len(mailer.sent) == 3 and len(store.recorded) == 3


def test_a_persons_mail_takes_no_slot_and_is_recorded_as_not_automatic() -> None:
    store = CountingStore()
    sender, _ = guard(store)
    sender.send(mail(automatic=False))
    assert store.slots == [] and store.recorded[0][0].automatic is False
    sender.send(mail())
    assert store.recorded[1][0].automatic is True


def test_the_message_id_is_recorded_without_its_brackets_and_otherwise_as_given() -> None:
    store = CountingStore()
    sender = GuardedMailer(KeepingMailer(), store, clock=FixedClock(AT), settings=SETTINGS,
                           message_id_of=lambda pid: "<X-1@MX>")
    assert sender.send(mail()) == "<X-1@MX>" and store.recorded[0][0].message_id == "X-1@MX"
