"""Deadline arithmetic, to the minute: weekends, bank holidays of England and Wales over Christmas and Easter
2026-2027, the clocks changing, business hours that end mid-limit, pauses over holidays, a resume after the original
deadline. The expected instants are worked out by hand from the calendar (UK time; GMT in winter, BST in summer)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from amends.domain.calendar import BusinessCalendar
from amends.domain.deadlines import Limit, NoWorkingTime, Pause, Unit, budget, due_at, in_units, paused_time, used
from hypothesis import given, settings
from hypothesis import strategies as st

LONDON = ZoneInfo("Europe/London")
EW = BusinessCalendar(id="ew", version=1, time_zone="Europe/London", working_days=["mon", "tue", "wed", "thu", "fri"],
                      opens=time(9), closes=time(17, 30), public_holidays={"country": "GB", "subdivision": "ENG"})


def uk(*args: int) -> datetime:
    """A UK wall-clock time as an instant."""
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


BD, CD, BH = Unit.BUSINESS_DAYS, Unit.CALENDAR_DAYS, Unit.BUSINESS_HOURS


@pytest.mark.parametrize(("received", "limit", "due"), [
    # Plain week: Monday morning, 3 business days -> close of Thursday.
    (uk(2026, 6, 1, 10, 0), Limit(3, BD), uk(2026, 6, 4, 17, 30)),
    # Received after closing on Friday: counts as received on Monday, so 3 business days end on Thursday.
    (uk(2026, 6, 5, 18, 0), Limit(3, BD), uk(2026, 6, 11, 17, 30)),
    # Received on Saturday: the same.
    (uk(2026, 6, 6, 11, 0), Limit(3, BD), uk(2026, 6, 11, 17, 30)),
    # Christmas 2026: Friday 25th and Monday 28th (Boxing Day observed) are bank holidays; 1 January too.
    (uk(2026, 12, 23, 16, 0), Limit(2, BD), uk(2026, 12, 29, 17, 30)),
    (uk(2026, 12, 23, 16, 0), Limit(15, BD), uk(2027, 1, 18, 17, 30)),
    # Christmas 2027: Monday 27th and Tuesday 28th are the observed days.
    (uk(2027, 12, 24, 12, 0), Limit(1, BD), uk(2027, 12, 29, 17, 30)),
    # Easter 2027 (Good Friday 26 March, Easter Monday 29 March) with the clocks going forward on the 28th:
    # received Thursday in GMT, due the next Thursday at 17:30 BST (16:30 UTC).
    (uk(2027, 3, 25, 12, 0), Limit(3, BD), uk(2027, 4, 1, 17, 30)),
    (uk(2027, 3, 25, 12, 0), Limit(3, BD), datetime(2027, 4, 1, 16, 30, tzinfo=UTC)),
    # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
    (uk(2026, 4, 2, 9, 0), Limit(1, BD), uk(2026, 4, 7, 17, 30)),
    # Eight weeks is 56 calendar days to the end of the day, holidays or not; across the clocks going back.
    (uk(2026, 9, 15, 14, 20), Limit(56, CD), uk(2026, 11, 11, 0, 0)),
    (uk(2026, 9, 15, 14, 20), Limit(56, CD), datetime(2026, 11, 11, 0, 0, tzinfo=UTC)),
    # Business hours that end mid-day: Friday 17:00 + 10 hours = 0.5 Friday + 8.5 Monday + 1 Tuesday -> 10:00.
    (uk(2026, 6, 5, 17, 0), Limit(10, BH), uk(2026, 6, 9, 10, 0)),
    # Business hours started before opening: from 09:00.
    (uk(2026, 6, 1, 7, 0), Limit(4, BH), uk(2026, 6, 1, 13, 0)),
    # Business hours over Easter 2027: Thursday 15:00 + 4 hours = 2.5 Thursday + 1.5 Tuesday (BST) -> 10:30.
    (uk(2027, 3, 25, 15, 0), Limit(4, BH), uk(2027, 3, 30, 10, 30)),
])
def test_due_without_pauses(received: datetime, limit: Limit, due: datetime) -> None:
    assert due_at(EW, received, limit) == due


def test_a_pause_over_christmas_moves_the_due_date_by_the_business_time_it_covered() -> None:
    received = uk(2026, 12, 21, 9, 0)  # Monday; 5 business days: 22, 23, 24, 29, 30 -> Wednesday 30 December
    assert due_at(EW, received, Limit(5, BD)) == uk(2026, 12, 30, 17, 30)
    # Paused Wednesday 23rd 13:00 to Tuesday 29th 11:00: 4.5 h of the 23rd, all of the 24th, 2 h of the 29th
    # (25th, 28th holidays; weekend) = 15 business hours taken out; they run on after 17:30 on the 30th:
    # 31st 8.5 h, then (1 January a holiday) Monday 4th 6.5 h -> 15:30.
    pause = Pause(uk(2026, 12, 23, 13, 0), uk(2026, 12, 29, 11, 0))
    assert due_at(EW, received, Limit(5, BD), [pause]) == uk(2027, 1, 4, 15, 30)
    assert paused_time(EW, received, Limit(5, BD), uk(2027, 1, 5), [pause]) == timedelta(hours=15)


def test_a_resume_after_the_original_deadline_gives_back_what_was_left() -> None:
    received = uk(2026, 6, 1, 9, 0)  # 3 business days -> Thursday 4th 17:30
    pause = Pause(uk(2026, 6, 2, 12, 0), uk(2026, 6, 15, 9, 0))  # paused on Tuesday noon, resumed two weeks later
    # The budget: the rest of Monday (the day of receipt) and three more days, 4 x 8.5 = 34 h. Used before the
    # pause: Monday 8.5 h + Tuesday 3 h; left: 22.5 h from Monday 15th 09:00: 8.5, 8.5, then 5.5 on Wednesday 17th.
    assert due_at(EW, received, Limit(3, BD), [pause]) == uk(2026, 6, 17, 14, 30)


def test_while_paused_there_is_no_due_date_and_the_used_time_stands_still() -> None:
    received = uk(2026, 6, 1, 9, 0)
    paused = [Pause(uk(2026, 6, 2, 12, 0))]
    assert due_at(EW, received, Limit(3, BD), paused) is None
    assert used(EW, received, Limit(3, BD), uk(2026, 6, 20), paused) == timedelta(hours=11.5)
    # A pause that begins after the limit ran out leaves the (past) due date where it was.
    assert due_at(EW, received, Limit(1, BD), [Pause(uk(2026, 6, 3, 9, 0))]) == uk(2026, 6, 2, 17, 30)


def test_a_calendar_day_limit_pauses_in_wall_clock_time_across_the_clocks_changing() -> None:
    received = uk(2026, 10, 20, 10, 0)  # 14 days -> end of 3 November
    pause = Pause(uk(2026, 10, 24, 0, 0), uk(2026, 10, 26, 0, 0))  # two local days, 49 real hours (clocks go back)
    assert due_at(EW, received, Limit(14, CD), [pause]) == uk(2026, 11, 6, 0, 0)


def test_budget_used_and_words() -> None:
    received = uk(2026, 6, 1, 13, 0)
    assert budget(EW, received, Limit(2, BD)) == timedelta(hours=4.5 + 2 * 8.5)
    assert used(EW, received, Limit(2, BD), uk(2026, 6, 2, 10, 15)) == timedelta(hours=4.5 + 1.25)
    assert used(EW, received, Limit(2, BD), uk(2026, 5, 1)) == timedelta()
    assert in_units(EW, BD, timedelta(hours=8.5 * 3 + 2, minutes=5)) == "3 business days 2 hours 5 minutes"
    assert in_units(EW, CD, timedelta(days=1, hours=1)) == "1 day 1 hour"
    assert in_units(EW, BH, timedelta(hours=20)) == "20 business hours"
    assert in_units(EW, BD, timedelta()) == "no time"
    assert str(Limit(1, BD)) == "1 business day" and str(Limit(56, CD)) == "56 days"


def test_own_closure_days_count_like_holidays() -> None:
    closed = EW.model_copy(update={"closure_days": {date(2026, 6, 2): "staff training"}})
    assert closed.closed_on(date(2026, 6, 2)) == "staff training"
    assert due_at(closed, uk(2026, 6, 1, 10, 0), Limit(3, BD)) == uk(2026, 6, 5, 17, 30)


def test_a_calendar_without_working_time_fails_fast() -> None:
    always_closed = BusinessCalendar.model_validate(EW.model_dump() | {
        "working_days": ["sun"], "public_holidays": None,
        "closure_days": {date(2026, 6, 7) + timedelta(weeks=w): "closed" for w in range(600)}})
    with pytest.raises(NoWorkingTime):
        due_at(always_closed, uk(2026, 6, 1), Limit(1, BD))


def test_pinning_writes_the_holidays_in_and_drops_the_library() -> None:
    pinned = EW.pinned(2026)
    assert pinned.public_holidays is None
    assert pinned.closure_days[date(2027, 3, 26)] == "Good Friday"
    for start in (uk(2026, 12, 23, 16), uk(2027, 3, 25, 12), uk(2028, 12, 22, 12)):
        assert due_at(pinned, start, Limit(5, BD)) == due_at(EW, start, Limit(5, BD))


# Property tests: instants within two years, pauses within them, holidays added anywhere.
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(UTC))
limits = st.builds(Limit, st.integers(0, 40), st.sampled_from(Unit))


@st.composite
def pauses(draw) -> list[Pause]:
    out = []
    for start in draw(st.lists(instants, max_size=3)):
        out.append(Pause(start, start + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=40)))))
    return out


@settings(max_examples=150, deadline=None)
@given(received=instants, limit=limits, before=pauses(), extra=pauses())
def test_a_pause_never_makes_a_due_date_earlier(received, limit, before, extra) -> None:
    first = due_at(EW, received, limit, before)
    more = due_at(EW, received, limit, before + extra)
    assert first is not None and more is not None and more >= first


@settings(max_examples=150, deadline=None)
@given(received=instants, limit=limits, pause=pauses(), holiday=st.dates(date(2026, 1, 1), date(2028, 6, 30)))
def test_adding_a_holiday_never_makes_a_due_date_earlier(received, limit, pause, holiday) -> None:
    more_closed = EW.model_copy(update={"closure_days": {holiday: "an extra holiday"}})
    assert due_at(more_closed, received, limit, pause) >= due_at(EW, received, limit, pause)


@settings(max_examples=100, deadline=None)
@given(received=instants, limit=limits, pause=pauses())
def test_the_time_used_reaches_the_budget_exactly_at_the_due_date(received, limit, pause) -> None:
    due = due_at(EW, received, limit, pause)
    assert used(EW, received, limit, due, pause) == budget(EW, received, limit)
    if budget(EW, received, limit) and due > received + timedelta(minutes=1):
        assert used(EW, received, limit, due - timedelta(minutes=1), pause) < budget(EW, received, limit)
