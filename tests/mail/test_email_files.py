"""An email's files onto its case (services/email_files.py through email_intake.ingest), without the stack: stored
by case and SHA-256 before the case is written, listed on it once each, those over a limit listed with why; a reply's
files join its case and its message names them."""

from __future__ import annotations

import email
import email.policy
import hashlib
from datetime import timedelta
from email.message import EmailMessage

from amends.domain.clock import FixedClock
from amends.domain.lifecycle import Status
from amends.domain.mail_log import MailOutcome
from amends.services import email_intake, replies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_replies import REF, SETTINGS, Desk, reply

PDF = b"%PDF-1.4 statement %%EOF"


class MemoryFiles:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, str, str]] = {}

    def put(self, reference, sha256, data, *, filename, content_type):
        assert hashlib.sha256(data).hexdigest() == sha256
        self.objects[reference, sha256] = (data, filename, content_type)

    def link(self, reference, sha256, *, filename, content_type, expires_in):
        return f"https://files.example/{reference}/{sha256}?expires={expires_in}"


def new_complaint(*files: tuple[str, bytes]) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "Bo <bo@example.com>", "complaints@example.com", "Charged twice"
    mail["Message-ID"] = "<n1@mail.example.com>"
    mail.set_content("See the statement.")
    for name, data in files:
        mail.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return mail.as_bytes()


def ingest(desk: Desk, raw: bytes, store: MemoryFiles, ses_id: str = "ses-f1", settings=SETTINGS):
    at = desk.repo.get(REF).updated_at + timedelta(days=1)
    receipt = email_intake.Receipt(ses_message_id=ses_id, raw_key=f"inbound/{ses_id}", received_at=at,
                                   recipients=("complaints@example.com",))
    return email_intake.ingest(raw, receipt, mail_log=desk.log, clock=FixedClock(at), settings=settings,
                               desk=replies.MailDesk(store=desk.store, repo=desk.repo), files=store)


def test_a_new_cases_files_are_stored_for_it_and_listed_on_it() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    entry = ingest(desk, new_complaint(("statement.pdf", PDF), ("again.pdf", PDF), ("notes.txt", b"n")), store)
    assert entry.outcome is MailOutcome.CASE_CREATED
    case = desk.repo.get(entry.case_reference)
    digest = hashlib.sha256(PDF).hexdigest()
    assert [(f.filename, f.size_bytes, f.sha256) for f in case.files] == [
        ("statement.pdf", len(PDF), digest), ("notes.txt", 1, hashlib.sha256(b"n").hexdigest())]  # same bytes: once
    assert store.objects[entry.case_reference, digest] == (PDF, "statement.pdf", "application/octet-stream")
    assert case.files[0].added_at == case.received_at and case.files_left_out == ()
    assert entry.reason == ("Attached: statement.pdf (application/octet-stream, 24 bytes); "
                            "notes.txt (application/octet-stream, 1 bytes)")


def test_files_over_the_limit_are_listed_on_the_case_with_why() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    strict = SETTINGS.model_copy(update={"attachment_max_count": 1})
    entry = ingest(desk, new_complaint(("statement.pdf", PDF), ("notes.txt", b"n")), store, settings=strict)
    case = desk.repo.get(entry.case_reference)
    assert [f.filename for f in case.files] == ["statement.pdf"] and len(store.objects) == 1
    assert [(f.filename, f.why) for f in case.files_left_out] == [("notes.txt", "more than 1 files in one message")]
    assert "Not kept: notes.txt (more than 1 files in one message)" in entry.reason


def reply_with_file(raw: bytes, file: tuple[str, bytes]) -> bytes:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message.add_attachment(file[1], maintype="application", subtype="pdf", filename=file[0])
    return message.as_bytes()


def test_a_replys_files_join_its_case_and_its_message_names_them() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    entry = ingest(desk, reply_with_file(reply(), ("receipt.pdf", PDF)), store)
    assert (entry.outcome, entry.case_reference) == (MailOutcome.ADDED_TO_CASE, REF)
    record = desk.repo.get_with_timeline(REF)
    assert [f.filename for f in record.case.files] == ["receipt.pdf"]
    assert record.timeline[-1].body == ("Yes, it was the current account ending 1234.\n\n"
                                        "Attached: receipt.pdf (application/pdf, 24 bytes)")
    ingest(desk, reply_with_file(reply(message_id="<r2@mail.example.com>"), ("receipt.pdf", PDF)), store, "ses-f2")
    assert [f.filename for f in desk.repo.get(REF).files] == ["receipt.pdf"]  # the same file again: listed once


def test_a_reply_with_only_a_file_is_a_message_naming_it() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    ingest(desk, reply_with_file(reply(body=""), ("receipt.pdf", PDF)), store)
    assert desk.repo.get_with_timeline(REF).timeline[-1].body == "Attached: receipt.pdf (application/pdf, 24 bytes)"


