"""What the staff API (StaffApiFunction) accepts and answers. These models generate its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from amends.domain.handling import Assessment, CaseLink, Closure, Decision, InformationRequest, Proposal
from amends.domain.lifecycle import Status
from amends.domain.permissions import Command
from amends.domain.model import (
    Case,
    CaseListing,
    Channel,
    CleanText,
    LongText,
    Priority,
    Submission,
    TimelineEntry,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


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
    assessment: Assessment | None
    information_request: InformationRequest | None = Field(description="The open question to the complainant.")
    links: list[CaseLink]
    proposal: Proposal | None = Field(description="The response proposed now, with its approval if any.")
    decision: Decision | None = Field(description="The decision last communicated.")
    reply_due_at: datetime | None = Field(description="When the complainant's answer to the decision is due.")
    closure: Closure | None
    participants: list[str] = Field(description="Staff who owned the case or took one of its steps.")
    allowed_actions: list[Command] = Field(description="What you (this token's user and roles) may do to it now.")
    timeline: list[TimelineEntry]

    @classmethod
    def of(cls, case: Case, timeline: list[TimelineEntry], response_due_by: datetime,
           allowed_actions: list[Command]) -> CaseDetail:
        data = case.model_dump(exclude={"access_token_hash"})
        return cls(**data, response_due_by=response_due_by, allowed_actions=allowed_actions, timeline=timeline)


class AssignOwnerRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] = Field(
        description="The staff user id (the token's sub) who becomes accountable for the case."
    )
    reason: Reason | None = None


class NoteRequest(CleanText):
    model_config = ConfigDict(extra="forbid")

    body: LongText
