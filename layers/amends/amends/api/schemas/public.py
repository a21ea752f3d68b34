"""What the complainant API (PublicApiFunction) accepts and answers. These models generate its OpenAPI document.

Each API's models live apart (this module, :mod:`amends.api.schemas.staff`): a function builds only the models it
serves, and building pydantic models is a large part of a cold start.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from amends.domain.handling import SHORT_TEXT_MAX_CHARS, Decision, Outcome, Recourse, Remedy
from amends.domain.lifecycle import STATUS_DESCRIPTIONS, Status
from amends.domain.model import (
    AttachmentMeta,
    Case,
    Channel,
    CleanText,
    ContactChannel,
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


class NextStepView(BaseModel):
    what: str = Field(description="What happens next, in plain words.")
    by: datetime | None = Field(None, description="When it should happen by; none when it is up to you or nothing "
                                                  "is due.")


class DecisionView(BaseModel):
    """The decision as sent to the complainant: what we found, what we did and offer, and where to go next."""

    outcome: Outcome
    reasons: str
    actions_taken: list[str]
    remedies: list[Remedy]
    recourse: Recourse
    final: bool = Field(description="True for the outcome of an internal review: only external recourse is left.")
    decided_at: datetime

    @classmethod
    def of(cls, decision: Decision) -> DecisionView:
        # Never who decided: staff names stay internal.
        return cls.model_validate(decision.model_dump(include=set(cls.model_fields)))


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
    next_step: NextStepView = Field(description="What happens next on the complaint, and by when.")
    decision: DecisionView | None = Field(None, description="Our decision, once we have sent it.")
    reply_due_at: datetime | None = Field(None, description="When we need your answer to our decision by.")
    merged_into: str | None = Field(None, description="The complaint this one was merged into, as a duplicate.")
    timeline: list[ComplainantTimelineItem]


class MessageRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    message: LongText = Field(description="What the complainant wants to add to their complaint.")


class MessageAdded(BaseModel):
    reference: str
    seq: int
    at: datetime
    status: Status


class DecisionResponseRequest(CleanText):
    """7.9: the complainant's answer to our decision."""

    model_config = ConfigDict(extra="forbid")

    accept: bool = Field(description="true: you accept the decision and the complaint closes. false: you do not, "
                                     "and say why in reason.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=SHORT_TEXT_MAX_CHARS)] | None = Field(
        None, description="Required when you do not accept: what the review (or the ombudsman) will look at.")

    @model_validator(mode="after")
    def _reason_when_rejecting(self) -> DecisionResponseRequest:
        if not self.accept and not self.reason:
            raise ValueError("tell us why you do not accept the decision (reason)")
        return self


class DecisionResponded(BaseModel):
    reference: str
    status: Status
    status_description: str
    next_step: NextStepView


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
    "add_message_after_closure": "You wrote to us after the complaint was closed",
    "staff_reply": "We wrote to you",
    "link": "Another complaint was merged into this one",
}


def complainant_view(case: Case, timeline: list[TimelineEntry], response_due_by: datetime,
                     next_step: NextStepView) -> ComplainantCaseView:
    """Only entries marked ``complainant_visible`` are shown, even when given the whole timeline; their texts are
    the ones written for the complainant (a message, our question, the decision, a closure). Never a note, an owner,
    an assignment, a proposal or its approval, nor who did what."""
    items = []
    for e in timeline:
        if not e.complainant_visible:
            continue
        status = e.after.get("status")
        items.append(ComplainantTimelineItem(
            at=e.at, what=_COMPLAINANT_WORDS.get(e.action, e.action.replace("_", " ").capitalize()),
            status=Status(status) if status else None,
            message=e.body,
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
        response_due_by=response_due_by, next_step=next_step,
        decision=DecisionView.of(case.decision) if case.decision else None, reply_due_at=case.reply_due_at,
        merged_into=case.closure.merged_into if case.closure else None,
        timeline=items,
    )
