"""What handling a complaint records after receipt (ISO 10002 7.5-7.9): the assessment, the response proposed and
its approval, the decision with its recourse, links between cases and the closure.

Values only; the commands that change a case with them are in :mod:`amends.domain.steps`. The long free texts
(the reasons of a response) are :data:`LongText`; everything else is short and bounded, so a case stays small.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from amends.domain.text import CleanText, LongText

# A reason, a note, a question or one action taken: a few sentences, never a document.
SHORT_TEXT_MAX_CHARS = 2_000
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_TEXT_MAX_CHARS)]


class _Value(CleanText):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- assessment (7.5) ---------------------------------------------------------------------------------------------

class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Complexity(StrEnum):
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"


class Impact(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Findings(_Value):
    """What the assessor decides about a complaint; the priority follows from it by the priority rules."""

    severity: Severity
    safety_risk: bool = Field(description="Someone's health or safety may be at risk: the case becomes urgent.")
    complexity: Complexity
    impact: Impact
    immediate_action: bool = Field(description="Something must be done at once, before the investigation ends.")
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Assessment(Findings):
    assessed_by: str
    assessed_at: datetime

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# -- the response: proposed, approved, decided (7.7, 7.8) ---------------------------------------------------------

class Outcome(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"


class RemedyKind(StrEnum):
    MONETARY = "monetary"
    APOLOGY = "apology"
    EXPLANATION = "explanation"
    CORRECTIVE_ACTION = "corrective_action"
    OTHER = "other"


OUTCOME_WORDS = {Outcome.UPHELD: "we uphold your complaint", Outcome.PARTLY_UPHELD: "we uphold part of your complaint",
                 Outcome.NOT_UPHELD: "we do not uphold your complaint"}


class Remedy(_Value):
    kind: RemedyKind
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)] | None = Field(
        None, description="Required for a monetary remedy, and only for one.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        None, description="ISO 4217 code (e.g. GBP, EUR). Required for a monetary remedy, and only for one.")
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000)] | None = None

    @model_validator(mode="after")
    def _money_only_when_monetary(self) -> Remedy:
        monetary = self.kind is RemedyKind.MONETARY
        if monetary and (self.amount is None or self.currency is None):
            raise ValueError("a monetary remedy needs an amount and a currency")
        if not monetary and (self.amount is not None or self.currency is not None):
            raise ValueError(f"only a monetary remedy has an amount and a currency, not {self.kind.value}")
        return self

    def render(self) -> str:
        what = self.kind.value.replace("_", " ")
        if self.kind is RemedyKind.MONETARY:
            what = f"a payment of {self.amount:,.2f} {self.currency}"
        return f"{what}: {self.description}" if self.description else what


class ResponseContent(_Value):
    """What the organisation says in answer to the complaint: proposed first, then decided."""

    outcome: Outcome
    reasons: LongText = Field(description="Why: the findings the outcome rests on, in words the complainant follows.")
    actions_taken: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=20)
    remedies: list[Remedy] = Field(default_factory=list, max_length=10)

    def money(self) -> dict[str, Decimal]:
        """The total offered in each currency (several payments of one kind count together)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for remedy in self.remedies:
            if remedy.kind is RemedyKind.MONETARY and remedy.currency and remedy.amount:
                totals[remedy.currency] += remedy.amount
        return dict(totals)

    def content(self) -> ResponseContent:
        return ResponseContent.model_validate(self.model_dump(include=set(ResponseContent.model_fields)))

    def summary(self) -> dict[str, Any]:
        """What the timeline's before/after and the bus carry: the facts, not the free texts (those are in the
        entry's body and on the case)."""
        return {
            "outcome": self.outcome.value,
            "remedies": [r.kind.value for r in self.remedies],
            "money": {currency: str(total) for currency, total in self.money().items()},
        }

    def render(self) -> str:
        """The response as the complainant (or, for a proposal, a colleague) reads it."""
        lines = [f"Outcome: {OUTCOME_WORDS[self.outcome]}.", "", self.reasons]
        if self.actions_taken:
            lines += ["", "What we have done:", *(f"- {a}" for a in self.actions_taken)]
        if self.remedies:
            lines += ["", "What we offer:", *(f"- {r.render()}" for r in self.remedies)]
        return "\n".join(lines)


