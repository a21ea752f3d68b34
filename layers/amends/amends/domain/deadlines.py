"""Deadline arithmetic on a business calendar: when a time limit ends, how much of it is used, with pauses.

A time limit is an amount of a unit counted from an instant (the receipt of a complaint):

- ``calendar_days``: by the end (local midnight) of the day that many days after the day it started;
- ``business_days``: by the close of business on that many working days after the day of receipt, where a
  complaint received after closing time or on a day that is not a working day counts as received on the next
  working day (the rule the FCA's DISP and ASIC's RG 271 allow);
- ``business_hours``: that many working hours from the start (from the next opening when it started outside them).

A time limit is also a budget: the time the unit counts (every hour for calendar days, working hours otherwise)
between the start and the end above. While the clock is paused (the case awaits the complainant) nothing of the
budget is used, so the due date is where the budget runs out once the paused time is left out, and every pause moves
it on by exactly the counted time it covered. No AWS, no clock reading: the caller says when "now" is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from amends.domain.calendar import BusinessCalendar

HORIZON = timedelta(days=3660)  # no time limit runs longer than ten years: a calendar with no working days fails fast
DAY = timedelta(days=1)


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    BUSINESS_HOURS = "business_hours"


class NoWorkingTime(ValueError):
    """The calendar has no working time in the next ten years (every day closed)."""


@dataclass(frozen=True)
class Pause:
    """The clock stopped from ``start`` until ``end`` (None: still stopped). Instants, timezone-aware."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        words = {Unit.CALENDAR_DAYS: "day", Unit.BUSINESS_DAYS: "business day", Unit.BUSINESS_HOURS: "business hour"}
        return f"{self.amount} {words[self.unit]}{'' if self.amount == 1 else 's'}"


