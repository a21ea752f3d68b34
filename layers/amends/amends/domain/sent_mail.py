"""What we keep of the mail we send, and the clues a reply carries back to it.

A reply finds its case by what we put in our own mail: the Message-ID the recipient saw (it comes back in their
``In-Reply-To``/``References``), a token in the address they reply to (``complaints+<token>@example.com``: the
token is random, so nobody can guess a case's address from its reference), and the reference in the subject.
No AWS here: the store of sent mail is a port (``amends.services.ports.SentMailStore``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from pydantic import BaseModel, ConfigDict

TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # lower case (mail systems may fold local parts), no 0/o, 1/l
TOKEN_LENGTH = 16  # 80 bits: not guessable, short enough to survive every mail client's reply
_TOKEN = re.compile(rf"^[{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}}$")
_MESSAGE_IDS = re.compile(r"<([^<>\s]+)>")


class SentMail(BaseModel):
    """One message we sent: the Message-ID its recipient sees, and what it was about."""

    model_config = ConfigDict(frozen=True)

    message_id: str  # without angle brackets, as InboundMail.message_id
    case_reference: str | None
    kind: str
    to: str
    sent_at: datetime
    automatic: bool = True


def letter_key(letter: str) -> str:
    """A fixed-length key for a letter's idempotency key."""
    return hashlib.sha256(letter.encode("utf-8", "replace")).hexdigest()


def message_id_key(message_id: str) -> str:
    """A fixed-length key for a Message-ID (the same as ``InboundMail.message_id_hash``)."""
    return hashlib.sha256(message_id.strip().strip("<>").lower().encode("utf-8", "replace")).hexdigest()


def address_key(address: str) -> str:
    """A key for an address that does not put the address itself in a table key."""
    return hashlib.sha256(address.strip().lower().encode("utf-8", "replace")).hexdigest()


def message_ids(header: str | None) -> tuple[str, ...]:
    """The Message-IDs in an ``In-Reply-To`` or ``References`` header, in order, without angle brackets."""
    if not header:
        return ()
    found = _MESSAGE_IDS.findall(header)
    return tuple(found) if found else tuple(part for part in header.split() if "@" in part)


def new_reply_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def reply_address(base: str, token: str) -> str:
    """``complaints@example.com`` with ``token`` → ``complaints+<token>@example.com`` (RFC 5233 subaddress)."""
    local, _, domain = base.rpartition("@")
    return f"{local.partition('+')[0]}+{token}@{domain}"


def token_in(recipients: tuple[str, ...], base: str | None) -> str | None:
    """The reply token in one of ``recipients`` addressed to ``base``'s mailbox plus a token, or None."""
    if not base:
        return None
    base_local, _, base_domain = base.lower().rpartition("@")
    base_local = base_local.partition("+")[0]
    for recipient in recipients:
        local, _, domain = recipient.strip().strip("<>").lower().rpartition("@")
        mailbox, plus, token = local.partition("+")
        if plus and mailbox == base_local and domain == base_domain and _TOKEN.match(token):
            return token
    return None


def references_in(subject: str, prefix: str) -> tuple[str, ...]:
    """Case references written in a subject (``Re: ... [CMP-2026-7K3F9Q]``), in upper case, first first."""
    pattern = re.compile(rf"\b{re.escape(prefix)}-\d{{4}}-[0-9A-HJKMNP-TV-Z]{{6}}\b", re.IGNORECASE)
    seen: list[str] = []
    for found in pattern.findall(subject or ""):
        if found.upper() not in seen:
            seen.append(found.upper())
    return tuple(seen)
