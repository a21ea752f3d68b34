"""The files an email carries (domain/attachments.py): which parts are files, their names, forwarded messages kept
whole, Outlook's winmail.dat opened, and the limits, with what was left out and why."""

from __future__ import annotations

import email
import email.policy
import hashlib
import struct
from email.message import EmailMessage
from pathlib import Path

from amends.domain.attachments import AttachmentLimits, attachments_of, safe_name
from hypothesis import given
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parents[1] / "mail" / "corpus"
PDF = b"%PDF-1.4 a statement\n%%EOF"


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def complaint(*files: tuple[str, str, bytes], html: bool = False) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Ada <ada@example.com>"
    mail["Subject"] = "Charged twice"
    mail.set_content("Please see the statement attached.")
    if html:
        mail.add_alternative("<p>Please see the statement attached.</p>", subtype="html")
    for name, content_type, data in files:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def tnef(*files: tuple[str, bytes]) -> bytes:
    """A winmail.dat as Outlook writes one: the signature, a key, then per file its rendering, title and data."""
    def attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
        return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 1)
    out += attribute(1, 0x9006, 0x0009, struct.pack("<I", 0x00010000))  # TNEF version
    for name, data in files:
        out += attribute(2, 0x9002, 0x0006, b"\x00" * 14)  # attAttachRendData: a new attachment
        out += attribute(2, 0x8010, 0x0001, name.encode() + b"\x00")  # attAttachTitle
        out += attribute(2, 0x800F, 0x0006, data)  # attAttachData
    return out


def test_attachments_are_the_files_and_the_body_is_not() -> None:
    found = attachments_of(parsed(complaint(("statement.pdf", "application/pdf", PDF),
                                            ("photo.jpg", "image/jpeg", b"\xff\xd8jpeg"), html=True).as_bytes()))
    assert [(f.name, f.content_type, f.data) for f in found.files] == [
        ("statement.pdf", "application/pdf", PDF), ("photo.jpg", "image/jpeg", b"\xff\xd8jpeg")]
    assert found.files[0].sha256 == hashlib.sha256(PDF).hexdigest() and found.files[0].size == len(PDF)
    assert found.left_out == ()
    assert attachments_of(parsed(complaint(html=True).as_bytes())).files == ()


def test_an_inline_image_without_a_disposition_is_a_file_and_gets_a_name_by_its_type() -> None:
    mail = complaint()
    mail.add_attachment(b"\x89PNG...", maintype="image", subtype="png", disposition="inline")
    del mail.get_payload()[1]["Content-Disposition"]
    [image] = attachments_of(parsed(mail.as_bytes())).files
    assert image.name == "attachment-1.png" and image.content_type == "image/png" and image.data == b"\x89PNG..."


def test_encoded_names_are_decoded_and_a_forwarded_message_is_kept_whole() -> None:
    [pdf] = attachments_of(parsed((CORPUS / "rfc2231_attachment.eml").read_bytes())).files
    assert pdf.name == "état de compte.pdf" and pdf.content_type == "application/pdf"
    [forwarded] = attachments_of(parsed((CORPUS / "nested_rfc822.eml").read_bytes())).files
    assert forwarded.name == "Original.eml" and forwarded.content_type == "message/rfc822"
    assert parsed(forwarded.data)["Subject"] == "Original"


def test_the_files_inside_winmail_dat_become_the_attachments() -> None:
    blob = tnef(("statement.pdf", PDF), ("notes.txt", b"call back Monday"))
    found = attachments_of(parsed(complaint(("winmail.dat", "application/ms-tnef", blob)).as_bytes()))
    assert [(f.name, f.content_type, f.data) for f in found.files] == [
        ("statement.pdf", "application/pdf", PDF), ("notes.txt", "text/plain", b"call back Monday")]


def test_a_winmail_dat_that_cannot_be_read_is_kept_as_it_came() -> None:
    found = attachments_of(parsed(complaint(("winmail.dat", "application/ms-tnef", b"not tnef at all")).as_bytes()))
    assert [(f.name, f.data) for f in found.files] == [("winmail.dat", b"not tnef at all")]