def _spans(calendar: BusinessCalendar, unit: Unit, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The counted spans of wall-clock time from ``since`` on, in order: whole days, or each working day's hours."""
    day = since.date()
    while day - since.date() <= HORIZON:
        if unit is Unit.CALENDAR_DAYS:
            span: tuple[datetime, datetime] | None = (datetime.combine(day, time()), datetime.combine(day + DAY, time()))
        else:
            span = calendar.hours_on(day)
        if span and span[1] > since:
            yield max(span[0], since), span[1]
        day += DAY
    raise NoWorkingTime(f"calendar {calendar.id} has no working time within ten years of {since:%Y-%m-%d}")


def _walls(calendar: BusinessCalendar, pauses: Iterable[Pause], until: datetime) -> list[tuple[datetime, datetime]]:
    """The pauses as sorted, merged wall-clock spans; one still running ends at ``until``."""
    spans = sorted((calendar.local(p.start), calendar.local(p.end) if p.end else until) for p in pauses)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _running(spans: Iterable[tuple[datetime, datetime]], paused: Sequence[tuple[datetime, datetime]]
             ) -> Iterator[tuple[datetime, datetime]]:
    """``spans`` less the ``paused`` ones: the time the clock runs."""
    for start, end in spans:
        for p_start, p_end in paused:
            if p_end <= start or p_start >= end:
                continue
            if p_start > start:
                yield start, p_start
            start = max(start, p_end)
            if start >= end:
                break
        if start < end:
            yield start, end


def _nominal_end(calendar: BusinessCalendar, start: datetime, limit: Limit) -> datetime:
    """The wall-clock end of ``limit`` from wall-clock ``start``, with no pause."""
    if limit.unit is Unit.CALENDAR_DAYS:
        return datetime.combine(start.date() + (limit.amount + 1) * DAY, time())
    if limit.unit is Unit.BUSINESS_HOURS:
        return _consume(_spans(calendar, limit.unit, start), limit.amount * timedelta(hours=1))
    receipt = next(_spans(calendar, Unit.BUSINESS_DAYS, start))[0].date()  # the working day it counts as received
    day, counted = receipt, 0
    while counted < limit.amount:
        day += DAY
        counted += calendar.is_working_day(day)
        if day - receipt > HORIZON:
            raise NoWorkingTime(f"calendar {calendar.id} has too few working days for {limit}")
    hours = calendar.hours_on(day)
    assert hours is not None
    return hours[1]


def _consume(spans: Iterable[tuple[datetime, datetime]], budget: timedelta) -> datetime:
    """Where ``budget`` of counted time runs out along ``spans`` (``_spans`` never runs out: it raises first)."""
    left = budget
    for span_start, span_end in spans:
        if span_end - span_start >= left:
            return span_start + left
        left -= span_end - span_start
    raise AssertionError  # pragma: no cover - _spans raises before it ends


def _measure(spans: Iterable[tuple[datetime, datetime]], until: datetime) -> timedelta:
    total = timedelta()
    for start, end in spans:
        if start >= until:
            break
        total += min(end, until) - start
    return total


def budget(calendar: BusinessCalendar, start: datetime, limit: Limit) -> timedelta:
    """The counted time ``limit`` grants from ``start`` (e.g. 8.5 hours for each business day of 09:00-17:30)."""
    wall = calendar.local(start)
    return _measure(_spans(calendar, limit.unit, wall), _nominal_end(calendar, wall, limit))


def due_at(calendar: BusinessCalendar, start: datetime, limit: Limit, pauses: Iterable[Pause] = ()) -> datetime | None:
    """When ``limit`` from ``start`` ends, the paused time left out; None while the clock is stopped (an open pause
    that has begun before the budget ran out: the due date is set again when it resumes)."""
    pauses = list(pauses)
    if not pauses:
        return calendar.instant(_nominal_end(calendar, calendar.local(start), limit))
    return when_used(calendar, start, limit, budget(calendar, start, limit), pauses)


def when_used(calendar: BusinessCalendar, start: datetime, limit: Limit, amount: timedelta,
              pauses: Iterable[Pause] = ()) -> datetime | None:
    """When ``amount`` of the counted time of ``limit``'s unit will have run from ``start`` (half the budget, or the
    budget and two hours more), pauses left out; None when an open pause stops the clock before that."""
    wall, pauses = calendar.local(start), list(pauses)
    closed = [p for p in pauses if p.end is not None]
    end = _consume(_running(_spans(calendar, limit.unit, wall), _walls(calendar, closed, wall)), amount)
    if any(p.end is None and calendar.local(p.start) < end for p in pauses):
        return None
    return calendar.instant(end)


def used(calendar: BusinessCalendar, start: datetime, limit: Limit, now: datetime,
         pauses: Iterable[Pause] = ()) -> timedelta:
    """How much of the counted time has run from ``start`` to ``now``, paused time left out."""
    wall, until = calendar.local(start), calendar.local(now)
    if until <= wall:
        return timedelta()
    return _measure(_running(_spans(calendar, limit.unit, wall), _walls(calendar, pauses, until)), until)


def paused_time(calendar: BusinessCalendar, start: datetime, limit: Limit, now: datetime,
                pauses: Iterable[Pause]) -> timedelta:
    """How much counted time the pauses up to ``now`` took out of the clock."""
    wall, until = calendar.local(start), calendar.local(now)
    if until <= wall:
        return timedelta()
    return _measure(_spans(calendar, limit.unit, wall), until) - used(calendar, start, limit, now, pauses)


def last_day(local: datetime) -> date:
    """The day a deadline falls on as people say it: one at midnight is "by the end of" the day before."""
    return (local - timedelta(microseconds=1)).date()  # only midnight itself falls back a day


def in_units(calendar: BusinessCalendar, unit: Unit, amount: timedelta) -> str:
    """Counted time in words of its unit: "3 business days 2 hours", "12 days 4 hours", "5 business hours"."""
    minutes = round(amount.total_seconds() / 60)
    per_day = 24 * 60 if unit is Unit.CALENDAR_DAYS else round(calendar.day_length.total_seconds() / 60)
    if unit is Unit.BUSINESS_HOURS:
        per_day = 0
    days, rest = divmod(minutes, per_day) if per_day else (0, minutes)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {'business ' if unit is Unit.BUSINESS_DAYS else ''}day{'s' * (days != 1)}")
    if hours:
        parts.append(f"{hours} {'business ' if unit is Unit.BUSINESS_HOURS else ''}hour{'s' * (hours != 1)}")
    if mins:
        parts.append(f"{mins} minute{'s' * (mins != 1)}")
    return " ".join(parts) or "no time"
