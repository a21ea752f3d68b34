"""Staff replies by email: the request and the answer of POST /staff/cases/{reference}/replies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from amends.domain.text import CleanText, LongText


class StaffReplyRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    text: LongText = Field(description="The reply, as plain text; it is also shown on the complainant's status page.")


class StaffReplySent(BaseModel):
    reference: str
    seq: int = Field(description="The timeline entry that records the reply.")
    at: datetime
    to: str
    subject: str
    message_id: str = Field(description="The Message-ID the complainant sees; their answer quoting it lands here.")
    in_reply_to: str | None = Field(None, description="The complainant's message it answers, when the case came by email.")
