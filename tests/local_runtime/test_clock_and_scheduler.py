"""The runtime clock and schedule expressions (no emulator needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from amends_local.clock import ENV_VAR, RuntimeClock
from amends_local.scheduler import rate_period, scheduled_event
from amends_local.template import Rule


def test_the_clock_moves_forward_only_and_persists(tmp_path) -> None:
    state = tmp_path / "clock.json"
    clock = RuntimeClock(state)
    woken = []
    clock.on_advance(lambda: woken.append(True))
    now = clock.advance(timedelta(days=3))
    assert now - datetime.now(UTC) > timedelta(days=3) - timedelta(seconds=5)
    assert clock.environment() == {ENV_VAR: str(timedelta(days=3).total_seconds())} and woken == [True]
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    assert RuntimeClock(state).offset == timedelta(days=3)  # a restart does not travel back
    assert RuntimeClock(None).offset == timedelta(0)


def test_rate_expressions() -> None:
    assert rate_period("rate(5 minutes)") == timedelta(minutes=5)
    assert rate_period("rate(1 hour)") == timedelta(hours=1)
    assert rate_period("rate(2 days)") == timedelta(days=2)
    assert rate_period("cron(0 12 * * ? *)") is None
    for wrong in ("rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)"):
        with pytest.raises(ValueError):
            rate_period(wrong)


def test_the_scheduled_event_is_eventbridges() -> None:
    rule = Rule(
        "R",
        "amends-R",
        "arn:aws:events:eu-west-2:123456789012:rule/amends-R",
        "default",
        None,
        "rate(5 minutes)",
        True,
        (),
    )
    event = scheduled_event(rule, datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert (
        event["time"] == "2030-01-02T03:04:05Z" and event["resources"] == [rule.arn] and event["detail"] == {}
    )
    assert event["account"] == "123456789012" and event["region"] == "eu-west-2"
