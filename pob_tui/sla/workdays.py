"""Working days on the Norwegian office calendar: pure calendar code (no database).

Change lead times and CAB cut-offs count in these days. Every function takes the office's
calendar settings (`OfficeDays`: pob's `Settings` is one) as an argument, so the closing days
an administrator configured reach the rule however it was called.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from pob_tui.sla.calendar import BusinessCalendar, norwegian_office_calendar


class OfficeDays(Protocol):
    """What the working-day rules read from the settings."""

    @property
    def closing_days(self) -> tuple[str, ...]:
        """Local closing days, "MM-DD" (the office is shut on top of public holidays)."""
        ...

    @property
    def timezone(self) -> str:
        """The office's IANA time zone, e.g. "Europe/Oslo"."""
        ...


@lru_cache(maxsize=8)
def _office_calendar(closing_days: tuple[str, ...], tz: str) -> BusinessCalendar:
    days = [(int(md[:2]), int(md[3:])) for md in closing_days]
    return norwegian_office_calendar(closing_days=days, tz=tz)


def is_working_day(d: date, settings: OfficeDays) -> bool:
    """Open on the office calendar: a weekday, no public holiday, no closing day."""
    tz = settings.timezone
    cal = _office_calendar(tuple(settings.closing_days), tz)
    return cal.is_open(datetime.combine(d, time(12, 0), tzinfo=ZoneInfo(tz)))


def working_days_between(start: date, end: date, settings: OfficeDays) -> int:
    """Working days d with start < d <= end (0 when end <= start)."""
    n, d = 0, start + timedelta(days=1)
    while d <= end:
        n += is_working_day(d, settings)
        d += timedelta(days=1)
    return n


def add_working_days(d: date, n: int, settings: OfficeDays) -> date:
    """The n-th working day after (n > 0) or before (n < 0) `d`."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if is_working_day(d, settings):
            left -= 1
    return d


def local_date(at: datetime, settings: OfficeDays) -> date:
    """The office's calendar date at the (aware) moment `at`."""
    return at.astimezone(ZoneInfo(settings.timezone)).date()