def test_over_the_limits_files_are_kept_in_order_and_the_rest_listed_with_why() -> None:
    files = [(f"f{n}.bin", "application/octet-stream", bytes([n]) * 400) for n in range(4)]
    files.insert(1, ("huge.bin", "application/octet-stream", b"x" * 1200))
    raw = complaint(*files).as_bytes()
    found = attachments_of(parsed(raw), AttachmentLimits(max_count=2, max_bytes=1000, max_total_bytes=10_000))
    assert [f.name for f in found.files] == ["f0.bin", "f1.bin"]
    assert [(f.name, f.size, f.why) for f in found.left_out] == [
        ("huge.bin", 1200, "larger than 1,000 bytes (it is 1 KB)"),
        ("f2.bin", 400, "more than 2 files in one message"), ("f3.bin", 400, "more than 2 files in one message")]
    found = attachments_of(parsed(raw), AttachmentLimits(max_count=10, max_bytes=2000, max_total_bytes=1000))
    assert [f.name for f in found.files] == ["f0.bin", "f1.bin"]  # 400 + 400; huge (1200) and the third would pass
    assert [f.why for f in found.left_out] == ["the message's files together would pass 1,000 bytes"] * 3
    big = attachments_of(parsed(complaint(("scan.pdf", "application/pdf", b"x" * (3 * 1024 * 1024))).as_bytes()),
                         AttachmentLimits(max_bytes=2 * 1024 * 1024))
    assert big.left_out[0].why == "larger than 2.0 MB (it is 3.0 MB)"


def test_names_are_safe_to_show_and_store() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\ada\\scan.pdf") == "scan.pdf"
    assert safe_name('bad<>:"|?*\x00name.pdf') == "badname.pdf"
    assert safe_name("...", 3) == "attachment-3.bin"
    long = safe_name("a" * 300 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")


@given(st.binary(max_size=2000))
def test_any_bytes_give_files_or_none_and_never_raise(raw: bytes) -> None:
    found = attachments_of(parsed(raw))
    assert all(f.name and "/" not in f.name for f in found.files)


def test_a_forwarded_message_without_a_subject_and_files_without_names_are_numbered_by_their_place() -> None:
    mail = complaint(("statement.pdf", "application/pdf", PDF))
    forwarded = EmailMessage()
    forwarded["From"] = "bank@example.com"
    forwarded.set_content("the original")
    mail.attach(_rfc822(forwarded))
    mail.add_attachment(b"%PDF nameless", maintype="application", subtype="pdf")  # an attachment without a name
    found = attachments_of(parsed(mail.as_bytes()))
    assert [(f.name, f.content_type) for f in found.files] == [
        ("statement.pdf", "application/pdf"), ("forwarded message.eml", "message/rfc822"),
        ("attachment-3.pdf", "application/pdf")]


def _rfc822(inner: EmailMessage) -> EmailMessage:
    part = EmailMessage()
    part.set_content(inner)
    return part


def test_a_winmail_dat_is_recognised_by_its_name_and_nameless_files_inside_get_one() -> None:
    blob = tnef(("", b"first"), ("report.docx", b"second"))
    found = attachments_of(parsed(complaint(("WINMAIL.DAT", "application/octet-stream", blob)).as_bytes()))
    assert [(f.name, f.content_type, f.data) for f in found.files] == [
        ("attachment-1.bin", "application/octet-stream", b"first"),
        ("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"second")]
    other = attachments_of(parsed(complaint(("notes.dat", "application/octet-stream", blob)).as_bytes()))
    assert [f.name for f in other.files] == ["notes.dat"]  # another name and type: kept as it came


def test_an_attachment_disposition_makes_a_file_of_text_and_a_named_text_part_is_one_too() -> None:
    mail = complaint()
    mail.add_attachment("call log", subtype="plain")  # text/plain, disposition attachment, no name
    mail.add_attachment("<p>letter</p>", subtype="html", filename="letter.html", disposition="inline")
    found = attachments_of(parsed(mail.as_bytes()))
    assert [(f.name, f.content_type) for f in found.files] == [("attachment-1.txt", "text/plain"),
                                                                ("letter.html", "text/html")]


def test_sizes_are_said_in_bytes_kb_or_mb() -> None:
    limits = AttachmentLimits(max_bytes=1023)
    for size, said in ((1024, "1 KB"), (1024 * 1024 - 1, "1024 KB"), (1024 * 1024, "1.0 MB")):
        [left] = attachments_of(parsed(complaint(("f.bin", "application/octet-stream", b"x" * size)).as_bytes()),
                                limits).left_out
        assert left.why == f"larger than 1,023 bytes (it is {said})"
