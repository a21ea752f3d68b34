"""Reading inbound mail without the stack: a corpus of tricky messages (tests/mail/corpus), the loop rules one by
one, CFPB narratives sent as real-world emails, and arbitrary bytes, which never make ingestion raise."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from amends.domain.inbound_mail import read_mail
from amends.domain.mail_log import MailLogEntry, MailOutcome
from amends.domain.mail_loops import automatic_mail
from amends.services import email_intake
from amends.services.ports import MailAlreadyClaimed, MailPage
from amends.settings import Settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).parent / "corpus"
CFPB = Path("/work/shared/data/cfpb/complaints_sample.csv")


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class MemoryMailLog:
    """The MailLog port in memory: the claim and the entry are kept as the adapter's transaction keeps them."""

    def __init__(self) -> None:
        self.entries: dict[str, MailLogEntry] = {}
        self.claims: dict[str, str] = {}
        self.cases: list = []

    def get(self, ses_message_id):
        return self.entries.get(ses_message_id)

    def record(self, entry):
        return self.entries.setdefault(entry.ses_message_id, entry)

    def record_case(self, change, entry, *, message_id_key):
        if entry.ses_message_id in self.entries:
            raise MailAlreadyClaimed(None, ses_message_id_seen=True)
        if message_id_key in self.claims:
            raise MailAlreadyClaimed(self.claims[message_id_key])
        if message_id_key:
            self.claims[message_id_key] = change.case.reference
        self.cases.append(change.case)
        self.entries[entry.ses_message_id] = entry
        return entry

    def settle(self, entry, *, was):
        stored = self.entries.get(entry.ses_message_id)
        if stored is not None and stored.outcome is was:
            self.entries[entry.ses_message_id] = stored = entry
        return stored or entry

    def list_mail(self, query):
        return MailPage(list(self.entries.values()), None)


SETTINGS = Settings(table_name="t", event_bus_name="b")


def ingest(raw: bytes, ses_id: str = "ses-1", **verdicts: str) -> tuple[MailLogEntry, MemoryMailLog]:
    log = MemoryMailLog()
    receipt = email_intake.Receipt(ses_message_id=ses_id, raw_key=f"inbound/{ses_id}", received_at=FixedClock().now(),
                                   verdicts=verdicts)
    return email_intake.ingest(raw, receipt, mail_log=log, clock=FixedClock(), settings=SETTINGS), log


EXPECTED = {
    "rfc2047_headers.eml": ("case_created", "Factura incorrecta été", "Mi factura está mal."),
    "unknown_charset.eml": ("case_created", "Unknown charset", "Café au lait was cold."),
    "wrong_charset.eml": ("case_created", "Wrong charset", "The naïve clerk said “no”."),
    "undeclared_8bit.eml": ("case_created", "No charset, 8bit", "Müller says the fee was € 20."),
    "rfc2231_attachment.eml": ("case_created", "With an RFC 2231 attachment name", "See the attached statement."),
    "missing_subject_and_date.eml": ("case_created", "", "No subject here, and no date either."),
    "missing_from.eml": ("quarantined", "Who am I", None),
    "html_only.eml": ("case_created", "HTML only", "My account was closed."),
    "nested_rfc822.eml": ("case_created", "Fwd: my earlier complaint", "The original complaint text."),
    "malformed_mime.eml": ("case_created", "Broken MIME", None),
    "alternative.eml": ("case_created", "Alternative", "The plain text wins."),
    "broken_encoded_words.eml": ("case_created", None, "Headers are odd."),
    "empty_body.eml": ("case_created", "Empty", ""),
    "garbage.eml": ("quarantined", None, None),
    "utf16_body.eml": ("case_created", "😡 Angry", "Hi there"),
    "auto_outlook_oof.eml": ("auto_reply_ignored", None, None),
    "auto_list.eml": ("auto_reply_ignored", None, None),
    "auto_bulk.eml": ("auto_reply_ignored", None, None),
    "auto_bounce.eml": ("auto_reply_ignored", None, None),
    "auto_x_autoreply.eml": ("auto_reply_ignored", None, None),
    "tnef_winmail.eml": ("case_created", "Statement attached (Outlook)", "The statement and my notes are attached."),
    "numerous_attachments.eml": ("case_created", "Thirty receipts", "Every receipt since March is attached."),
}


def test_every_corpus_message_is_expected() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    outcome, subject, text = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    entry, log = ingest(raw)
    assert entry.outcome == outcome, entry.reason
    mail = read_mail(raw)
    if subject is not None:
        assert mail.subject == subject
    if text is not None:
        assert text in mail.text if text else mail.text == ""
    if outcome == "case_created":
        [case] = log.cases
        assert case.channel == "email" and case.submission.complainant.email == mail.sender_address
        assert case.submission.description.strip()
    else:
        assert entry.reason and entry.case_reference is None and entry.raw_key == "inbound/ses-1"


