"""A staff reply by email (amends.services.staff_replies): who may reply, to whom it goes (the representative before
the complainant), why it is not sent (no address, no consent, the delivery guard), that it is a person's mail in
the case's thread, and that what was sent is on the timeline, even when the case changed meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from amends.domain.clock import FixedClock
from amends.domain.errors import Forbidden, ReplyNotSent
from amends.domain.model import Channel, Consent, ContactChannel, Person, Representative, open_case
from amends.services.outbound import GuardedMailer
from amends.services.staff_replies import send_reply
from amends.settings import Settings

from tests.mail.memory_mail import KeepingMailer, MemorySentMail

from .cases import AUDITOR, COMPLAINANT, HANDLER
from .conftest import T0, make_submission
from .memory import MemoryCaseRepository

REF = "CMP-2026-7K3F9Q"
SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com")
NOW = T0 + timedelta(days=2)


def desk(channel: Channel = Channel.WEB, **submission: object):
    repo, store, mailer = MemoryCaseRepository(), MemorySentMail(), KeepingMailer()
    repo.record(open_case(reference=REF, access_token_hash="x" * 64, submission=make_submission(**submission),
                          channel=channel, actor=COMPLAINANT, received_at=T0, received_at_local=T0))
    return repo, store, mailer


def reply(repo, store, mailer, text: str = "We have refunded the fee.", actor=HANDLER, reference: str = REF):
    return send_reply(reference, text, actor, repo=repo, mailer=mailer, threads=store, clock=FixedClock(NOW),
                      settings=SETTINGS)


def test_the_reply_goes_to_the_complainant_as_a_persons_mail_about_the_case() -> None:
    repo, store, mailer = desk()
    case, entry, mail, message_id = reply(repo, store, mailer, reference=REF.lower())
    assert message_id == "0100018c-0001" and mailer.sent == [mail]
    assert (mail.to, mail.text, mail.automatic, mail.case_reference, mail.kind) == (
        "ada@example.com", "We have refunded the fee.", False, REF, "staff_reply")
    assert mail.subject == f"Your complaint {REF}"
    assert mail.reply_to == f"complaints+{store.tokens[REF]}@example.com"


def test_the_reply_is_on_the_timeline_saying_where_it_went() -> None:
    repo, store, mailer = desk()
    case, entry, _, _ = reply(repo, store, mailer)
    assert (entry.action, entry.body, entry.at, entry.actor, entry.complainant_visible) == (
        "staff_reply", "We have refunded the fee.", NOW, HANDLER, True)
    assert entry.reason == "Sent by email to ada@example.com as 0100018c-0001"
    assert repo.get(REF) == case and repo.timelines[REF][-1] == entry


def test_a_representative_gets_the_reply_instead_of_the_complainant() -> None:
    rep = Representative(name="Bo", email="bo@law.example", relationship="solicitor")
    repo, store, mailer = desk(representative=rep)
    _, entry, mail, _ = reply(repo, store, mailer)
    assert mail.to == "bo@law.example" and entry.reason == "Sent by email to bo@law.example as 0100018c-0001"


def test_an_emailed_case_is_answered_in_its_thread() -> None:
    repo, store, mailer = desk(Channel.EMAIL)
    store.origins[REF] = ("CAF-1@mail.example", "Charged twice")
    _, _, mail, _ = reply(repo, store, mailer)
    assert (mail.subject, mail.in_reply_to) == (f"Re: Charged twice [{REF}]", "<CAF-1@mail.example>")


def test_an_auditor_may_not_reply() -> None:
    repo, store, mailer = desk()
    with pytest.raises(Forbidden) as refused:
        reply(repo, store, mailer, actor=AUDITOR)
    assert str(refused.value) == ("Auditors have read-only access; replying needs the handler, supervisor, manager or "
                                  "admin role.")
    assert mailer.sent == []


def test_no_email_address_says_whose_and_which_channel_to_use() -> None:
    repo, store, mailer = desk(complainant=Person(name="Ada", phone="0123"),
                               preferred_contact_channel=ContactChannel.PHONE)
    with pytest.raises(ReplyNotSent) as refused:
        reply(repo, store, mailer)
    assert str(refused.value) == (f"Complaint {REF} has no email address for the complainant: reply by phone "
                                  "instead.")
    rep = Representative(name="Bo", postal_address="1 High St", relationship="solicitor")
    repo, store, mailer = desk(representative=rep, preferred_contact_channel=ContactChannel.POST)
    with pytest.raises(ReplyNotSent) as refused:
        reply(repo, store, mailer)
    assert str(refused.value) == (f"Complaint {REF} has no email address for the representative: reply by post "
                                  "instead.")
    assert mailer.sent == []


def test_without_consent_to_contact_nothing_is_sent() -> None:
    repo, store, mailer = desk(consent=Consent(contact=False))
    with pytest.raises(ReplyNotSent) as refused:
        reply(repo, store, mailer)
    assert str(refused.value) == f"The complainant of {REF} did not agree to be contacted."
    assert mailer.sent == [] and len(repo.timelines[REF]) == 1


def test_a_refusal_of_the_delivery_guard_is_the_reason_and_nothing_is_recorded() -> None:
    repo, store, keeping = desk()
    store.mark_undeliverable("ada@example.com", "bounced", T0)
    guard = GuardedMailer(keeping, store, clock=FixedClock(NOW), settings=SETTINGS, message_id_of=lambda m: m)
    with pytest.raises(ReplyNotSent) as refused:
        reply(repo, store, guard)
    assert str(refused.value) == "ada@example.com is marked undeliverable: bounced"
    assert keeping.sent == [] and len(repo.timelines[REF]) == 1


def test_a_case_changed_meanwhile_still_gets_the_reply_recorded_once_and_sent_once() -> None:
    repo, store, mailer = desk()
    repo.races = 1
    case, entry, _, _ = reply(repo, store, mailer)
    assert len(mailer.sent) == 1
    assert [e.action for e in repo.timelines[REF]].count("staff_reply") == 1 and case.version == entry.seq == 3
