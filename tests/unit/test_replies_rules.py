"""Replies and bounces on their cases (amends.services.replies) beyond tests/mail/test_replies.py: the text kept of a
reply, the last moment of the reopen window, the reasons written in the mail log and on the case, the address a
bounce marks, the links made for a reply that opens a new case, and what a busy case or a taken Message-ID does."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from amends.domain.clock import FixedClock
from amends.domain.handling import LinkRelation
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailOutcome
from amends.domain.model import Representative
from amends.domain.sent_mail import SentMail
from amends.services import email_intake, replies
from amends.settings import Settings

from tests.mail.memory_mail import CaseMailLog, MemorySentMail

from .cases import T0, opening, walk
from .memory import MemoryCaseRepository

REF = "CMP-2026-7K3F9Q"
OURS = "0100018c-aaaa@eu-west-2.amazonses.com"
SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com",
                    reopen_window_days=56)


class Desk:
    def __init__(self, status: Status = Status.INVESTIGATING, **submission: object) -> None:
        first = opening(REF, **submission)
        self.repo = MemoryCaseRepository()
        self.repo.record(first)
        for change in walk(status, first.case)[1]:
            self.repo.record(change)
        self.store = MemorySentMail()
        self.store.record_sent(SentMail(message_id=OURS, case_reference=REF, kind="decision", to="Ada@Example.com",
                                        sent_at=T0))
        self.log = CaseMailLog(self.repo)

    def ingest(self, raw: bytes, ses_id: str = "ses-1", at=T0 + timedelta(days=1), recipients=()):
        receipt = email_intake.Receipt(ses_message_id=ses_id, raw_key=ses_id, received_at=at, recipients=recipients)
        return email_intake.ingest(raw, receipt, mail_log=self.log, clock=FixedClock(at), settings=SETTINGS,
                                   desk=replies.MailDesk(store=self.store, repo=self.repo))


def reply(body: str = "It was the current account.", *, sender: str = "ada@example.com", subject: str = "Re: x",
          in_reply_to: str | None = f"<{OURS}>", message_id: str = "<r1@mail.example>") -> bytes:
    m = EmailMessage()
    m["From"], m["Subject"], m["Message-ID"] = sender, subject, message_id
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    m.set_content(body)
    return m.as_bytes()


def test_the_text_kept_is_the_new_part_or_else_the_whole_text() -> None:
    assert replies.reply_text("Thanks.\n\nOn Wed, 1 Jul 2026, Complaints wrote:\n> old\n") == "Thanks."
    assert replies.reply_text("  just this  \n") == "just this"
    assert replies.reply_text("x" * 100_050) == "x" * 100_000


def test_a_reply_is_added_with_the_reason_it_matched() -> None:
    desk = Desk()
    entry = desk.ingest(reply())
    assert (entry.outcome, entry.case_reference, entry.reason) == (
        MailOutcome.ADDED_TO_CASE, REF, f"In-Reply-To names our message <{OURS}> (decision)")
    last = desk.repo.timelines[REF][-1]
    assert (last.action, last.body, last.at) == ("add_message", "It was the current account.", T0 + timedelta(days=1))


def test_a_reply_with_no_text_is_added_saying_so() -> None:
    desk = Desk()
    desk.ingest(reply(""))
    assert desk.repo.timelines[REF][-1].body == replies.EMPTY_REPLY == (
        "(The email had no new text above the quoted message; the raw message is kept.)")


def test_the_token_is_looked_for_on_the_sender_address_when_there_is_no_reply_address() -> None:
    desk = Desk()
    token = desk.store.reply_token(REF)
    entry = desk.ingest(reply(in_reply_to=None), recipients=(f"complaints+{token}@example.com",))
    assert (entry.outcome, entry.reason) == (MailOutcome.ADDED_TO_CASE, "sent to the case's reply address")


def test_a_token_whose_case_is_gone_opens_a_new_case() -> None:
    desk = Desk()
    desk.store.tokens["CMP-2026-ZZZZZZ"] = "abcdefghijkmnpqr"
    entry = desk.ingest(reply(in_reply_to=None), recipients=("complaints+abcdefghijkmnpqr@example.com",))
    assert entry.outcome is MailOutcome.CASE_CREATED and entry.reason is None and desk.repo.get(entry.case_reference)


def test_a_representative_writing_with_the_reference_in_the_subject_reaches_the_case() -> None:
    desk = Desk(representative=Representative(name="Bo", email="bo@law.example", relationship="solicitor"))
    entry = desk.ingest(reply(sender="bo@law.example", subject=f"Re: {REF}", in_reply_to=None))
    assert (entry.outcome, entry.reason) == (MailOutcome.ADDED_TO_CASE, f"subject names {REF}, sent by its complainant")


def test_a_closed_case_takes_a_reply_until_the_last_moment_of_its_reopen_window() -> None:
    desk = Desk(Status.CLOSED)
    entry = desk.ingest(reply(), at=T0 + timedelta(days=56))
    assert entry.outcome is MailOutcome.ADDED_TO_CASE
    assert entry.reason == f"In-Reply-To names our message <{OURS}> (decision); the case is closed: flagged for staff"


def test_after_the_window_the_reply_opens_a_new_case_linked_both_ways_saying_why() -> None:
    desk = Desk(Status.CLOSED)
    at = T0 + timedelta(days=56, seconds=1)
    entry = desk.ingest(reply(), at=at)
    why = (f"In-Reply-To names our message <{OURS}> (decision), but it is closed and its reopen window has ended: "
           "opened as a new case linked to it")
    assert (entry.outcome, entry.reason) == (MailOutcome.CASE_CREATED, why)
    new = entry.case_reference
    for this, other in ((new, REF), (REF, new)):
        [link] = desk.repo.get(this).links
        assert (link.reference, link.relation, link.linked_by, link.linked_at) == (other, LinkRelation.RELATED,
                                                                                    "mail", at)
        last = desk.repo.timelines[this][-1]
        assert (last.body, last.actor.id, last.complainant_visible) == (f"Email link: {why}", "mail", False)


def test_linking_again_adds_no_second_link_and_other_outcomes_link_nothing() -> None:
    desk = Desk(Status.CLOSED)
    entry = desk.ingest(reply(), at=T0 + timedelta(days=60))
    link = replies.LinkTo(REF, "again")
    assert replies.link_new_case(entry, link, repo=desk.repo, at=T0) == entry
    assert len(desk.repo.get(REF).links) == 1 and len(desk.repo.get(entry.case_reference).links) == 1
    duplicate = entry.model_copy(update={"outcome": MailOutcome.DUPLICATE})
    assert replies.link_new_case(duplicate, replies.LinkTo("CMP-2026-ZZZZZZ", "x"), repo=desk.repo, at=T0) == duplicate
    assert replies.link_new_case(entry.model_copy(update={"case_reference": None}), replies.LinkTo("CMP-2026-ZZZZZZ", "x"),
                                 repo=desk.repo, at=T0).case_reference is None


def dsn(action: str = "failed", status: str = "5.1.1", recipient: str = "ada@example.com",
        original: str = OURS) -> bytes:
    return ("From: MAILER-DAEMON@example.net\r\nMIME-Version: 1.0\r\nMessage-ID: <dsn@x>\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n\r\n"
            f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original}>\r\n\r\n--b--\r\n").encode()


def test_a_permanent_bounce_marks_the_address_we_mailed_and_says_so_on_the_case() -> None:
    desk = Desk()
    entry = desk.ingest(dsn())
    why = f"bounce of our decision <{OURS}>: ada@example.com: failed 5.1.1; address marked undeliverable"
    assert (entry.outcome, entry.case_reference, entry.reason) == (MailOutcome.BOUNCE_RECORDED, REF, why)
    assert desk.store.bad == {"ada@example.com": "bounced (ada@example.com: failed 5.1.1)"}
    assert desk.repo.timelines[REF][-1].reason == why


def test_a_delay_is_recorded_without_marking_anyone() -> None:
    desk = Desk()
    entry = desk.ingest(dsn("delayed", "4.4.7"))
    assert entry.reason == f"bounce of our decision <{OURS}>: ada@example.com: delayed 4.4.7" and desk.store.bad == {}


def test_a_bounce_about_mail_of_no_case_is_an_automatic_mail() -> None:
    desk = Desk()
    desk.store.record_sent(SentMail(message_id="staff@x", case_reference=None, kind="staff_assigned",
                                    to="ada@example.com", sent_at=T0))
    entry = desk.ingest(dsn(original="staff@x"))
    assert entry.outcome is MailOutcome.AUTO_REPLY_IGNORED and desk.store.bad == {}


def test_a_reply_taken_in_already_under_its_message_id_is_a_duplicate_saying_so() -> None:
    desk = Desk()
    desk.ingest(reply())
    again = desk.ingest(reply(), ses_id="ses-2")
    assert (again.outcome, again.case_reference, again.reason) == (
        MailOutcome.DUPLICATE, REF, "Message-ID r1@mail.example was taken in already")


def test_a_case_that_keeps_changing_fails_the_reply_for_lambda_to_retry() -> None:
    desk = Desk()
    desk.repo.races = 3
    with pytest.raises(RuntimeError) as failed:
        desk.ingest(reply())
    assert str(failed.value) == f"case {REF} kept changing while a reply was being added; Lambda retries the message"


def test_a_case_that_changed_twice_still_takes_the_reply() -> None:
    desk = Desk()
    desk.repo.races = 2
    entry = desk.ingest(reply())
    assert entry.outcome is MailOutcome.ADDED_TO_CASE
    assert [e.action for e in desk.repo.timelines[REF]].count("add_message") == 1


def test_a_reply_the_parser_cannot_read_is_kept_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import mailparser_reply

    class Broken:
        def __init__(self, **kwargs: object) -> None:
            raise ValueError("unreadable")

    monkeypatch.setattr(mailparser_reply, "EmailReplyParser", Broken)
    assert replies.reply_text("  Thanks.\n> old\n") == "Thanks.\n> old"


def test_a_reply_to_a_closed_case_keeps_its_text() -> None:
    desk = Desk(Status.CLOSED)
    desk.ingest(reply("Still not fixed."), at=T0 + timedelta(days=3))
    assert desk.repo.timelines[REF][-1].body == "Still not fixed."


def test_a_redelivery_that_raced_the_reply_gives_its_own_entry() -> None:
    desk = Desk()
    theirs = desk.ingest(reply())  # the same SES message, taken in by another invocation

    class Raced(CaseMailLog):
        looks = 0

        def get(self, ses_message_id):
            self.looks += 1
            return None if self.looks == 1 else super().get(ses_message_id)

    desk.log = Raced(desk.repo)
    desk.log.entries = {theirs.ses_message_id: theirs}
    assert desk.ingest(reply()) is theirs
    assert [e.action for e in desk.repo.timelines[REF]].count("add_message") == 1
