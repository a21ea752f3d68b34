"""Business calendars to the word: the time zone a calendar refuses, with the names it offers instead, the years of
public holidays a pinned calendar writes in, and instants that go out as UTC on a machine in any zone."""

from __future__ import annotations

import time as system_time
from datetime import UTC, date, datetime, time, timedelta

import pytest
from amends.domain.calendar import BusinessCalendar
from pydantic import ValidationError


def calendar(**fields) -> BusinessCalendar:
    return BusinessCalendar(**({"id": "ew", "version": 1, "time_zone": "Europe/London",
                                "working_days": ["mon", "tue", "wed", "thu", "fri"], "opens": time(9),
                                "closes": time(17, 30), "public_holidays": {"country": "GB", "subdivision": "ENG"}}
                               | fields))


def zone_refused(name: str) -> str:
    with pytest.raises(ValidationError) as refused:
        calendar(time_zone=name)
    (error,) = refused.value.errors()
    return str(error["msg"]).removeprefix("Value error, ")


def test_an_unknown_time_zone_offers_the_zones_named_like_its_last_part() -> None:
    assert zone_refused("London") == "'London' is not a time zone (did you mean Europe/London?)"
    assert zone_refused("Nowhere/Else/London") == ("'Nowhere/Else/London' is not a time zone (did you mean "
                                                   "Europe/London?)")


def test_an_unknown_time_zone_offers_at_most_three_zones_in_order() -> None:
    assert zone_refused("Louisville") == ("'Louisville' is not a time zone (did you mean America/Kentucky/Louisville, "
                                          "America/Louisville?)")
    assert zone_refused("Atlantis/na") == ("'Atlantis/na' is not a time zone (did you mean Africa/Ndjamena, "
                                           "America/Araguaina, America/Guyana?)")


def test_an_unknown_time_zone_like_no_zone_gives_an_example_of_one() -> None:
    assert zone_refused("Nowhere") == "'Nowhere' is not a time zone (an IANA name such as Europe/London)"


def test_a_pinned_calendar_holds_the_holidays_of_four_years_from_the_first() -> None:
    years = {day.year for day in calendar().pinned(2026).closure_days}
    assert years == {2026, 2027, 2028, 2029}
    assert {day.year for day in calendar().pinned(2026, years=2).closure_days} == {2026, 2027}


@pytest.fixture
def machine_in_sydney(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "Australia/Sydney")
    system_time.tzset()
    yield
    monkeypatch.undo()
    system_time.tzset()


def test_a_wall_clock_time_goes_out_as_utc_whatever_the_machines_zone(machine_in_sydney) -> None:
    instant = calendar().instant(datetime(2026, 6, 1, 9, 0))
    assert instant == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert instant.utcoffset() == timedelta(0)
    assert instant.isoformat() == "2026-06-01T08:00:00+00:00"


def test_a_day_off_the_working_week_says_so_and_a_holiday_or_closure_says_what_it_is() -> None:
    closed = calendar(closure_days={date(2026, 6, 3): "staff training"})
    assert closed.closed_on(date(2026, 6, 6)) == "not a working day"  # a Saturday
    assert closed.closed_on(date(2026, 5, 25)) == "Spring Bank Holiday"
    assert closed.closed_on(date(2026, 6, 3)) == "staff training"
    assert closed.closed_on(date(2026, 6, 4)) is None


def test_an_instant_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        calendar().local(datetime(2026, 6, 1, 9, 0))
    assert str(refused.value) == "an instant needs a time zone (the clock gives UTC)"
