"""What became of each inbound email: one mail-log entry per message that reached the inbox, nothing left out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class MailOutcome(StrEnum):
    CASE_CREATED = "case_created"
    DUPLICATE = "duplicate"  # the same Message-ID (or SES message) made a case already
    AUTO_REPLY_IGNORED = "auto_reply_ignored"  # a machine sent it: never answered, no case
    QUARANTINED = "quarantined"  # could not become a case (reason), kept for staff with the raw message
    ADDED_TO_CASE = "added_to_case"  # a reply to something we sent: a complainant message on its case
    BOUNCE_RECORDED = "bounce_recorded"  # a delivery status notification about our mail: on the case, address marked
    RELEASED = "released"  # was quarantined; staff released it and it was processed again (reason: by whom, into what)
    DISCARDED = "discarded"  # was quarantined; staff discarded it (reason: by whom and why); the raw message expires


class MailLogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    ses_message_id: str
    received_at: datetime
    outcome: MailOutcome
    reason: str | None = None
    case_reference: str | None = None
    raw_key: str  # where the raw message is (the raw-mail bucket), for reprocessing and review
    message_id: str | None = None
    sender: str | None = None
    subject: str | None = None
    recipients: tuple[str, ...] = ()
