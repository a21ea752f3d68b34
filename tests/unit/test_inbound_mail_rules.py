"""Reading an inbound email (amends.domain.inbound_mail) rule by rule, beyond the corpus of tests/mail: where the
sender is taken from, how the Message-ID, the subject and the headers are kept, which part is the text and how it is
decoded and cleaned, and how an HTML body becomes lines of text."""

from __future__ import annotations

import email
import hashlib
import warnings
from email.message import EmailMessage

import pytest
from amends.domain.inbound_mail import (MAX_TEXT_CHARS, InboundMail, body_text, decode_part, html_to_text,
                                        normalise_text, read_mail)


def raw(*headers: str, body: str = "Hello.", content_type: str | None = None) -> bytes:
    head = "\r\n".join(headers) + ("\r\n" if headers else "")
    if content_type:
        head += f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
    return (head + "\r\n" + body).encode("utf-8", "surrogateescape")


def multipart(*parts: tuple[str, str], subtype: str = "mixed") -> bytes:
    body = "".join(f"--b\r\n{head}\r\n\r\n{text}\r\n" for head, text in parts) + "--b--\r\n"
    return raw("From: ada@example.com", body=body, content_type=f'multipart/{subtype}; boundary="b"')


@pytest.mark.parametrize(("headers", "name", "address"), [
    (("From: Ada Lovelace <ada@example.com>",), "Ada Lovelace", "ada@example.com"),
    (("From: ada@example.com",), None, "ada@example.com"),
    (("From: undisclosed-recipients:;", "Sender: Bo <bo@example.com>"), "Bo", "bo@example.com"),
    (("From: nobody", "Reply-To: Cy <cy@example.com>"), "Cy", "cy@example.com"),
    (("Sender: bo@example.com", "Reply-To: cy@example.com"), None, "bo@example.com"),
    (("From: Group <>, Ada <ada@example.com>",), "Ada", "ada@example.com"),
    (("Subject: nobody",), None, None),
])
def test_the_sender_is_the_first_address_in_from_then_sender_then_reply_to(
        headers: tuple[str, ...], name: str | None, address: str | None) -> None:
    mail = read_mail(raw(*headers))
    assert (mail.sender_name, mail.sender_address) == (name, address)


@pytest.mark.parametrize(("header", "kept"), [
    ("Message-ID: <CAF-1@mail.example.com>", "CAF-1@mail.example.com"),
    ("Message-ID: (comment) <abc@x> trailing", "abc@x"),
    ("Message-ID: abc@x other", "abc@x"),
    (f"Message-ID: <{'a' * 1200}@x>", "a" * 998),
])
def test_the_message_id_is_kept_without_brackets_and_within_a_header_line(header: str, kept: str) -> None:
    assert read_mail(raw("From: ada@example.com", header)).message_id == kept


def test_no_message_id_has_no_hash_and_the_hash_ignores_case_and_spaces() -> None:
    assert read_mail(raw("From: ada@example.com")).message_id is None
    mail = InboundMail(message_id=" ABC@X ", sender_address=None, sender_name=None, subject="", text="", date=None)
    assert mail.message_id_hash == hashlib.sha256(b"abc@x").hexdigest()
    assert InboundMail(message_id="", sender_address=None, sender_name=None, subject="", text="",
                       date=None).message_id_hash is None


def test_the_subject_is_one_clean_line_and_the_date_is_the_date_header() -> None:
    mail = read_mail(raw("From: ada@example.com", "Subject:  My\t bank \x07 charged   twice ",
                         "Date: Wed, 01 Jul 2026 10:00:00 +0100"))
    assert mail.subject == "My bank charged twice" and mail.date == "Wed, 01 Jul 2026 10:00:00 +0100"
    assert read_mail(raw("From: ada@example.com")).subject == "" and read_mail(raw("From: a@x")).date is None


