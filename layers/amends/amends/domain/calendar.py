"""Business calendars: when an organisation works, in its own time zone.

A calendar is data (``amends/config/sla/calendars/*.json``): a time zone, the working days, the opening and closing
time, the public holidays of a country (and region) from the ``holidays`` library, and the organisation's own closure
days. Deadlines are counted on it (``amends.domain.deadlines``).

All counting happens in the calendar's wall-clock time (naive local datetimes): a business day is the same opening
hours whether or not the clocks changed overnight, and "the end of the day" is local midnight. Instants come in and
go out as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holiday_data
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = sorted(z for z in available_timezones() if z.casefold().endswith(name.rsplit("/", 1)[-1].casefold()))
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else " (an IANA name such as Europe/London)"
        raise ValueError(f"{name!r} is not a time zone{hint}") from None
    return name


class PublicHolidays(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(description="ISO 3166-1 alpha-2 code, as the holidays library knows it (GB, DE, US, AU...).")
    subdivision: str | None = Field(None, description="Region within the country (GB: ENG, SCT, WLS, NIR; US: NY...).")

    @model_validator(mode="after")
    def _known(self) -> PublicHolidays:
        supported = holiday_data.list_supported_countries()
        if self.country not in supported:
            raise ValueError(f"country {self.country!r} has no public holidays in the holidays library")
        regions = supported[self.country]
        if self.subdivision is not None and self.subdivision not in regions:
            raise ValueError(f"{self.country} has no subdivision {self.subdivision!r} (it has: {', '.join(regions)})")
        return self

    def dates(self, year: int) -> dict[date, str]:
        return _holidays(self.country, self.subdivision, year)


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    return dict(holiday_data.country_holidays(country, subdiv=subdivision, years=year))


class BusinessCalendar(BaseModel):
    """When the organisation works. Frozen: a case keeps the calendar it was promised on (see ``pinned``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    description: str | None = None
    time_zone: Annotated[str, AfterValidator(_zone)] = Field(description="IANA time zone, e.g. Europe/London.")
    working_days: list[Weekday] = Field(min_length=1)
    opens: time = Field(description="Local opening time on a working day, e.g. 09:00.")
    closes: time = Field(description="Local closing time on a working day, e.g. 17:30 (after opens).")
    public_holidays: PublicHolidays | None = None
    closure_days: dict[date, str] = Field(
        default_factory=dict, description="The organisation's own closed days, with what they are (date -> name).")

    @model_validator(mode="after")
    def _hours(self) -> BusinessCalendar:
        if self.opens.tzinfo or self.closes.tzinfo:
            raise ValueError("opens and closes are local times: no offset (the time zone says where)")
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes:%H:%M}) must be after opens ({self.opens:%H:%M})")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def day_length(self) -> timedelta:
        """The length of one business day (the same every working day)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def closed_on(self, day: date) -> str | None:
        """Why ``day`` is not a working day (weekend, a public holiday's name, a closure), or None when it is one."""
        if day in self.closure_days:
            return self.closure_days[day]
        if self.public_holidays and (name := self.public_holidays.dates(day.year).get(day)):
            return name
        if day.weekday() not in {d.number for d in self.working_days}:
            return "not a working day"
        return None

    def is_working_day(self, day: date) -> bool:
        return self.closed_on(day) is None

    def hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of ``day`` in wall-clock time, or None when it is not a working day."""
        if not self.is_working_day(day):
            return None
        return datetime.combine(day, self.opens), datetime.combine(day, self.closes)

    def local(self, instant: datetime) -> datetime:
        """An instant as the calendar's wall-clock time (naive)."""
        if instant.tzinfo is None:
            raise ValueError("an instant needs a time zone (the clock gives UTC)")
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def instant(self, wall: datetime) -> datetime:
        """A wall-clock time in this calendar as a UTC instant (the earlier one when the clocks go back)."""
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def pinned(self, first_year: int, years: int = 4) -> BusinessCalendar:
        """A copy that no longer depends on the holidays library: its public holidays for ``years`` years from
        ``first_year`` (the year of receipt) written in as closure days. A case stores this, so a later edit of the calendar file or an
        upgrade of the library never moves a deadline already promised."""
        if self.public_holidays is None:
            return self
        days = dict(self.closure_days)
        for year in range(first_year, first_year + years):
            for day, name in self.public_holidays.dates(year).items():
                days.setdefault(day, name)
        return self.model_copy(update={"public_holidays": None, "closure_days": dict(sorted(days.items()))})
