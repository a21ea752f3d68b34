"""Publishes domain events on the case event bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3

from amends.domain.events import SOURCE, DomainEvent

MAX_ENTRIES_PER_CALL = 10  # PutEvents limit


class EventBridgePublisher:
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self.bus = bus_name
        self.client = client or boto3.client("events")

    def publish(self, events: Sequence[DomainEvent]) -> list[DomainEvent]:
        failed: list[DomainEvent] = []
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            chunk = list(events[start:start + MAX_ENTRIES_PER_CALL])
            response = self.client.put_events(Entries=[self._entry(e) for e in chunk])
            if response.get("FailedEntryCount"):
                # Entries come back in request order; a failed one carries an ErrorCode.
                failed += [e for e, r in zip(chunk, response["Entries"], strict=True) if r.get("ErrorCode")]
        return failed

    def _entry(self, event: DomainEvent) -> dict[str, Any]:
        return {
            "EventBusName": self.bus,
            "Source": SOURCE,
            "DetailType": event.type,
            "Time": event.occurred_at,
            "Resources": [],
            "Detail": json.dumps(event.model_dump(mode="json"), separators=(",", ":")),
        }
