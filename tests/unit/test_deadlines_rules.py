"""Deadline arithmetic at its edges: a budget running out exactly at closing time, pauses that overlap, touch, nest
or run backwards, an open pause beginning exactly at the due date, time asked about before the start, limits and
amounts in words (singular, plural, each unit), and the messages of a calendar with too little working time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from amends.domain.calendar import BusinessCalendar
from amends.domain.deadlines import (
    Limit,
    NoWorkingTime,
    Pause,
    Unit,
    budget,
    due_at,
    in_units,
    last_day,
    paused_time,
    used,
    when_used,
)

EW = BusinessCalendar(id="ew", version=1, time_zone="Europe/London", working_days=["mon", "tue", "wed", "thu", "fri"],
                      opens=time(9), closes=time(17, 30), public_holidays={"country": "GB", "subdivision": "ENG"})
BD, CD, BH = Unit.BUSINESS_DAYS, Unit.CALENDAR_DAYS, Unit.BUSINESS_HOURS
HOUR = timedelta(hours=1)


def uk(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


RECEIVED = uk(2026, 6, 1, 9, 0)  # Monday; 3 business days end Thursday 4 June 17:30


def test_a_budget_that_runs_out_at_closing_time_is_due_then_not_at_the_next_opening() -> None:
    later = Pause(uk(2026, 6, 10, 9, 0), uk(2026, 6, 11, 9, 0))  # after the due date: moves nothing
    assert due_at(EW, RECEIVED, Limit(3, BD), [later]) == uk(2026, 6, 4, 17, 30)
    assert when_used(EW, RECEIVED, Limit(3, BD), 17 * HOUR) == uk(2026, 6, 2, 17, 30)


def test_overlapping_touching_and_nested_pauses_count_their_time_once() -> None:
    tuesday = Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 3, 9, 0))  # all of Tuesday's 8.5 hours
    one_day = uk(2026, 6, 5, 17, 30)
    assert due_at(EW, RECEIVED, Limit(3, BD), [tuesday]) == one_day
    overlapping = [Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 2, 14, 0)), Pause(uk(2026, 6, 2, 12, 0), uk(2026, 6, 3, 9))]
    assert due_at(EW, RECEIVED, Limit(3, BD), overlapping) == one_day
    touching = [Pause(uk(2026, 6, 2, 13, 0), uk(2026, 6, 3, 9, 0)), Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 2, 13))]
    assert due_at(EW, RECEIVED, Limit(3, BD), touching) == one_day
    nested = [tuesday, Pause(uk(2026, 6, 2, 10, 0), uk(2026, 6, 2, 11, 0))]
    assert due_at(EW, RECEIVED, Limit(3, BD), nested) == one_day
    assert paused_time(EW, RECEIVED, Limit(3, BD), uk(2026, 6, 4), nested + overlapping) == 8.5 * HOUR


def test_two_pauses_apart_each_move_the_due_date() -> None:
    pauses = [Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 2, 11, 0)), Pause(uk(2026, 6, 3, 15, 0), uk(2026, 6, 3, 16, 0))]
    assert due_at(EW, RECEIVED, Limit(3, BD), pauses) == uk(2026, 6, 5, 12, 0)  # 3 hours on from Thursday 17:30
    assert used(EW, RECEIVED, Limit(3, BD), uk(2026, 6, 3, 17, 30), pauses) == (8.5 + 6.5 + 7.5) * HOUR


def test_a_pause_ending_before_it_starts_stops_nothing() -> None:
    backwards = Pause(uk(2026, 6, 2, 12, 0), uk(2026, 6, 2, 10, 0))
    assert due_at(EW, RECEIVED, Limit(3, BD), [backwards]) == uk(2026, 6, 4, 17, 30)
    assert paused_time(EW, RECEIVED, Limit(3, BD), uk(2026, 6, 3), [backwards]) == timedelta()


def test_an_open_pause_from_exactly_the_due_date_leaves_it_standing() -> None:
    due = uk(2026, 6, 4, 17, 30)
    assert due_at(EW, RECEIVED, Limit(3, BD), [Pause(due)]) == due
    assert due_at(EW, RECEIVED, Limit(3, BD), [Pause(due - timedelta(minutes=1))]) is None


def test_a_pause_before_receipt_or_after_now_takes_nothing() -> None:
    early = Pause(uk(2026, 5, 29, 9, 0), uk(2026, 6, 1, 9, 0))
    assert used(EW, RECEIVED, Limit(3, BD), uk(2026, 6, 2, 9, 0), [early]) == 8.5 * HOUR
    late = Pause(uk(2026, 6, 3, 9, 0), uk(2026, 6, 4, 9, 0))
    assert used(EW, RECEIVED, Limit(3, BD), uk(2026, 6, 2, 13, 0), [late]) == 12.5 * HOUR
    assert paused_time(EW, RECEIVED, Limit(3, BD), uk(2026, 6, 2, 13, 0), [late]) == timedelta()


def test_a_pause_over_the_weekend_moves_nothing_on_business_days_and_everything_on_calendar_days() -> None:
    friday = uk(2026, 6, 5, 9, 0)
    weekend = Pause(uk(2026, 6, 6, 0, 0), uk(2026, 6, 8, 0, 0))
    assert due_at(EW, friday, Limit(1, BD), [weekend]) == uk(2026, 6, 8, 17, 30)
    assert due_at(EW, friday, Limit(3, CD), [weekend]) == uk(2026, 6, 11, 0, 0)  # end of the 8th, two days on


def test_time_asked_about_before_the_start_is_none_used_and_none_paused() -> None:
    before = RECEIVED - HOUR
    assert used(EW, RECEIVED, Limit(3, BD), RECEIVED) == timedelta()
    assert paused_time(EW, RECEIVED, Limit(3, BD), before, [Pause(before - HOUR)]) == timedelta()
    assert paused_time(EW, RECEIVED, Limit(3, BD), RECEIVED, [Pause(before)]) == timedelta()


def test_calendar_day_budgets_count_every_hour_to_the_end_of_the_last_day() -> None:
    assert budget(EW, uk(2026, 6, 1, 15, 0), Limit(0, CD)) == 9 * HOUR
    assert budget(EW, uk(2026, 6, 1, 15, 0), Limit(2, CD)) == 57 * HOUR
    assert due_at(EW, uk(2026, 6, 1, 15, 0), Limit(0, CD)) == uk(2026, 6, 2, 0, 0)
    assert budget(EW, uk(2026, 6, 6, 10, 0), Limit(1, BH)) == HOUR  # a Saturday: from Monday's opening
    assert due_at(EW, uk(2026, 6, 6, 10, 0), Limit(1, BH)) == uk(2026, 6, 8, 10, 0)


def test_limits_in_words() -> None:
    assert [str(Limit(n, u)) for u in (CD, BD, BH) for n in (0, 1, 2)] == [
        "0 days", "1 day", "2 days", "0 business days", "1 business day", "2 business days",
        "0 business hours", "1 business hour", "2 business hours"]


def test_amounts_in_words_of_each_unit() -> None:
    assert in_units(EW, BD, timedelta(hours=8.5 + 1, minutes=1)) == "1 business day 1 hour 1 minute"
    assert in_units(EW, BD, timedelta(hours=17 + 2, minutes=2)) == "2 business days 2 hours 2 minutes"
    assert in_units(EW, BD, timedelta(hours=8)) == "8 hours"
    assert in_units(EW, CD, timedelta(days=2, hours=2)) == "2 days 2 hours"
    assert in_units(EW, CD, timedelta(hours=23, minutes=59)) == "23 hours 59 minutes"
    assert in_units(EW, BH, timedelta(hours=1, minutes=30)) == "1 business hour 30 minutes"
    assert in_units(EW, BH, timedelta(hours=30)) == "30 business hours"
    assert in_units(EW, BH, timedelta(seconds=90)) == "2 minutes"  # rounded to the minute
    assert in_units(EW, BH, timedelta(seconds=29)) == "no time"


def test_the_day_a_deadline_falls_on_as_people_say_it() -> None:
    assert last_day(datetime(2026, 7, 28, 0, 0)) == date(2026, 7, 27)
    assert last_day(datetime(2026, 7, 28, 0, 0, 0, 1)) == date(2026, 7, 28)
    assert last_day(datetime(2026, 7, 28, 23, 59, 59, 999999)) == date(2026, 7, 28)
    assert last_day(datetime(2026, 7, 28, 17, 30)) == date(2026, 7, 28)


SUNDAYS_ONLY = BusinessCalendar.model_validate(EW.model_dump() | {
    "id": "sundays", "working_days": ["sun"], "public_holidays": None,
    "closure_days": {date(2026, 6, 14) + timedelta(weeks=w): "closed" for w in range(600)}})  # open 7 June only


def test_a_calendar_that_runs_out_of_working_days_says_which_and_for_what() -> None:
    with pytest.raises(NoWorkingTime) as too_few:
        due_at(SUNDAYS_ONLY, uk(2026, 6, 1), Limit(2, BD))  # received on the 7th, then no working day for ten years
    assert str(too_few.value) == "calendar sundays has too few working days for 2 business days"
    with pytest.raises(NoWorkingTime) as none:
        due_at(SUNDAYS_ONLY, uk(2026, 6, 8), Limit(2, BH))
    assert str(none.value) == "calendar sundays has no working time within ten years of 2026-06-08"
    assert due_at(SUNDAYS_ONLY, uk(2026, 6, 1), Limit(1, BH)) == uk(2026, 6, 7, 10, 0)


def test_a_complaint_received_at_closing_time_counts_as_received_the_next_working_day() -> None:
    assert due_at(EW, uk(2026, 6, 5, 17, 30), Limit(3, BD)) == uk(2026, 6, 11, 17, 30)  # Friday 17:30: from Monday
    assert due_at(EW, uk(2026, 6, 5, 17, 29), Limit(3, BD)) == uk(2026, 6, 10, 17, 30)
    assert due_at(EW, uk(2026, 6, 1, 17, 30), Limit(0, BH)) == uk(2026, 6, 2, 9, 0)


def test_a_limit_of_no_time_paused_from_receipt_falls_due_when_the_clock_runs_again() -> None:
    monday = Pause(RECEIVED, uk(2026, 6, 1, 17, 30))
    assert due_at(EW, RECEIVED, Limit(0, BH), [monday]) == uk(2026, 6, 2, 9, 0)


def test_a_backwards_pause_does_not_hide_the_pauses_after_it() -> None:
    pauses = [Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 1, 9, 0)), Pause(uk(2026, 6, 2, 9, 0), uk(2026, 6, 3, 9, 0))]
    assert due_at(EW, RECEIVED, Limit(3, BD), pauses) == uk(2026, 6, 5, 17, 30)


def test_the_paused_time_of_a_calendar_day_limit_is_every_hour_of_the_pause() -> None:
    weekend = Pause(uk(2026, 6, 6, 0, 0), uk(2026, 6, 8, 0, 0))
    assert paused_time(EW, RECEIVED, Limit(14, CD), uk(2026, 6, 9), [weekend]) == 48 * HOUR
    assert paused_time(EW, RECEIVED, Limit(14, BD), uk(2026, 6, 9), [weekend]) == timedelta()


# Open on Sunday 7 June 2026 and then only on Saturday 14 June 2036, exactly ten years (3660 days) later.
TEN_YEARS_APART = BusinessCalendar.model_validate(EW.model_dump() | {
    "id": "rare", "working_days": ["sat", "sun"], "public_holidays": None,
    "closure_days": {d: "closed" for w in range(1, 523) for d in (date(2026, 6, 6) + timedelta(weeks=w),
                                                                 date(2026, 6, 7) + timedelta(weeks=w))
                     if d != date(2036, 6, 14)}})


def test_working_time_exactly_ten_years_on_is_still_counted() -> None:
    assert due_at(TEN_YEARS_APART, uk(2026, 6, 7, 8, 0), Limit(1, BD)) == uk(2036, 6, 14, 17, 30)
    assert due_at(TEN_YEARS_APART, uk(2026, 6, 7, 18, 0), Limit(1, BH)) == uk(2036, 6, 14, 10, 0)
