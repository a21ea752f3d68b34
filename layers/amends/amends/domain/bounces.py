"""Delivery status notifications (RFC 3464): a ``multipart/report; report-type=delivery-status`` whose
``message/delivery-status`` part has one block of fields per recipient (``Final-Recipient``, ``Action``,
``Status``), and whose third part is the original message or its headers (``message/rfc822`` or
``text/rfc822-headers``), which hold the Message-ID we sent it with.

Parsed with the standard library (every read guarded: a report is machine-written, but not always well). A
permanent failure (``Action: failed``, status 5.x.x) makes the address undeliverable; a delay (4.x.x) is only
recorded.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import Message
from typing import Any

from amends.domain.sent_mail import message_ids


@dataclass(frozen=True)
class BouncedRecipient:
    address: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1
    diagnostic: str | None = None

    @property
    def permanent(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


@dataclass(frozen=True)
class Bounce:
    original_message_id: str | None
    recipients: tuple[BouncedRecipient, ...]

    @property
    def undeliverable(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.recipients if r.permanent)

    def summary(self) -> str:
        parts = [f"{r.address}: {r.action} {r.status}" + (f" ({r.diagnostic})" if r.diagnostic else "")
                 for r in self.recipients]
        return "; ".join(parts) or "no recipient fields"


def read_bounce(raw: bytes) -> Bounce | None:
    """The report, when ``raw`` is a delivery status notification; None for any other mail."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if message.get_content_type() != "multipart/report":
            return None
        parts = list(message.walk())
    except Exception:  # noqa: BLE001 - not readable as a report: the ordinary mail path deals with it
        return None
    status = next((p for p in parts if _type(p) == "message/delivery-status"), None)
    if status is None:
        return None
    return Bounce(original_message_id=_original_message_id(parts), recipients=tuple(_recipients(status)))


def _type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return ""


def _blocks(status: Message) -> list[Message]:
    """The field blocks of a delivery-status part: the first is about the message, the others one recipient each."""
    try:
        payload: Any = status.get_payload()
    except Exception:  # noqa: BLE001
        return []
    # The parser reads a message/delivery-status part into one message per block of fields, whatever its encoding.
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _recipients(status: Message) -> list[BouncedRecipient]:
    found = []
    for block in _blocks(status):
        recipient = _field(block, "final-recipient") or _field(block, "original-recipient")
        if not recipient:
            continue
        address = recipient.partition(";")[2].strip() if ";" in recipient else recipient.strip()
        found.append(BouncedRecipient(address=address.strip("<>").lower(),
                                      action=(_field(block, "action") or "").strip().lower(),
                                      status=(_field(block, "status") or "").strip().split(" ")[0],
                                      diagnostic=(_field(block, "diagnostic-code") or None)))
    return found


def _field(block: Message, name: str) -> str | None:
    try:
        value = block.get(name)
    except Exception:  # noqa: BLE001
        return None
    return " ".join(str(value).split()) if value is not None else None


def _original_message_id(parts: list[Message]) -> str | None:
    for part in parts:
        kind = _type(part)
        try:
            if kind == "message/rfc822":
                inner = part.get_payload(0)  # the parser reads a message/rfc822 part into a list of one message
                if inner.get("message-id"):
                    return _first_id(str(inner.get("message-id")))
            elif kind == "text/rfc822-headers":
                headers = email.message_from_string(part.get_content(), policy=email.policy.default)
                if headers.get("message-id"):
                    return _first_id(str(headers.get("message-id")))
        except Exception:  # noqa: BLE001 - a broken original part: the recipient fields still count
            continue
    return None


def _first_id(value: str) -> str | None:
    ids = message_ids(value)
    return ids[0] if ids else (value.strip().strip("<>") or None)