def test_the_corpus_files_become_the_cases_files() -> None:
    from pathlib import Path

    corpus = Path(__file__).parent / "corpus"
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    outlook = desk.repo.get(ingest(desk, (corpus / "tnef_winmail.eml").read_bytes(), store, "ses-t").case_reference)
    assert [(f.filename, f.content_type) for f in outlook.files] == [("statement.pdf", "application/pdf"),
                                                                     ("notes.txt", "text/plain")]
    many = ingest(desk, (corpus / "numerous_attachments.eml").read_bytes(), store, "ses-m").case_reference
    many = desk.repo.get(many)
    assert len(many.files) == 20
    assert [f.filename for f in many.files_left_out] == [f"receipt-{n}.txt" for n in range(20, 30)]


HEADERS = st.sampled_from(["Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "From", "Subject",
                           "MIME-Version"])


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(HEADERS, st.binary(max_size=300)), max_size=6), st.binary(max_size=2000))
def test_ingesting_mail_shaped_bytes_with_files_never_raises(headers: list[tuple[str, bytes]], body: bytes) -> None:
    raw = b"".join(name.encode() + b": " + value.replace(b"\n", b" ") + b"\r\n" for name, value in headers)
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    entry = ingest(desk, raw + b"\r\n" + body, store)
    if entry.case_reference and entry.outcome is MailOutcome.CASE_CREATED:
        case = desk.repo.get(entry.case_reference)
        assert {(entry.case_reference, f.sha256) for f in case.files} <= set(store.objects)


def test_a_part_with_an_absurd_content_type_is_kept_as_octets() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    mail = EmailMessage()
    mail["From"], mail["Subject"] = "Bo <bo@example.com>", "Odd file"
    mail.set_content("See attached.")
    mail.add_attachment(b"data", maintype="application", subtype="x" * 200, filename="odd.bin")
    case = desk.repo.get(ingest(desk, mail.as_bytes(), store).case_reference)
    assert [(f.filename, f.content_type) for f in case.files] == [("odd.bin", "application/octet-stream")]


def test_the_size_limits_are_the_settings_and_every_file_left_out_is_listed_on_the_case() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    small = SETTINGS.model_copy(update={"attachment_max_mb": 20 / (1024 * 1024)})  # 20 bytes a file
    entry = ingest(desk, new_complaint(("statement.pdf", PDF), ("scan.pdf", PDF + b"2")), store, settings=small)
    case = desk.repo.get(entry.case_reference)
    assert case.files == () and store.objects == {}  # nothing kept: what was left out is still on the case
    assert [f.filename for f in case.files_left_out] == ["statement.pdf", "scan.pdf"]
    assert entry.reason == ("Not kept: statement.pdf (larger than 20 bytes (it is 24 bytes)); "
                            "scan.pdf (larger than 20 bytes (it is 25 bytes))")

    total = SETTINGS.model_copy(update={"attachment_max_total_mb": 30 / (1024 * 1024)})  # 30 bytes in all
    desk = Desk(Status.INVESTIGATING)
    entry = ingest(desk, new_complaint(("statement.pdf", PDF), ("scan.pdf", PDF + b"2")), store, settings=total)
    assert entry.reason == ("Attached: statement.pdf (application/octet-stream, 24 bytes) "
                            "Not kept: scan.pdf (the message's files together would pass 30 bytes)")


def test_a_file_name_in_an_encoded_word_is_kept_decoded() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    entry = ingest(desk, new_complaint(("relevé de compte.pdf", PDF)), store)
    assert [f.filename for f in desk.repo.get(entry.case_reference).files] == ["relevé de compte.pdf"]


def test_a_replys_files_are_stored_under_its_case() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    ingest(desk, reply_with_file(reply(), ("receipt.pdf", PDF)), store)
    assert list(store.objects) == [(REF, hashlib.sha256(PDF).hexdigest())]


def test_a_linked_new_case_says_why_it_was_opened_and_which_files_it_kept() -> None:
    desk, store = Desk(Status.INVESTIGATING), MemoryFiles()
    stranger = reply("Me too!", sender="mallory@example.net", subject=f"Re: {REF}", in_reply_to=None)
    entry = ingest(desk, reply_with_file(stranger, ("receipt.pdf", PDF)), store)
    assert entry.outcome is MailOutcome.CASE_CREATED and "is not its complainant" in entry.reason
    assert entry.reason.endswith("; Attached: receipt.pdf (application/pdf, 24 bytes)")


def test_a_file_name_in_an_encoded_word_is_read_as_written() -> None:
    """Older clients put the name in an RFC 2047 encoded word (`name="=?utf-8?q?...?="`), which the modern email
    policy decodes; read as the legacy parser does, it would be stored under its raw encoding."""
    from amends.services.email_files import files_of

    raw = (b"From: a@example.com\r\nTo: complaints@example.com\r\nSubject: Statement\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
           b"--BB\r\nContent-Type: application/pdf; name=\"=?utf-8?q?R=C3=A9sum=C3=A9.pdf?=\"\r\n"
           b"Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--BB--\r\n")
    [found] = files_of(raw, SETTINGS).files
    assert (found.name, found.content_type, found.data) == ("Résumé.pdf", "application/pdf", b"%PDF-")
