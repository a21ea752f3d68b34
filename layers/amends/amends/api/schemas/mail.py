"""The mail log as the staff API shows it (GET /staff/mail)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from amends.domain.mail_log import MailLogEntry, MailOutcome


class MailSummary(BaseModel):
    ses_message_id: str = Field(description="SES's id for the message; the raw message is stored under raw_key.")
    received_at: datetime
    outcome: MailOutcome
    reason: str | None = Field(description="Why it became no case (quarantined, auto_reply_ignored, duplicate).")
    case_reference: str | None
    case_url: str | None = Field(description="The case it made or is a duplicate of, on this API.")
    raw_key: str = Field(description="Key of the raw message in the raw-mail bucket (RawMailBucketName).")
    message_id: str | None
    sender: str | None
    subject: str | None
    recipients: list[str]

    @classmethod
    def of(cls, entry: MailLogEntry) -> MailSummary:
        data = entry.model_dump()
        url = f"/staff/cases/{entry.case_reference}" if entry.case_reference else None
        return cls.model_validate({**data, "recipients": list(entry.recipients), "case_url": url})


class MailList(BaseModel):
    items: list[MailSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; absent on the last page.")


class DiscardRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=500,
                               description="Why it is discarded (a known phishing campaign...): kept on its entry.")


class ReleasedMail(BaseModel):
    released: MailSummary = Field(description="The quarantined entry, now released: by whom, into what.")
    result: MailSummary = Field(description="What the message became when processed again (its own entry, "
                                            "<ses_message_id>.released): usually case_created or added_to_case.")
