"""What the staff API (StaffApiFunction) accepts and answers. These models generate its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from amends.domain.lifecycle import Status
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

    body: LongText
