"""Domain events: what happened to a case, published on the event bus as ``source=amends.cases``.

The JSON schema of every event type lives in ``infra/catalogue/events`` (generated from these models;
a test fails when they drift).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from amends.domain.model import Actor

SOURCE = "amends.cases"


class CaseOpenedData(BaseModel):
    """No personal data travels on the bus: consumers that need it read the case."""

    channel: str
    priority: str
    safety_concern: bool
    product_or_service: str
    preferred_contact_channel: str
    preferred_language: str
    received_at_local: str
    sla_policy: str | None = Field(None, description="The SLA policy and version the case is handled under.")


class ChangeData(BaseModel):
    action: str = Field(description="What was done, e.g. acknowledge, close, assign, add_message.")
    before: dict[str, Any] = Field(description="The changed fields before the change.")
    after: dict[str, Any] = Field(description="The changed fields after the change.")
    reason: str | None = None


class CaseAssignedData(ChangeData):
    owner: str | None


class UrgentCaseFlaggedData(BaseModel):
    priority_before: str
    priority: str
    safety_risk: bool
    severity: str
    immediate_action: bool
    category: str


class CaseLinkedData(ChangeData):
    other_reference: str
    relation: str = Field(description="related, or merged_from (the other case was merged into this one).")


class CaseMergedData(BaseModel):
    merged_into: str = Field(description="The case this duplicate now lives on; its complainant is told so.")


class DecisionCommunicatedData(BaseModel):
    outcome: str
    final: bool = Field(description="The outcome of an internal review: only external recourse is left.")
    remedies: list[str] = Field(description="The kinds of remedy offered.")
    money: dict[str, str] = Field(description="Total offered per ISO 4217 currency, as a decimal string.")
    reply_due_at: str = Field(description="When the complainant's answer is due; without one the case closes.")
    external_body: str
    external_time_limit: str


class SlaEscalatedData(BaseModel):
    rule: str
    level: int
    milestone: str
    actions: list[dict[str, Any]] = Field(description="What the rule does: notify_role (role), notify_owner, "
                                                      "notify_person (address), notify_complainant (a holding "
                                                      "reply), return_to_queue, raise_priority, ...")
    reason: str = Field(description="Why it fired, and where the milestone stands, in one paragraph.")
    owner: str | None = Field(description="The case's owner when it fired (notify_owner tells them).")


class SlaBreachedData(BaseModel):
    milestone: str
    rule: str
    level: int


# Every event type the system publishes: what it means and the shape of its data. Consumers subscribe by
# detail-type; infra/catalogue/events holds one JSON schema per entry.
CATALOGUE: dict[str, tuple[str, type[BaseModel]]] = {
    "CaseOpened": ("A complaint was received and given its reference (ISO 10002 7.2).", CaseOpenedData),
    "CaseStatusChanged": ("A case moved along its lifecycle; data.action says how, data.before/after from what "
                          "to what.", ChangeData),
    "CaseAssigned": ("A case was given an accountable owner (7.6).", CaseAssignedData),
    "InternalNoteAdded": ("Staff added an internal note (never shown to the complainant; the note itself stays in "
                          "the case).", ChangeData),
    "MessageAdded": ("The complainant added information to their case (the text stays in the case).", ChangeData),
    "MessageAddedAfterClosure": ("The complainant wrote (by email) to their closed case inside its reopen window: "
                                 "kept on the case for staff to decide whether to reopen.", ChangeData),
    "StaffReplySent": ("Staff sent the complainant a reply by email (the text stays in the case; data.reason names "
                       "the Message-ID).", ChangeData),
    "MailBounced": ("Mail we sent on a case bounced (data.reason: the recipients and their status codes).",
                    ChangeData),
    "UrgentCaseFlagged": ("An assessment made a case urgent (a safety risk always does; 7.5).", UrgentCaseFlaggedData),
    "CaseLinked": ("A case was linked to another: as related, or because the other was merged into it.",
                   CaseLinkedData),
    "CaseMerged": ("A duplicate case was closed and merged into another (data.merged_into).", CaseMergedData),
    "DecisionCommunicated": ("A decision was sent to the complainant with its reasons, remedies and recourse (7.8); "
                             "the texts stay in the case.", DecisionCommunicatedData),
    "CaseEscalated": ("The SLA sweep fired escalation rules on a case (data.after says what it changed).", ChangeData),
    "SlaEscalated": ("One escalation rule reached on a case: who is to be told and what is done (the notifier "
                     "acts on it).", SlaEscalatedData),
    "SlaBreached": ("A milestone's time ran out without it being met (for an organisation's own systems).",
                    SlaBreachedData),
}


class EventActor(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: str
    id: str


class DomainEvent(BaseModel):
    """The envelope every event shares; ``detail`` differs by type."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(description="Unique per event; consumers use it to ignore redeliveries.")
    type: str = Field(description="The detail-type on the bus, e.g. CaseOpened.")
    case_reference: str
    case_version: int = Field(description="The case version this event produced; orders events of one case.")
    occurred_at: datetime
    actor: EventActor
    data: dict[str, Any] = Field(description="What changed; differs by type (see the catalogue).")

    @classmethod
    def new(
        cls, type_: str, reference: str, version: int, actor: Actor, at: datetime, detail: dict[str, Any]
    ) -> DomainEvent:
        if type_ not in CATALOGUE:
            raise ValueError(f"unknown event type {type_}; add it to the catalogue first")
        CATALOGUE[type_][1].model_validate(detail)  # an event never leaves with data its schema does not allow
        return cls(
            event_id=str(uuid.uuid4()), type=type_, case_reference=reference, case_version=version,
            occurred_at=at, actor=EventActor(kind=actor.kind, id=actor.id), data=detail,
        )


def event_schema(type_: str) -> dict[str, Any]:
    """JSON schema of the EventBridge event carrying ``type_`` (for the catalogue and consumers' tests)."""
    description, data_model = CATALOGUE[type_]
    envelope = DomainEvent.model_json_schema()
    envelope["properties"]["type"] = {"const": type_, "title": "Type"}
    data_schema = data_model.model_json_schema()
    # Refs are "#/$defs/...": keep them at the root. The envelope always has some (it refers to EventActor).
    defs = {**envelope.pop("$defs"), **data_schema.pop("$defs", {})}
    envelope["properties"]["data"] = data_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "title": type_,
        "description": description,
        "type": "object",
        "required": ["source", "detail-type", "detail"],
        "properties": {
            "source": {"const": SOURCE},
            "detail-type": {"const": type_},
            "detail": envelope,
        },
    }