def test_html_only_mail_loses_its_scripts_and_styles() -> None:
    text = read_mail((CORPUS / "html_only.eml").read_bytes()).text
    assert "alert" not in text and "color" not in text and "Please reopen it." in text


def test_the_same_message_id_twice_makes_one_case_and_a_redelivery_nothing_new() -> None:
    log = MemoryMailLog()
    raw = (CORPUS / "alternative.eml").read_bytes()
    receipts = [email_intake.Receipt(ses_message_id=s, raw_key=s, received_at=FixedClock().now())
                for s in ("a", "b", "a")]
    out = [email_intake.ingest(raw, r, mail_log=log, clock=FixedClock(), settings=SETTINGS) for r in receipts]
    assert [e.outcome for e in out] == ["case_created", "duplicate", "case_created"]
    assert len(log.cases) == 1 and out[1].case_reference == out[0].case_reference


@pytest.mark.parametrize(("headers", "why"), [
    ({"auto-submitted": "auto-replied"}, "Auto-Submitted"),
    ({"auto-submitted": "auto-generated; owner-email=x@example.com"}, "Auto-Submitted"),
    ({"precedence": "junk"}, "Precedence"), ({"precedence": "list"}, "Precedence"),
    ({"precedence": "auto_reply"}, "Precedence"),
    ({"list-unsubscribe": "<mailto:u@example.com>"}, "mailing list"), ({"list-id": "<l.example.com>"}, "mailing list"),
    ({"x-autorespond": "yes"}, "automatic reply"), ({"x-autogenerated": "Reply"}, "automatic reply"),
    ({"x-auto-response-suppress": "OOF, AutoReply"}, "X-Auto-Response-Suppress"), ({"x-loop": "x"}, "automatic"),
    ({"return-path": "<>"}, "Return-Path"),
])
def test_each_loop_rule(headers: dict[str, str], why: str) -> None:
    assert why in (automatic_mail(headers, "someone@example.com") or "")


@pytest.mark.parametrize("headers", [{}, {"auto-submitted": "no"}, {"precedence": "first-class"},
                                     {"x-auto-response-suppress": "DR"}, {"return-path": "<ada@example.com>"}])
def test_a_person_s_mail_is_not_automatic(headers: dict[str, str]) -> None:
    assert automatic_mail(headers, "ada@example.com") is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.net", "postmaster@example.com", "no-reply@example.com"])
def test_robot_senders_are_automatic(sender: str) -> None:
    assert automatic_mail({}, sender)


@pytest.mark.parametrize(("verdicts", "outcome"), [
    ({"virus": "FAIL"}, "quarantined"), ({"spam": "FAIL"}, "quarantined"), ({"dmarc": "FAIL"}, "quarantined"),
    ({"spam": "GRAY", "spf": "FAIL", "dkim": "FAIL"}, "case_created"), ({"virus": "PROCESSING_FAILED"}, "case_created"),
])
def test_verdicts(verdicts: dict[str, str], outcome: str) -> None:
    assert ingest((CORPUS / "alternative.eml").read_bytes(), **verdicts)[0].outcome == outcome


def cfpb_narratives(n: int) -> list[tuple[str, str]]:
    if not CFPB.exists():
        return []
    with CFPB.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["Consumer complaint narrative"].strip()]
    return [(r["Issue"], r["Consumer complaint narrative"]) for r in rows[:n]]


@pytest.mark.skipif(not CFPB.exists(), reason="the CFPB sample is not on this machine")
@pytest.mark.parametrize(("issue", "narrative"), cfpb_narratives(5))
def test_real_complaints_as_emails(issue: str, narrative: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "A Consumer <c@example.com>", "complaints@example.com", issue
    message.add_alternative(narrative, subtype="plain")
    message.add_alternative(f"<p>{narrative}</p>", subtype="html")
    entry, log = ingest(message.as_bytes())
    assert entry.outcome == "case_created"
    assert " ".join(narrative.split())[:200] in " ".join(log.cases[0].submission.description.split())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_ingesting_arbitrary_bytes_never_raises(raw: bytes) -> None:
    assert ingest(raw)[0].outcome in set(MailOutcome)


HEADERS = st.sampled_from(["From", "Subject", "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
                           "Message-ID", "Reply-To", "Auto-Submitted", "Content-Disposition"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(HEADERS, st.binary(max_size=80)), max_size=8), st.binary(max_size=2000))
def test_ingesting_mail_shaped_bytes_never_raises(headers: list[tuple[str, bytes]], body: bytes) -> None:
    raw = b"".join(name.encode() + b": " + value.replace(b"\n", b" ") + b"\r\n" for name, value in headers)
    assert ingest(raw + b"\r\n" + body)[0].outcome in set(MailOutcome)


def test_a_very_long_email_still_becomes_a_case() -> None:
    message = EmailMessage()
    message["From"], message["Subject"] = "ada@example.com", "Long"
    message.set_content("word " * 60_000)
    entry, log = ingest(message.as_bytes())
    assert entry.outcome == "case_created" and len(log.cases[0].submission.description) <= 100_000
