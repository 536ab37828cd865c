"""Working days (sla.workdays): pure calendar code, no database. The settings are an
argument, so a configured closing day or zone reaches every rule that counts days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from pob_tui.config import Settings
from pob_tui.sla import workdays


@dataclass(frozen=True)
class Office:
    """The two settings the rules read (pob's Settings is one such object)."""

    closing_days: tuple[str, ...] = ()
    timezone: str = "Europe/Oslo"


def test_working_days_use_the_norwegian_calendar() -> None:
    s = Settings()
    assert not workdays.is_working_day(date(2026, 5, 14), s)  # Ascension Day
    assert not workdays.is_working_day(date(2026, 12, 24), s)  # closing day
    assert not workdays.is_working_day(date(2026, 11, 28), s)  # Saturday
    # Wed 1 April -> Tue 7 April: Maundy Thursday, Good Friday, Easter Monday are closed
    assert workdays.working_days_between(date(2026, 4, 1), date(2026, 4, 7), s) == 1
    assert workdays.working_days_between(date(2026, 11, 23), date(2026, 11, 26), s) == 3
    assert workdays.add_working_days(date(2026, 4, 7), -1, s) == date(2026, 4, 1)


def test_closing_days_come_from_the_settings_passed() -> None:
    """Thu 19 Nov 2026 is open unless these settings close it; counts follow."""
    thursday = date(2026, 11, 19)
    assert workdays.is_working_day(thursday, Office())
    closed = Office(closing_days=("11-19",))
    assert not workdays.is_working_day(thursday, closed)
    assert workdays.working_days_between(date(2026, 11, 18), date(2026, 11, 20), Office()) == 2
    assert workdays.working_days_between(date(2026, 11, 18), date(2026, 11, 20), closed) == 1
    assert workdays.add_working_days(date(2026, 11, 18), 1, closed) == date(2026, 11, 20)
    assert workdays.add_working_days(date(2026, 11, 20), -1, closed) == date(2026, 11, 18)
    assert workdays.working_days_between(date(2026, 11, 20), date(2026, 11, 18), closed) == 0


def test_local_date_is_the_offices_date() -> None:
    """23:30 UTC on 30 Nov is already 1 Dec in Oslo, still 30 Nov in New York."""
    at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert workdays.local_date(at, Office()) == date(2026, 12, 1)
    assert workdays.local_date(at, Office(timezone="America/New_York")) == date(2026, 11, 30)
