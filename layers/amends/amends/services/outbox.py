"""Reliable publication of domain events (transactional outbox).

Every case change writes its events to the table in the same transaction as the change. The stream
publisher sends them to the bus within a second; the scheduled sweeper publishes anything still pending
after a grace period. Delivery is at least once: consumers deduplicate on ``event_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from amends.domain.clock import Clock
from amends.domain.events import DomainEvent
from amends.services.ports import EventPublisher, OutboxStore


def publish(
    events: Sequence[DomainEvent], *, publisher: EventPublisher, outbox: OutboxStore, clock: Clock
) -> list[DomainEvent]:
    """Publish and mark what went out; return what failed (the caller reports those for retry)."""
    failed = publisher.publish(events)
    failed_ids = {e.event_id for e in failed}
    sent = [e for e in events if e.event_id not in failed_ids]
    if sent:
        outbox.mark_published(sent, clock.now())
    return failed


def sweep(*, grace_seconds: int, clock: Clock, publisher: EventPublisher, outbox: OutboxStore,
          batch: int = 100) -> tuple[int, int]:
    """Publish events pending for longer than the grace period; returns (published, failed)."""
    cutoff = (clock.now() - timedelta(seconds=grace_seconds)).isoformat()
    pending = outbox.pending_events(cutoff, batch)
    failed = publish(pending, publisher=publisher, outbox=outbox, clock=clock)
    return len(pending) - len(failed), len(failed)
