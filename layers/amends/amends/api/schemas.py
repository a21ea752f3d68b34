"""What the HTTP API accepts and answers. These models generate the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from amends.domain.lifecycle import STATUS_DESCRIPTIONS, Status
from amends.domain.model import (
    AttachmentMeta,
    Case,
    CaseListing,
    Channel,
    CleanText,
    ContactChannel,
    EntryKind,
    LongText,
    Priority,
    Submission,
    TimelineEntry,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Body = LongText


# -- complainants -------------------------------------------------------------------------------------------------

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

    message: Body = Field(description="What the complainant wants to add to their complaint.")


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


# -- staff --------------------------------------------------------------------------------------------------------

class CaseSummary(BaseModel):
    reference: str
    status: Status
    priority: Priority
    owner: str | None
    channel: Channel
    product_or_service: str
    received_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, case: Case | CaseListing) -> CaseSummary:
        listing = case.listing() if isinstance(case, Case) else case
        return cls.model_validate(listing.model_dump())


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; absent on the last page.")


class CaseDetail(BaseModel):
    reference: str
    version: int
    status: Status
    priority: Priority
    owner: str | None
    channel: Channel
    received_at: datetime
    received_at_local: datetime
    updated_at: datetime
    closure_reason: str | None
    submission: Submission
    response_due_by: datetime
    timeline: list[TimelineEntry]

    @classmethod
    def of(cls, case: Case, timeline: list[TimelineEntry], response_due_by: datetime) -> CaseDetail:
        data = case.model_dump(exclude={"access_token_hash"})
        return cls(**data, response_due_by=response_due_by, timeline=timeline)


class AssignOwnerRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] = Field(
        description="The staff user id (the token's sub) who becomes accountable for the case."
    )
    reason: Reason | None = None


class NoteRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    body: Body
