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

# Every event type the system publishes, with what it means. Consumers subscribe by detail-type.
CATALOGUE: dict[str, str] = {
    "CaseOpened": "A complaint was received and given its reference (ISO 10002 7.2).",
    "CaseStatusChanged": "A case moved along its lifecycle; detail.action says how, before/after say from where to where.",
    "CaseAssigned": "A case was given an accountable owner (7.6).",
    "InternalNoteAdded": "Staff added an internal note; never shown to the complainant.",
    "MessageAdded": "The complainant added information to their case.",
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
        return cls(
            event_id=str(uuid.uuid4()), type=type_, case_reference=reference, case_version=version,
            occurred_at=at, actor=EventActor(kind=actor.kind, id=actor.id), data=detail,
        )
