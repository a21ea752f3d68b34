"""The envelope of a domain event as consumers get it: every field set from the change that made it, a fresh id
per event, the actor without their roles, only catalogued types, and data its type's schema allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from amends.domain.events import DomainEvent, EventActor
from pydantic import ValidationError

from .cases import SUPERVISOR, T0

NOTE = {"action": "add_note", "before": {}, "after": {}, "reason": None}


def test_an_event_carries_the_change_that_made_it() -> None:
    at = T0 + timedelta(minutes=5)
    event = DomainEvent.new("InternalNoteAdded", "CMP-2026-7K3F9Q", 7, SUPERVISOR, at, NOTE)
    assert (event.type, event.case_reference, event.case_version, event.occurred_at, event.data) == (
        "InternalNoteAdded", "CMP-2026-7K3F9Q", 7, at, NOTE)
    assert event.actor == EventActor(kind="staff", id="supervisor-1")


def test_each_event_has_its_own_id() -> None:
    ids = {DomainEvent.new("InternalNoteAdded", "CMP-2026-7K3F9Q", 2, SUPERVISOR, T0, NOTE).event_id
           for _ in range(3)}
    assert len(ids) == 3 and all(len(i) == 36 for i in ids)


def test_an_uncatalogued_type_is_refused_by_name() -> None:
    with pytest.raises(ValueError) as raised:
        DomainEvent.new("CaseVanished", "CMP-2026-7K3F9Q", 2, SUPERVISOR, T0, NOTE)
    assert str(raised.value) == "unknown event type CaseVanished; add it to the catalogue first"


def test_data_the_type_does_not_allow_never_leaves() -> None:
    with pytest.raises(ValidationError):
        DomainEvent.new("CaseMerged", "CMP-2026-7K3F9Q", 2, SUPERVISOR, T0, {"into": "CMP-2026-AAAAAA"})
    merged = DomainEvent.new("CaseMerged", "CMP-2026-7K3F9Q", 2, SUPERVISOR, T0, {"merged_into": "CMP-2026-AAAAAA"})
    assert merged.data == {"merged_into": "CMP-2026-AAAAAA"}
