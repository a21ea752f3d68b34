"""What the complainant API (PublicApiFunction) accepts and answers. These models generate its OpenAPI document.

Each API's models live apart (this module, :mod:`amends.api.schemas.staff`): a function builds only the models it
serves, and building pydantic models is a large part of a cold start.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from amends.domain.lifecycle import STATUS_DESCRIPTIONS, Status
from amends.domain.model import (
    AttachmentMeta,
    Case,
    Channel,
    CleanText,
    ContactChannel,
    EntryKind,
    LongText,
    Submission,
    TimelineEntry,
)


class ComplaintRequest(Submission):
    """A new complaint. ``remedy_sought`` is required: send "unknown" if the complainant does not know yet."""

    channel: Literal[Channel.WEB, Channel.MOBILE] = Field(
        Channel.WEB, description="Which client filed it: web or mobile."
    )


class FiledComplaint(BaseModel):
    reference: str = Field(description="The complaint's reference; it never changes and is never reused.")
    access_token: str = Field(description="Secret for the complainant; send it as X-Access-Token to see status. "
                                          "Shown only once.")
    status: Status
    status_url: str
    received_at: datetime
    received_at_local: datetime = Field(description="Receipt time in the organisation's time zone.")
    response_due_by: datetime = Field(description="When the final response is due at the latest.")


class ComplainantTimelineItem(BaseModel):
    at: datetime
    what: str
    status: Status | None = None
    message: str | None = None


class ComplainantCaseView(BaseModel):
    """The complaint as its complainant sees it: its status, what they told us, and the history they may see."""

    # Never internal notes, owners or staff-only entries; no contact details either (the token is all it takes).
    reference: str
    status: Status
    status_description: str
    received_at: datetime
    received_at_local: datetime
    product_or_service: str
    description: str = Field(description="The complaint as submitted, in full.")
    remedy_sought: str
    problem_date: date | None
    account_reference: str | None
    attachments: list[AttachmentMeta] = Field(description="What was attached, as described when filing.")
    preferred_contact_channel: ContactChannel
    preferred_language: str
    safety_concern: bool
    response_due_by: datetime
    timeline: list[ComplainantTimelineItem]


class MessageRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    message: LongText = Field(description="What the complainant wants to add to their complaint.")


class MessageAdded(BaseModel):
    reference: str
    seq: int
    at: datetime
    status: Status


class ProcessInformation(BaseModel):
    """How to complain (ISO 10002 7.1), served from configuration."""

    how_to_complain: list[str]
    what_to_provide: dict[str, str]
    time_frames: dict[str, str]
    how_to_get_status: str
    recourse: list[str]
    charges: str


_COMPLAINANT_WORDS = {
    "open": "Complaint received",
    "acknowledge": "Acknowledgement sent",
    "assess": "Complaint assessed",
    "start_investigation": "Investigation started",
    "request_information": "We asked you for more information",
    "receive_information": "Information received",
    "propose_response": "Response being prepared",
    "approve_response": "Response approved",
    "return_proposal": "Response being revised",
    "communicate_decision": "Decision sent",
    "request_review": "Review requested",
    "conclude_review": "Review concluded",
    "close": "Complaint closed",
    "reopen": "Complaint reopened",
    "add_message": "You added information",
}


def complainant_view(case: Case, timeline: list[TimelineEntry], response_due_by: datetime) -> ComplainantCaseView:
    """Only entries marked ``complainant_visible`` are shown, even when given the whole timeline."""
    items = []
    for e in timeline:
        if not e.complainant_visible:
            continue
        status = e.after.get("status")
        items.append(ComplainantTimelineItem(
            at=e.at, what=_COMPLAINANT_WORDS.get(e.action, e.action.replace("_", " ").capitalize()),
            status=Status(status) if status else None,
            message=e.body if e.kind is EntryKind.MESSAGE else None,
        ))
    submitted = case.submission
    return ComplainantCaseView(
        reference=case.reference, status=case.status, status_description=STATUS_DESCRIPTIONS[case.status],
        received_at=case.received_at, received_at_local=case.received_at_local,
        product_or_service=submitted.product_or_service, description=submitted.description,
        remedy_sought=submitted.remedy_sought, problem_date=submitted.problem_date,
        account_reference=submitted.account_reference, attachments=list(submitted.attachments),
        preferred_contact_channel=submitted.preferred_contact_channel,
        preferred_language=submitted.preferred_language, safety_concern=submitted.safety_concern,
        response_due_by=response_due_by, timeline=items,
    )
