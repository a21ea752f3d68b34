"""The delivery guard (services/outbound.py) and the threaded acknowledgement (services/email_threads.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from amends.adapters.ses import ses_message_id
from amends.domain.clock import FixedClock
from amends.domain.model import Actor, Channel, open_case
from amends.domain.outgoing_mail import OutgoingMail
from amends.domain.sent_mail import TOKEN_LENGTH, token_in
from amends.services import notifications
from amends.services.outbound import GuardedMailer, MailRefused
from amends.settings import Settings

from tests.unit.conftest import make_submission
from tests.unit.memory import MemoryCaseRepository

from .memory_mail import KeepingMailer, MemorySentMail

T0 = datetime(2026, 7, 1, 9, 5, tzinfo=UTC)
REF = "CMP-2026-7K3F9Q"
SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com",
                    reply_address="complaints@example.com", automatic_mail_per_hour=2)


def guard(store: MemorySentMail, at: datetime = T0) -> tuple[GuardedMailer, KeepingMailer]:
    mailer = KeepingMailer()
    return GuardedMailer(mailer, store, clock=FixedClock(at), settings=SETTINGS,
                         message_id_of=lambda pid: ses_message_id(pid, "eu-west-2")), mailer


def mail(**fields: object) -> OutgoingMail:
    return OutgoingMail(**{"to": "ada@example.com", "subject": "s", "text": "t", "case_reference": REF,
                           "kind": "acknowledgement", **fields})  # type: ignore[arg-type]


def test_sent_mail_is_recorded_by_the_message_id_ses_gives_it() -> None:
    store = MemorySentMail()
    sender, _ = guard(store)
    message_id = sender.send(mail())
    assert message_id == "<0100018c-0001@eu-west-2.amazonses.com>"
    sent = store.find_sent("0100018c-0001@eu-west-2.amazonses.com")
    assert sent and (sent.case_reference, sent.kind, sent.to, sent.sent_at) == (REF, "acknowledgement",
                                                                                "ada@example.com", T0)
    assert ses_message_id("abc", "us-east-1") == "<abc@email.amazonses.com>"


def test_an_undeliverable_address_is_not_mailed() -> None:
    store = MemorySentMail()
    store.mark_undeliverable("ADA@example.com", "bounced 5.1.1", T0)
    sender, mailer = guard(store)
    with pytest.raises(MailRefused, match="undeliverable: bounced 5.1.1"):
        sender.send(mail(automatic=False))
    assert mailer.sent == [] and store.sent == {}


def test_mail_to_staff_at_their_directory_address_is_not_held_back_by_the_hourly_limit() -> None:
    store = MemorySentMail()
    sender, mailer = guard(store)
    for _ in range(4):  # a supervisor told of four escalations in an hour, with a limit of 2
        sender.send(mail(to="sup-1@example.com", kind="staff_at_risk", to_staff=True))
    assert [m.to for m in mailer.sent] == ["sup-1@example.com"] * 4
    sender.send(mail(to="sup-1@example.com"))
    sender.send(mail(to="sup-1@example.com"))
    with pytest.raises(MailRefused, match="2 automatic emails this hour"):  # other automatic mail still counts
        sender.send(mail(to="sup-1@example.com"))


def test_automatic_mail_is_rate_limited_per_address_and_hour_but_a_persons_mail_is_not() -> None:
    store = MemorySentMail()
    sender, mailer = guard(store)
    sender.send(mail())
    sender.send(mail())
    with pytest.raises(MailRefused, match="2 automatic emails this hour"):
        sender.send(mail())
    sender.send(mail(to="bo@example.com"))  # another address has its own budget
    sender.send(mail(automatic=False, kind="staff_reply"))  # a person's reply is never held back
    later, _ = guard(store, T0 + timedelta(hours=1))
    later.send(mail())  # the next hour, a new budget
    assert [m.to for m in mailer.sent] == ["ada@example.com"] * 2 + ["bo@example.com", "ada@example.com"]


def emailed_case(repo: MemoryCaseRepository, store: MemorySentMail) -> None:
    change = open_case(reference=REF, access_token_hash="x" * 64, submission=make_submission(), channel=Channel.EMAIL,
                       actor=Actor(kind="complainant", id="complainant"), received_at=T0, received_at_local=T0)
    repo.record(change)
    store.origins[REF] = ("CAF-123@mail.example.com", "Charged twice")


def test_the_acknowledgement_of_an_emailed_complaint_answers_that_email() -> None:
    repo, store = MemoryCaseRepository(), MemorySentMail()
    emailed_case(repo, store)
    sender, mailer = guard(store)
    outcome = notifications.send_acknowledgement(REF, repo=repo, mailer=sender, settings=SETTINGS, threads=store)
    assert outcome.sent
    [ack] = mailer.sent
    assert ack.in_reply_to == "<CAF-123@mail.example.com>" and ack.references == ("<CAF-123@mail.example.com>",)
    assert ack.subject == f"Re: Charged twice [{REF}]" and ack.automatic
    token = token_in((ack.reply_to or "",), "complaints@example.com")
    assert token and len(token) == TOKEN_LENGTH and store.case_of_token(token) == REF
    assert REF.split("-")[-1].lower() not in token  # the token is drawn at random, not made from the reference


def test_a_refused_acknowledgement_says_why_and_sends_nothing() -> None:
    repo, store = MemoryCaseRepository(), MemorySentMail()
    emailed_case(repo, store)
    store.mark_undeliverable("ada@example.com", "bounced", T0)
    sender, mailer = guard(store)
    outcome = notifications.send_acknowledgement(REF, repo=repo, mailer=sender, settings=SETTINGS, threads=store)
    assert not outcome.sent and "undeliverable" in outcome.detail and mailer.sent == []


def test_after_a_reply_our_next_mail_answers_it_in_the_same_thread() -> None:
    repo, store = MemoryCaseRepository(), MemorySentMail()
    emailed_case(repo, store)
    store.latest[REF] = "reply-2@mail.example.com"
    from amends.services import email_threads

    mail_out = email_threads.threaded(mail(automatic=False, kind="staff_reply", subject="Your complaint"),
                                      repo.get(REF), store=store, settings=SETTINGS)
    assert mail_out.in_reply_to == "<reply-2@mail.example.com>"
    assert mail_out.references == ("<CAF-123@mail.example.com>", "<reply-2@mail.example.com>")
    assert mail_out.subject == f"Re: Charged twice [{REF}]"
