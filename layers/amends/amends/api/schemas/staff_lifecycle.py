"""What the staff API's lifecycle routes (ISO 10002 7.5-7.9) accept and answer. Part of the staff API's models
(:mod:`amends.api.schemas.staff` has the queue, the case and assignment): only StaffApiFunction builds them.

Requests reuse the domain's values (the assessment's findings, the response's content), so the API accepts exactly
what the domain records; each adds only what the route itself needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from amends.domain.handling import SHORT_TEXT_MAX_CHARS, ClosureReason, Findings, ResponseContent
from amends.domain.lifecycle import Status
from amends.domain.model import Case, CleanText, Priority
from amends.domain.permissions import Command

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_TEXT_MAX_CHARS)]
StaffId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
CaseReference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]


class _Request(CleanText):
    model_config = ConfigDict(extra="forbid")


class AssessmentRequest(Findings):
    """7.5: what the assessor decides; the priority follows from it by the priority rules (a safety risk makes the
    case urgent at once)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="AssessmentRequest")


class InvestigationRequest(_Request):
    owner: StaffId | None = Field(None, description="The accountable owner (a staff user id, the token's sub). "
                                                    "Without it, the case's owner; a case nobody has taken becomes "
                                                    "the caller's. A handler may name only themselves.")


class InformationRequestRequest(_Request):
    question: ShortText = Field(description="What the complainant is asked; they answer with a message "
                                            "(POST /complaints/{reference}/messages), which resumes the case.")


class LinkRequest(_Request):
    reference: CaseReference = Field(description="The other complaint's reference.")
    relation: Literal["related", "duplicate_of"] = Field(
        description="related: both stay open, each links to the other. duplicate_of: this complaint is closed as a "
                    "duplicate and merged into the other; both timelines say so and its complainant is told where "
                    "it went.")


class ProposalRequest(ResponseContent):
    """7.7: the response proposed: outcome, reasons, actions taken, remedies. Above the approval threshold, or for
    a complaint assessed as high or critical, it needs approval by a supervisor or manager who did not propose it."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="ProposalRequest")


class ApprovalRequest(_Request):
    approve: bool = Field(description="true approves the proposed response; false returns it to the investigation.")
    reason: ShortText | None = Field(None, description="Required when returning it: what must change.")

    @model_validator(mode="after")
    def _reason_when_returning(self) -> ApprovalRequest:
        if not self.approve and not self.reason:
            raise ValueError("returning a proposed response needs a reason: say what must change")
        return self


class ReviewRequest(ResponseContent):
    """7.9: the internal review's outcome, sent to the complainant as the final decision with the external
    recourse. Only a supervisor or manager who took no part in the complaint may conclude it."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="ReviewRequest")


class ClosureRequest(_Request):
    reason: Literal[ClosureReason.RESOLVED, ClosureReason.UPHELD_MONETARY_REMEDY,
                    ClosureReason.UPHELD_NON_MONETARY_REMEDY, ClosureReason.NOT_UPHELD, ClosureReason.WITHDRAWN,
                    ClosureReason.REFERRED_ELSEWHERE, ClosureReason.NO_REPLY] = Field(
        description="Why it closes. A duplicate is closed by linking it (POST /links, relation duplicate_of).")
    note: ShortText | None = Field(None, description="A few words for the complainant about the closure.")


class ReopeningRequest(_Request):
    reason: ShortText = Field(description="Why it is reopened (the audit trail keeps it).")
    owner: StaffId | None = Field(None, description="Who becomes accountable. Without it, the case's owner; a "
                                                    "case that has none gets you (a closed case cannot be "
                                                    "assigned first).")


class CaseState(BaseModel):
    """A case after a step: where it stands, and what you may do to it now."""

    reference: str
    version: int
    status: Status
    priority: Priority
    owner: str | None
    closure_reason: ClosureReason | None
    reply_due_at: datetime | None = Field(description="When the complainant's answer to the decision is due.")
    updated_at: datetime
    allowed_actions: list[Command] = Field(description="What you (this token's user and roles) may do to it now.")

    @classmethod
    def of(cls, case: Case, allowed_actions: list[Command]) -> CaseState:
        return cls.model_validate({**case.model_dump(include=set(cls.model_fields) - {"allowed_actions"}),
                                   "allowed_actions": allowed_actions})
