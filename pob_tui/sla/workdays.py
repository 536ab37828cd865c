"""Working days on the Norwegian office calendar: pure calendar code (no database, no
configuration object). Change lead times and CAB cut-offs count in these days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pob_tui.sla.calendar import BusinessCalendar, norwegian_office_calendar


@lru_cache(maxsize=8)
def _office_calendar(closing_days: tuple[str, ...], tz: str) -> BusinessCalendar:
    days = [(int(md[:2]), int(md[3:])) for md in closing_days]
    return norwegian_office_calendar(closing_days=days, tz=tz)


def is_working_day(d: date, closing_days: tuple[str, ...], tz: str) -> bool:
    """Open on the office calendar: a weekday, no public holiday, no closing day ("MM-DD")."""
    cal = _office_calendar(closing_days, tz)
    return cal.is_open(datetime.combine(d, time(12, 0), tzinfo=ZoneInfo(tz)))


def working_days_between(start: date, end: date, closing_days: tuple[str, ...],
                         tz: str) -> int:
    """Working days d with start < d <= end (0 when end <= start)."""
    n, d = 0, start + timedelta(days=1)
    while d <= end:
        n += is_working_day(d, closing_days, tz)
        d += timedelta(days=1)
    return n


def add_working_days(d: date, n: int, closing_days: tuple[str, ...], tz: str) -> date:
    """The n-th working day after (n > 0) or before (n < 0) `d`."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if is_working_day(d, closing_days, tz):
            left -= 1
    return d
