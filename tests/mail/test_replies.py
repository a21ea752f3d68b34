"""Replies and bounces on their cases (services/replies.py through email_intake.ingest), without the stack: what
each status does with a reply, the stripped text, and DSNs (RFC 3464) read one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from amends.domain.bounces import read_bounce
from amends.domain.clock import FixedClock
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailOutcome
from amends.domain.sent_mail import SentMail
from amends.services import email_intake, replies
from amends.settings import Settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.cases import T0, opening, walk
from tests.unit.memory import MemoryCaseRepository

from .memory_mail import CaseMailLog, MemorySentMail

REF = "CMP-2026-7K3F9Q"
OURS = "0100018c-aaaa@eu-west-2.amazonses.com"
SETTINGS = Settings(table_name="t", event_bus_name="b", sender_address="complaints@example.com",
                    reply_address="complaints@example.com", reopen_window_days=56)
REPLY = """Yes, it was the current account ending 1234.

Kind regards,
Ada

On Wed, 1 Jul 2026 at 10:00, Complaints <complaints@example.com> wrote:
> Dear Ada Lovelace,
> Which account was it?
"""


class Desk:
    def __init__(self, status: Status) -> None:
        _, changes = walk(status)  # the changes after the opening, which is recorded first
        self.repo = MemoryCaseRepository()
        self.repo.record(opening(REF))
        for change in changes:
            self.repo.record(change)
        self.store = MemorySentMail()
        self.store.record_sent(SentMail(message_id=OURS, case_reference=REF, kind="acknowledgement",
                                        to="ada@example.com", sent_at=T0))
        self.log = CaseMailLog(self.repo)

    def ingest(self, raw: bytes, ses_id: str = "ses-r1", at: datetime = T0 + timedelta(days=1),
               recipients: tuple[str, ...] = ("complaints@example.com",)):
        receipt = email_intake.Receipt(ses_message_id=ses_id, raw_key=f"inbound/{ses_id}", received_at=at,
                                       recipients=recipients)
        return email_intake.ingest(raw, receipt, mail_log=self.log, clock=FixedClock(at), settings=SETTINGS,
                                   desk=replies.MailDesk(store=self.store, repo=self.repo))


def reply(body: str = REPLY, *, sender: str = "ada@example.com", subject: str = "Re: We have received your complaint",
          message_id: str = "<r1@mail.example.com>", in_reply_to: str | None = f"<{OURS}>") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"Ada <{sender}>", "complaints@example.com", subject
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(body)
    return message.as_bytes()


def test_a_reply_in_awaiting_complainant_is_a_message_that_resumes_the_investigation() -> None:
    desk = Desk(Status.AWAITING_COMPLAINANT)
    entry = desk.ingest(reply())
    assert (entry.outcome, entry.case_reference) == (MailOutcome.ADDED_TO_CASE, REF)
    assert "In-Reply-To names our message" in (entry.reason or "")
    record = desk.repo.get_with_timeline(REF)
    assert record.case.status is Status.INVESTIGATING and record.case.information_request is None
    last = record.timeline[-1]
    assert last.action == "add_message" and last.actor.kind == "complainant" and last.complainant_visible
    assert last.body == "Yes, it was the current account ending 1234."  # quote and signature stripped


def test_the_same_reply_twice_is_added_once() -> None:
    desk = Desk(Status.INVESTIGATING)
    first = desk.ingest(reply())
    again = desk.ingest(reply())  # redelivered: the same SES message
    other = desk.ingest(reply(), ses_id="ses-r2")  # delivered to another of our addresses
    assert again == first and other.outcome is MailOutcome.DUPLICATE
    assert [e.action for e in desk.repo.timelines[REF]].count("add_message") == 1


def test_a_reply_to_a_closed_case_inside_the_window_is_kept_and_flagged() -> None:
    desk = Desk(Status.CLOSED)
    entry = desk.ingest(reply(), at=T0 + timedelta(days=10))
    assert entry.outcome is MailOutcome.ADDED_TO_CASE and "flagged for staff" in (entry.reason or "")
    case = desk.repo.get(REF)
    assert case.status is Status.CLOSED and desk.repo.timelines[REF][-1].action == "add_message_after_closure"
    assert desk.repo.events_of(REF)[-1] == "MessageAddedAfterClosure"


def test_a_reply_after_the_reopen_window_opens_a_new_case_linked_to_it() -> None:
    desk = Desk(Status.CLOSED)
    entry = desk.ingest(reply(), at=T0 + timedelta(days=60))
    assert entry.outcome is MailOutcome.CASE_CREATED and entry.case_reference != REF
    assert "reopen window has ended" in (entry.reason or "")
    new = desk.repo.get(entry.case_reference)
    assert [link.reference for link in new.links] == [REF]
    assert [link.reference for link in desk.repo.get(REF).links] == [entry.case_reference]
    assert "Email link:" in (desk.repo.timelines[entry.case_reference][-1].body or "")


def test_a_subject_reference_from_a_stranger_opens_a_linked_case_and_says_why() -> None:
    desk = Desk(Status.INVESTIGATING)
    entry = desk.ingest(reply("Me too!", sender="mallory@example.net", subject=f"Re: {REF}", in_reply_to=None))
    assert entry.outcome is MailOutcome.CASE_CREATED and "is not its complainant" in (entry.reason or "")
    assert desk.repo.get(REF).links[0].reference == entry.case_reference
    assert all(e.action != "add_message" for e in desk.repo.timelines[REF])


def test_a_reply_to_the_token_address_without_threading_headers_lands_on_its_case() -> None:
    desk = Desk(Status.INVESTIGATING)
    token = desk.store.reply_token(REF)
    entry = desk.ingest(reply("New info.", subject="hello", in_reply_to=None),
                        recipients=(f"complaints+{token}@example.com",))
    assert (entry.outcome, entry.case_reference) == (MailOutcome.ADDED_TO_CASE, REF)


def dsn(original_id: str = OURS, status: str = "5.1.1", action: str = "failed",
        recipient: str = "ada@example.com") -> bytes:
    return (
        "From: MAILER-DAEMON@eu-west-2.amazonses.com\r\nTo: complaints@example.com\r\n"
        "Subject: Delivery Status Notification (Failure)\r\nMessage-ID: <dsn-1@amazonses.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nAn error occurred while trying to deliver the mail.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; a1-2.smtp-out.eu-west-2.amazonses.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: complaints@example.com\r\nTo: {recipient}\r\nMessage-ID: <{original_id}>\r\nSubject: x\r\n\r\n"
        "--b--\r\n").encode()


def test_a_dsn_is_read_with_its_recipients_and_original_message() -> None:
    bounce = read_bounce(dsn())
    assert bounce and bounce.original_message_id == OURS and bounce.undeliverable == ("ada@example.com",)
    assert bounce.recipients[0].diagnostic == "smtp; 550 5.1.1 user unknown"
    delayed = read_bounce(dsn(status="4.4.7", action="delayed"))
    assert delayed and delayed.undeliverable == ()
    assert read_bounce(reply()) is None


def test_a_bounce_is_recorded_on_the_case_and_stops_mail_to_the_address() -> None:
    desk = Desk(Status.INVESTIGATING)
    entry = desk.ingest(dsn())
    assert (entry.outcome, entry.case_reference) == (MailOutcome.BOUNCE_RECORDED, REF)
    assert "address marked undeliverable" in (entry.reason or "")
    assert desk.store.undeliverable("ada@example.com")
    last = desk.repo.timelines[REF][-1]
    assert last.action == "record_bounce" and not last.complainant_visible


def test_a_bounce_naming_another_recipient_or_not_our_message_marks_nobody() -> None:
    desk = Desk(Status.INVESTIGATING)
    forged = desk.ingest(dsn(recipient="bo@example.com"))
    assert forged.outcome is MailOutcome.BOUNCE_RECORDED and desk.store.bad == {}
    stranger = desk.ingest(dsn(original_id="not-ours@x"), ses_id="ses-r2")
    assert stranger.outcome is MailOutcome.AUTO_REPLY_IGNORED and desk.store.bad == {}


@given(st.binary(max_size=2000) | st.builds(lambda head, body: head + b"\r\n\r\n" + body, st.sampled_from([
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
    b"In-Reply-To: <0100018c-aaaa@eu-west-2.amazonses.com>\r\nFrom: ada@example.com",
    b"Subject: Re: CMP-2026-7K3F9Q\r\nFrom: x@y"]), st.binary(max_size=1000)))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_threading_never_makes_ingestion_raise(raw: bytes) -> None:
    desk = Desk(Status.INVESTIGATING)
    entry = desk.ingest(raw)
    assert entry.outcome in set(MailOutcome)


def test_a_bounce_marks_its_address_as_of_the_clock_and_its_redelivery_changes_nothing() -> None:
    from .test_mail_feedback import DatedMarks

    desk = Desk(Status.INVESTIGATING)
    desk.store = DatedMarks()
    desk.store.record_sent(SentMail(message_id=OURS, case_reference=REF, kind="acknowledgement",
                                    to="ada@example.com", sent_at=T0))
    first = desk.ingest(dsn(), at=T0 + timedelta(days=2))
    assert desk.store.marked_at == {"ada@example.com": T0 + timedelta(days=2)}
    assert desk.ingest(dsn(), at=T0 + timedelta(days=3)) == first  # SES redelivers it: nothing happens again
    assert desk.store.marked_at == {"ada@example.com": T0 + timedelta(days=2)}
