"""The files an email carries, read from its MIME parts: what becomes an attachment of the case, and what does not.

A part is a file when its disposition is ``attachment``, or when it is not text and not a container (an inline image,
a PDF without a disposition). A forwarded message (``message/rfc822``) is kept whole, as a ``.eml`` file a mail client
opens; Outlook's ``winmail.dat`` (``application/ms-tnef``) is opened with tnefparse and the files inside it become the
attachments (when it cannot be read, the ``winmail.dat`` itself is kept). Names come from RFC 2231 / RFC 2047
``filename`` or ``name`` parameters (the standard library decodes both), made safe to show and to store; a part
without one is named by its type.

Limits (``AttachmentLimits``, configurable): at most so many files, each at most so large, all together at most so
much. Over them the files are kept in order until a limit is reached; each one left out is listed with why, for the
sender to be told and for staff to see. The raw message is kept whatever happens, so nothing is lost.
No AWS here: the adapter stores the bytes.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from email.message import Message

TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
CONTAINERS = ("multipart", "message")


@dataclass(frozen=True)
class AttachmentLimits:
    max_count: int = 20
    max_bytes: int = 10 * 1024 * 1024  # each file
    max_total_bytes: int = 25 * 1024 * 1024  # all the files of one message


@dataclass(frozen=True)
class File:
    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class LeftOut:
    name: str
    size: int
    why: str


@dataclass(frozen=True)
class Attachments:
    files: tuple[File, ...] = ()
    left_out: tuple[LeftOut, ...] = ()


def attachments_of(message: Message, limits: AttachmentLimits = AttachmentLimits()) -> Attachments:
    """The message's files within the limits, and those left out with why. Never raises."""
    found: list[File] = []
    for part in _parts(message):
        try:
            found += _files_of(part, len(found) + 1)
        except Exception:  # noqa: BLE001, S112 - a part that cannot be read is left to the raw message
            continue
    return _within(found, limits)


def _parts(message: Message) -> list[Message]:
    """Leaf parts and forwarded messages, in order; a forwarded message's own parts are not walked (it is kept
    whole)."""
    out: list[Message] = []

    def visit(part: Message, top: bool) -> None:
        kind = _type(part)
        if kind == "message/rfc822" and not top:
            out.append(part)
            return
        if part.is_multipart():  # its payload is the list of its parts
            for child in part.get_payload():
                if isinstance(child, Message):
                    visit(child, False)
            return
        out.append(part)  # a leaf; the message itself when it is a single part (a scanner's mail of one PDF)

    try:
        visit(message, True)
    except Exception:  # noqa: BLE001 - a structure too broken to walk: no files from it (the raw message is kept)
        return out
    return out


def _type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def _files_of(part: Message, number: int) -> list[File]:
    kind = _type(part)
    if kind == "message/rfc822":  # the parser gives its payload as a list of the one message
        inner = part.get_payload(0)
        return [File(safe_name(f"{inner.get('subject') or 'forwarded message'}.eml", number), "message/rfc822",
                     inner.as_bytes())]
    disposition = _disposition(part)
    name = _filename(part)
    if disposition != "attachment" and (kind.startswith("text/") and not name or kind.split("/")[0] in CONTAINERS):
        return []  # the body (plain or HTML), read as the message's text
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return []
    if kind in TNEF_TYPES or (name or "").lower() == "winmail.dat":
        inside = _tnef_files(data, number)
        if inside is not None:
            return inside
    return [File(safe_name(name or _name_for(kind, number), number), _clean_type(kind), data)]


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # noqa: BLE001
        return None
    if isinstance(name, tuple):  # an RFC 2231 value left encoded (a compat32 message): (charset, language, text)
        name = email.utils.collapse_rfc2231_value(name)
    return str(name) if name else None


def _tnef_files(data: bytes, number: int) -> list[File] | None:
    """The files in a TNEF blob; None when it cannot be read (then it is kept as it came)."""
    from tnefparse.tnef import TNEF  # imported when an Outlook message arrives

    try:
        tnef = TNEF(data)
        files = []
        for n, attachment in enumerate(tnef.attachments, start=number):
            name = attachment.long_filename() or attachment.name
            name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name or "")
            content = attachment.data or b""
            guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
            files.append(File(safe_name(name or _name_for(guessed, n), n), guessed, bytes(content)))
    except Exception:  # noqa: BLE001 - not TNEF after all, or broken: keep the blob
        return None
    return files or None


def _name_for(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{number}{extension}"


def _clean_type(content_type: str) -> str:
    """The declared type when it is a well-formed one of at most 127 characters (RFC 6838), else
    ``application/octet-stream``."""
    well_formed = len(content_type) <= 127 and re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", content_type)
    return content_type if well_formed else "application/octet-stream"


def safe_name(name: str, number: int = 1) -> str:
    """A name to show and to offer for download: no path, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    if not name:
        return f"attachment-{number}.bin"
    stem, dot, extension = name.rpartition(".")
    if len(name) > 255:
        name = (stem[: 254 - len(extension)] + "." + extension) if dot and len(extension) < 20 else name[:255]
    return name


def _within(found: list[File], limits: AttachmentLimits) -> Attachments:
    kept: list[File] = []
    left_out: list[LeftOut] = []
    total = 0
    for file in found:
        if file.size > limits.max_bytes:
            why = f"larger than {_mb(limits.max_bytes)} (it is {_mb(file.size)})"
        elif len(kept) >= limits.max_count:
            why = f"more than {limits.max_count} files in one message"
        elif total + file.size > limits.max_total_bytes:
            why = f"the message's files together would pass {_mb(limits.max_total_bytes)}"
        else:
            kept.append(file)
            total += file.size
            continue
        left_out.append(LeftOut(file.name, file.size, why))
    return Attachments(tuple(kept), tuple(left_out))


def _mb(size: int) -> str:
    """A size as people read it: bytes, KB or MB."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