def test_headers_are_kept_by_lower_cased_name_with_their_first_value() -> None:
    mail = read_mail(raw("From: ada@example.com", "X-Loop: first", "x-loop: second", "Precedence: bulk"))
    assert mail.headers == {"from": "ada@example.com", "x-loop": "first", "precedence": "bulk"}


def test_the_text_is_cut_at_its_maximum_length() -> None:
    assert len(read_mail(raw("From: a@x", body="x" * (MAX_TEXT_CHARS + 50))).text) == MAX_TEXT_CHARS == 100_000


def test_the_parsers_defects_are_named_once_each_in_order() -> None:
    mail = read_mail(raw("From: a@x", body="no boundary here", content_type="multipart/mixed"))
    assert mail.defects == ("MultipartInvariantViolationDefect", "NoBoundaryInMultipartDefect")
    assert read_mail(raw("From: a@x")).defects == ()


def test_the_first_plain_part_that_is_no_attachment_is_the_text() -> None:
    mail = read_mail(multipart(("Content-Type: text/plain\r\nContent-Disposition: attachment", "attached"),
                               ("Content-Type: text/html", "<p>html</p>"),
                               ("Content-Type: text/plain", "first"), ("Content-Type: text/plain", "second")))
    assert mail.text == "first"


def test_a_blank_plain_part_gives_way_to_the_html_one() -> None:
    mail = read_mail(multipart(("Content-Type: text/plain", "  \r\n "),
                               ("Content-Type: text/html", "<p>One</p><p>Two</p>"),
                               ("Content-Type: text/html", "<p>later</p>"), subtype="alternative"))
    assert mail.text == "One\n\nTwo"


def test_a_mail_without_text_parts_has_no_text() -> None:
    assert read_mail(multipart(("Content-Type: image/png", "xxxx"))).text == ""


def test_a_forwarded_message_is_read_after_the_outer_parts() -> None:
    mail = read_mail(multipart(("Content-Type: message/rfc822", "Subject: old\r\n\r\nThe forwarded text."),
                               ("Content-Type: application/pdf", "x")))
    assert mail.text == "The forwarded text."


@pytest.mark.parametrize(("head", "body", "text"), [
    ("Content-Type: text/plain; charset=iso-8859-1", b"caf\xe9", "café"),
    ("Content-Type: text/plain; charset=x-unknown", "café".encode(), "café"),
    ("Content-Type: text/plain; charset=us-ascii", b"\x93quoted\x94", "“quoted”"),
    ("Content-Type: text/plain; charset=us-ascii", b"caf\xe9\x81", "café"),
    ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64", b"Y2Fmw6k=", "café"),
])
def test_the_text_is_decoded_by_its_charset_then_utf_8_then_windows_1252_then_latin_1(
        head: str, body: bytes, text: str) -> None:
    message = b"From: a@x\r\nMIME-Version: 1.0\r\n" + head.encode() + b"\r\n\r\n" + body
    assert read_mail(message).text == text


def test_normalised_text_has_unix_lines_no_control_characters_and_no_trailing_or_extra_blank_lines() -> None:
    assert normalise_text("a\r\nb\rc\x00d\x07e\u00a0f  \n\n\n\n  g\t h  \n") == "a\nb\ncde f\n\n  g\t h"


def test_text_from_html_also_collapses_spaces_within_lines() -> None:
    assert normalise_text("  a   b \n \t \n\n c  d", html_spaces=True) == "a b\n\nc d"
    assert normalise_text("  a   b", html_spaces=False) == "a   b"


def test_html_blocks_are_lines_of_their_own_and_hidden_elements_are_dropped() -> None:
    html = ("<html><head><title>T</title><style>.c{}</style></head><body><h1>Title</h1><p>One <b>bold</b> "
            "<a href='x'>link</a></p><div>Two</div>three<br>four<ul><li>x</li><li>y</li></ul>"
            "<table><tr><td>cell</td></tr></table><blockquote>quoted</blockquote><script>s()</script>"
            "<template>t</template></body></html>")
    assert normalise_text(html_to_text(html), html_spaces=True) == \
        "Title\n\nOne bold link\n\nTwo\nthree\n\nfour\n\nx\n\ny\n\ncell\n\nquoted"


