"""The files an email carries (domain/attachments.py): which parts are files, their names, forwarded messages kept
whole, Outlook's winmail.dat opened, and the limits, with what was left out and why."""

from __future__ import annotations

import base64
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


def mixed(*parts: tuple[str, str | bytes]) -> bytes:
    """A multipart/mixed mail from (headers, body) pairs, written as a mail program would send them."""
    body = b"".join(b"--b\r\n" + head.encode() + b"\r\n\r\n" + (text if isinstance(text, bytes) else text.encode())
                    + b"\r\n" for head, text in parts) + b"--b--\r\n"
    return b'From: ada@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' + body


def test_files_nested_in_a_related_or_alternative_part_are_found() -> None:
    mail = complaint(("statement.pdf", "application/pdf", PDF), html=True)
    mail.get_payload()[0].get_payload()[1].add_related(b"\x89PNG logo", maintype="image", subtype="png",
                                                       filename="logo.png")
    found = attachments_of(parsed(mail.as_bytes()))
    assert [(f.name, f.data) for f in found.files] == [("logo.png", b"\x89PNG logo"), ("statement.pdf", PDF)]


def test_a_mail_that_is_one_pdf_has_that_file_and_a_mail_that_is_one_text_has_none() -> None:
    scan = (b"From: scanner@example.com\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + base64.b64encode(PDF) + b"\r\n")
    assert [(f.name, f.content_type, f.data) for f in attachments_of(parsed(scan)).files] == [
        ("scan.pdf", "application/pdf", PDF)]
    assert attachments_of(parsed(b"From: ada@example.com\r\n\r\nJust text.")).files == ()


def test_a_mail_that_is_wholly_a_forwarded_message_gives_the_forwarded_files_not_itself() -> None:
    inner = complaint(("statement.pdf", "application/pdf", PDF))
    raw = b"From: ada@example.com\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n" + inner.as_bytes()
    assert [(f.name, f.data) for f in attachments_of(parsed(raw)).files] == [("statement.pdf", PDF)]


def test_a_container_part_the_parser_could_not_open_is_no_file() -> None:
    raw = mixed(("Content-Type: text/plain", "See below."), ("Content-Type: multipart/alternative", "no boundary"),
                ("Content-Type: message/delivery-status", "Reporting-MTA: dns; x"))
    assert attachments_of(parsed(raw)).files == ()


def test_a_part_that_cannot_be_read_is_left_out_and_the_files_after_it_are_still_found() -> None:
    class Unreadable(EmailMessage):
        def get_payload(self, *args: object, **kwargs: object) -> object:
            raise ValueError("broken part")

    mail = complaint(("first.pdf", "application/pdf", PDF), ("second.pdf", "application/pdf", PDF))
    broken = Unreadable()
    broken["Content-Type"] = "application/pdf"
    mail.get_payload().insert(1, broken)
    assert [f.name for f in attachments_of(mail).files] == ["first.pdf", "second.pdf"]


def test_an_empty_filename_gives_way_to_the_types_name_parameter_decoded() -> None:
    raw = mixed(("Content-Type: text/plain", "See attached."),
                ('Content-Type: application/pdf; name="scan.pdf"\r\nContent-Disposition: attachment; filename=""',
                 "PDF"),
                ("Content-Type: application/pdf; name*=utf-8''%C3%A9tat.pdf\r\n"
                 'Content-Disposition: attachment; filename=""', "PDF"))
    assert [f.name for f in attachments_of(parsed(raw)).files] == ["scan.pdf", "état.pdf"]
    legacy = email.message_from_bytes(raw)  # the compat32 policy leaves an RFC 2231 parameter encoded
    assert [f.name for f in attachments_of(legacy).files] == ["scan.pdf", "état.pdf"]


def test_a_file_whose_name_is_nothing_to_show_is_named_by_its_place() -> None:
    raw = mixed(("Content-Type: text/plain", "See attached."),
                ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"', "1"),
                ('Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="..."', "2"),
                ("Content-Type: application/x-amends-unknown\r\nContent-Disposition: attachment", "3"))
    assert [f.name for f in attachments_of(parsed(raw)).files] == ["a.pdf", "attachment-2.bin", "attachment-3.bin"]
    blob = tnef(("a.txt", b"1"), ("...", b"2"), ("empty.txt", b""))
    found = attachments_of(parsed(complaint(("winmail.dat", "application/ms-tnef", blob)).as_bytes())).files
    assert [(f.name, f.data) for f in found] == [("a.txt", b"1"), ("attachment-2.bin", b"2"), ("empty.txt", b"")]


def _tnef_with_long_name(title: str, long_name: bytes, data: bytes) -> bytes:
    """A winmail.dat whose file has an 8.3 title and a long file name as a binary MAPI property (PR_ATTACH_LONG_FILENAME),
    padded to four bytes with NULs as Outlook writes it."""
    def attribute(level: int, name: int, kind: int, value: bytes) -> bytes:
        return struct.pack("<BHHI", level, name, kind, len(value)) + value + struct.pack("<H", sum(value) & 0xFFFF)

    prop = struct.pack("<HHII", 0x0102, 0x3707, 1, len(long_name)) + long_name + b"\x00" * (-len(long_name) % 4)
    return (struct.pack("<IH", 0x223E9F78, 1) + attribute(1, 0x9006, 0x0009, struct.pack("<I", 0x00010000))
            + attribute(2, 0x9002, 0x0006, b"\x00" * 14) + attribute(2, 0x8010, 0x0001, title.encode() + b"\x00")
            + attribute(2, 0x800F, 0x0006, data) + attribute(2, 0x9005, 0x0006, struct.pack("<I", 1) + prop))


def test_a_winmail_dat_files_long_name_wins_over_its_short_title_and_is_read_as_utf_8() -> None:
    blob = _tnef_with_long_name("RELEVE~1.PDF", b"relev\xc3\xa9 de mars \xff.pdf", PDF)  # one byte not UTF-8
    [file] = attachments_of(parsed(complaint(("winmail.dat", "application/ms-tnef", blob)).as_bytes())).files
    assert (file.name, file.content_type, file.data) == ("relevé de mars \ufffd.pdf", "application/pdf", PDF)


def test_only_a_well_formed_type_of_at_most_127_characters_is_kept() -> None:
    for length, kept in ((127, True), (128, False)):
        kind = "application/" + "x" * (length - len("application/"))
        raw = mixed(("Content-Type: text/plain", "See attached."),
                    (f'Content-Type: {kind}\r\nContent-Disposition: attachment; filename="f"', "data"))
        [file] = attachments_of(parsed(raw)).files
        assert file.content_type == (kind if kept else "application/octet-stream")


def test_safe_names_keep_what_is_printable_and_cut_long_ones_keeping_a_short_extension() -> None:
    assert safe_name("...") == "attachment-1.bin"
    assert safe_name("X-ray scan X.pdf") == "X-ray scan X.pdf"
    assert safe_name("Xerox.pdfX") == "Xerox.pdfX"
    assert safe_name("a" * 256) == "a" * 255
    assert safe_name("a" * 300) == "a" * 255
    dotted = safe_name("report.v2." + "a" * 300 + ".pdf")
    assert len(dotted) == 255 and dotted.startswith("report.v2.aaa") and dotted.endswith("a.pdf")
    twenty = "e" * 20
    assert safe_name("a" * 300 + "." + twenty) == "a" * 255  # an extension of 20 characters or more is no extension
    assert safe_name("a" * 300 + "." + twenty[:19]) == "a" * 235 + "." + twenty[:19]
    assert safe_name("a" * 300 + "." + "b" * 30) == "a" * 255


def test_limits_are_inclusive_a_file_or_a_total_exactly_at_a_limit_is_kept() -> None:
    files = [(f"f{n}.bin", "application/octet-stream", bytes([n]) * 500) for n in range(2)]
    found = attachments_of(parsed(complaint(*files).as_bytes()),
                           AttachmentLimits(max_count=2, max_bytes=500, max_total_bytes=1000))
    assert [f.name for f in found.files] == ["f0.bin", "f1.bin"] and found.left_out == ()


def test_megabytes_are_binary_megabytes() -> None:
    limit = int(1.0501 * 1024 * 1024)  # 1.05 MiB: 1.0 in units of 1025 KiB
    [left] = attachments_of(parsed(complaint(("f.bin", "application/octet-stream", b"x" * (limit + 1))).as_bytes()),
                            AttachmentLimits(max_bytes=limit)).left_out
    assert left.why == "larger than 1.1 MB (it is 1.1 MB)"
