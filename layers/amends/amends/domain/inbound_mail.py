"""An inbound email, read from its raw bytes: who sent it, what it says, and whether a machine sent it.

Parsed with the standard library's ``email`` package (its modern ``policy.default``), which never raises on malformed
input but records defects and may raise later, when a header or a part is read; every read here is guarded, so
``read_mail`` gives an ``InboundMail`` for any bytes at all. What the standard library lacks is HTML to text, done by
BeautifulSoup (``html.parser``, no C extension). No AWS here: the adapter hands over the bytes and SES's verdicts.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Any

MAX_TEXT_CHARS = 100_000  # a description is a long text; beyond this the raw message (kept) says the rest
FALLBACK_CHARSETS = ("utf-8", "windows-1252")  # declared charset first; then these; latin-1 never fails


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None  # the Message-ID header, without angle brackets
    sender_address: str | None  # From (else Sender, else Reply-To), when it holds an address
    sender_name: str | None
    subject: str
    text: str  # the body as clean text: the text/plain part, else the HTML part as text
    date: str | None  # the Date header as sent (not trusted: the receipt time is SES's)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased name -> first value, for the loop rules
    defects: tuple[str, ...] = ()  # what the parser found malformed (kept for staff; never a reason to drop mail)

    @property
    def message_id_hash(self) -> str | None:
        """A fixed-length key for the Message-ID (they may be long and hold any printable characters)."""
        if not self.message_id:
            return None
        return hashlib.sha256(self.message_id.strip().lower().encode("utf-8", "replace")).hexdigest()


def read_mail(raw: bytes) -> InboundMail:
    """Whatever the bytes, an ``InboundMail`` (empty fields where nothing could be read)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # noqa: BLE001 - the parser is documented not to raise; if it does, the bytes still become mail
        message = EmailMessage()
    headers = _first_headers(message)
    name, address = _sender(message)
    return InboundMail(
        message_id=_message_id(headers.get("message-id")),
        sender_address=address,
        sender_name=name,
        subject=_clean_line(headers.get("subject", "")),
        text=body_text(message)[:MAX_TEXT_CHARS],
        date=headers.get("date"),
        headers=headers,
        defects=tuple(sorted({type(d).__name__ for part in _walk(message) for d in part.defects})),
    )


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the modern policy cannot fold or decode: fall back to its raw text
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return None if value is None else str(value)


def _first_headers(message: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in message.keys():
        key = name.lower()
        if key not in out:
            value = _header(message, name)
            if value is not None:
                out[key] = value
    return out


def _sender(message: Message) -> tuple[str | None, str | None]:
    for name in ("from", "sender", "reply-to"):
        value = _header(message, name)
        if not value:
            continue
        try:
            pairs = email.utils.getaddresses([value])
        except Exception:  # noqa: BLE001
            continue
        for display, address in pairs:
            if "@" in address:
                return (_clean_line(display) or None), address.strip()
    return None, None


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    match = re.search(r"<([^<>\s]+)>", value)
    found = match.group(1) if match else value.split()[0] if value.split() else ""
    return found[:998] or None


def _clean_line(value: str) -> str:
    """One line of text: no control characters, spaces collapsed."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _walk(message: Message) -> list[Message]:
    try:
        return list(message.walk())
    except Exception:  # noqa: BLE001
        return [message]


def body_text(message: Message) -> str:
    """The first text/plain part that is not an attachment; else the first text/html one as text; else ''.
    A nested message/rfc822 (a forwarded mail) is read too, after the outer parts."""
    plain, html = None, None
    for part in _walk(message):
        try:
            if part.is_multipart() or part.get_content_maintype() != "text" or _is_attachment(part):
                continue
            subtype = part.get_content_subtype()
        except Exception:  # noqa: BLE001
            continue
        if subtype == "plain" and plain is None:
            plain = decode_part(part)
        elif subtype == "html" and html is None:
            html = decode_part(part)
    if plain and plain.strip():
        return normalise_text(plain)
    if html:
        return normalise_text(html_to_text(html), html_spaces=True)
    return normalise_text(plain or "")


def _is_attachment(part: Message) -> bool:
    try:
        return (part.get_content_disposition() or "") == "attachment"
    except Exception:  # noqa: BLE001
        return False


def decode_part(part: Message) -> str:
    """The part's text: its transfer encoding undone, then its declared charset, then the fallbacks."""
    try:
        payload: Any = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        try:
            payload = part.get_payload()
        except Exception:  # noqa: BLE001
            return ""
        if isinstance(payload, str):
            return payload
        return ""
    try:
        declared = part.get_content_charset()
    except Exception:  # noqa: BLE001
        declared = None
    for charset in ((declared,) if declared else ()) + FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("latin-1")


BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr",
              "ul", "ol", "section", "article", "header", "footer")


def html_to_text(html: str) -> str:
    """Visible text of an HTML body: scripts, styles and head dropped, each block on a line of its own, inline
    elements (``<b>``, ``<a>``) left in their line."""
    from bs4 import BeautifulSoup  # imported when an HTML-only mail arrives: most mail has a plain part

    try:
        soup = BeautifulSoup(html, "html.parser")
        for hidden in soup(["head", "title"]):  # get_text leaves out scripts, styles and templates by itself
            hidden.decompose()
        for block in soup.find_all(BLOCK_TAGS):
            block.insert_before("\n")
            block.insert_after("\n")
        return soup.get_text()
    except Exception:  # noqa: BLE001 - html.parser copes with nearly anything; if not, the tags go by pattern
        return re.sub(r"<[^>]*>", " ", html)


def normalise_text(text: str, *, html_spaces: bool = False) -> str:
    """Line endings to \\n, control characters out (other spaces to a space), trailing spaces and runs of blank
    lines removed; for text from HTML, runs of spaces in a line too (HTML collapses them)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch if ch in "\n\t" or ch.isprintable() else " " if ch.isspace() else "" for ch in text)
    lines = [" ".join(line.split()) for line in text.split("\n")] if html_spaces else \
        [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
