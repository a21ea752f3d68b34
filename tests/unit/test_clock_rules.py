"""Clocks: the system clock gives UTC instants, and an offset clock is the system clock moved on by its offset, which
advancing it adds to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amends.domain.clock import FixedClock, OffsetClock, SystemClock


def test_the_system_clock_gives_the_current_instant_in_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_an_offset_clock_without_an_offset_is_the_system_clock() -> None:
    before = datetime.now(UTC)
    now = OffsetClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_an_offset_clock_is_ahead_by_its_offset_and_advancing_adds_to_it() -> None:
    clock = OffsetClock(timedelta(days=3))
    clock.advance(timedelta(days=2))
    clock.advance(timedelta(hours=1))
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is UTC
    assert before + timedelta(days=5, hours=1) <= now <= datetime.now(UTC) + timedelta(days=5, hours=1)


def test_a_fixed_clock_stands_still_until_advanced() -> None:
    at = datetime(2026, 6, 1, 9, tzinfo=UTC)
    clock = FixedClock(at)
    assert clock.now() == clock.now() == at
    clock.advance(timedelta(minutes=5))
    assert clock.now() == at + timedelta(minutes=5)