def test_text_in_the_head_or_a_title_is_not_the_mails_text() -> None:
    html = "<html><head><meta charset=utf-8>Stray head text</head><body><title>T</title><p>Body</p></body></html>"
    assert normalise_text(html_to_text(html), html_spaces=True) == "Body"


def test_html_the_parser_cannot_read_loses_its_tags_by_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    import bs4

    def refuse(*args: object, **kwargs: object) -> None:
        raise RecursionError("too deep")

    monkeypatch.setattr(bs4, "BeautifulSoup", refuse)
    assert html_to_text("<p>One</p><b>two</b>") == " One  two "


def test_a_mail_the_parser_gives_up_on_is_still_mail_with_empty_fields() -> None:
    mail = read_mail("From: ada@example.com\r\nContent-Type: =?;\udcff*\r\n\r\nHello.".encode("utf-8", "surrogateescape"))
    assert mail == InboundMail(message_id=None, sender_address=None, sender_name=None, subject="", text="", date=None)


def test_a_from_header_the_modern_policy_cannot_parse_is_read_from_its_raw_text() -> None:
    mail = read_mail(raw("To: complaints@amends.example", 'From: "Ada" <ada@example.com>, "', "Subject: Charged"))
    assert (mail.sender_name, mail.sender_address) == ("Ada", "ada@example.com")
    assert mail.headers["from"] == '"Ada" <ada@example.com>, "'
    assert mail.headers["to"] == "complaints@amends.example"


def test_a_message_id_that_is_only_folded_space_is_no_message_id() -> None:
    assert read_mail(raw("From: ada@example.com", "Message-ID:\r\n ")).message_id is None


def test_only_text_parts_are_read_as_the_text() -> None:
    mail = read_mail(multipart(("Content-Type: application/plain", "not text"), ("Content-Type: text/plain", "text")))
    assert mail.text == "text"


def test_a_text_part_whose_disposition_cannot_be_read_is_still_the_text() -> None:
    mail = read_mail(multipart(("Content-Type: text/plain\r\nContent-Disposition: ';\u00e9utf-8attachment*", "Hello.")))
    assert mail.text == "Hello."


def test_the_declared_charset_is_tried_first() -> None:
    message = b"From: a@x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4"
    assert read_mail(message).text == "Привет"


class _Unreadable(EmailMessage):
    """A text part the library fails on: its transfer encoding cannot be undone, or nothing of it can be read."""

    def __init__(self, text: str | None) -> None:
        super().__init__()
        self.set_content(text or "")
        self._text = text

    def get_payload(self, i: object = None, decode: bool = False) -> object:
        if decode or self._text is None:
            raise ValueError("cannot decode")
        return self._text


class _NoType(EmailMessage):
    def get_content_maintype(self) -> str:
        raise ValueError("no type")


def test_a_part_that_cannot_be_decoded_is_read_as_it_came_and_one_that_cannot_be_read_is_empty() -> None:
    assert decode_part(_Unreadable("as it came")) == "as it came"
    assert decode_part(_Unreadable(None)) == ""
    assert decode_part(email.message_from_bytes(multipart(("Content-Type: text/plain", "x")))) == ""  # a container


def test_a_part_that_cannot_be_read_is_passed_over_for_the_next() -> None:
    mail = EmailMessage()
    mail.set_content("the text")
    mail.make_mixed()
    mail.get_payload().insert(0, _NoType())
    assert body_text(mail) == "the text"


def test_html_is_read_with_the_bundled_parser_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalise_text(html_to_text("<p>One</p>"), html_spaces=True) == "One"


def test_an_html_body_has_the_runs_of_spaces_in_its_lines_collapsed() -> None:
    mail = read_mail(multipart(("Content-Type: text/html", "<p>  Charged\r\n   twice </p>   <p>Ada</p>")))
    assert mail.text == "Charged\ntwice\n\nAda"