class Proposal(ResponseContent):
    proposed_by: str
    proposed_at: datetime
    needs_approval: bool
    approval_reasons: list[str] = Field(default_factory=list, description="Why it needs a second pair of eyes.")
    approved_by: str | None = None
    approved_at: datetime | None = None

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "proposed_by": self.proposed_by, "needs_approval": self.needs_approval,
                "approval_reasons": self.approval_reasons, "approved_by": self.approved_by}


class ExternalRecourse(_Value):
    body: str = Field(description="Where the complainant can take the complaint next, e.g. the ombudsman.")
    time_limit: str = Field(description="How long they have to do so, e.g. 'six months'.")
    details: str = Field(description="How, and that it is free of charge.")


class Recourse(_Value):
    internal_review: str | None = Field(description="How to ask for an internal review; none after a final decision.")
    external: ExternalRecourse


class Decision(ResponseContent):
    recourse: Recourse
    final: bool = Field(description="True for the outcome of an internal review: nothing is left but external recourse.")
    decided_by: str
    decided_at: datetime

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "final": self.final, "decided_by": self.decided_by}

    def render(self) -> str:
        lines = [super().render(), ""]
        if self.recourse.internal_review:
            lines.append(self.recourse.internal_review)
        external = self.recourse.external
        lines.append(f"You can also refer your complaint to {external.body}, within {external.time_limit} of "
                     f"this {'final ' if self.final else ''}decision. {external.details}")
        return "\n".join(lines)


# -- links and closure --------------------------------------------------------------------------------------------

class LinkRelation(StrEnum):
    RELATED = "related"  # about the same matter; both cases stay open
    DUPLICATE_OF = "duplicate_of"  # this case is closed and merged into the other
    MERGED_FROM = "merged_from"  # the other case was merged into this one (the reverse of duplicate_of)


class CaseLink(_Value):
    reference: str
    relation: LinkRelation
    linked_by: str
    linked_at: datetime

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


MAX_LINKS = 50  # a case about the same matter as fifty others is a bulk problem, not a link list


class ClosureReason(StrEnum):
    RESOLVED = "resolved"
    UPHELD_MONETARY_REMEDY = "upheld_monetary_remedy"
    UPHELD_NON_MONETARY_REMEDY = "upheld_non_monetary_remedy"
    NOT_UPHELD = "not_upheld"
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    NO_REPLY = "no_reply"


def closure_reason_for(decision: ResponseContent) -> ClosureReason:
    """The reason a case closes with once its decision stands."""
    if decision.outcome is Outcome.NOT_UPHELD:
        return ClosureReason.NOT_UPHELD
    if decision.money():
        return ClosureReason.UPHELD_MONETARY_REMEDY
    return ClosureReason.UPHELD_NON_MONETARY_REMEDY


class Closure(_Value):
    reason: ClosureReason
    note: ShortText | None = None
    closed_by: str
    closed_at: datetime
    reopen_until: datetime = Field(description="The case can be reopened until then; after it, a new complaint.")
    merged_into: str | None = Field(None, description="The case this duplicate was merged into.")

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"note"})


class InformationRequest(_Value):
    question: ShortText
    asked_by: str
    asked_at: datetime

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"question"})


# -- the organisation's settings the rules read -------------------------------------------------------------------

class HandlingPolicy(BaseModel):
    """The numbers and words the rules take from configuration (built from Settings by the services)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_threshold: Decimal = Field(Decimal(500), gt=0)
    reply_window: timedelta = timedelta(days=28)
    reopen_window: timedelta = timedelta(days=56)
    external: ExternalRecourse
