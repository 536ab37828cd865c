"""Issue 13 item 5: SLA time in working time, the same text everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pob_tui.i18n import set_language
from pob_tui.sla.calendar import norwegian_office_calendar
from pob_tui.sla.display import format_due, format_left, format_moment

DAY = timedelta(hours=7, minutes=45)


def test_working_days_not_24_hour_days() -> None:
    set_language("en")
    assert format_left(timedelta(hours=77.5), DAY) == "10 wd"  # was "3d5h"
    assert format_left(timedelta(hours=7.75 * 2 + 3), DAY) == "2 wd 3 h"
    assert format_left(timedelta(minutes=45), DAY) == "45 min"
    assert format_left(timedelta(hours=3, minutes=5), DAY) == "3 h 05"
    assert format_left(timedelta(hours=2), DAY) == "2 h"
    assert format_left(-timedelta(minutes=70), DAY) == "-1 h 10"
    assert format_left(None) == ""
    assert norwegian_office_calendar().working_day == DAY
    # In a table column of 9 cells a long time drops its hours instead of being cut.
    late = -(DAY * 14 + timedelta(hours=5))
    assert format_left(late, DAY) == "-14 wd 5 h"
    assert format_left(late, DAY, width=9) == "-14 wd"
    assert format_left(-(DAY * 4 + timedelta(hours=1)), DAY, width=9) == "-4 wd 1 h"


def test_due_time_and_moments_in_the_calendars_zone() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    due = datetime(2026, 12, 11, 14, 45, tzinfo=UTC)
    set_language("nb")
    try:
        assert format_due(due, oslo) == "fre 11.12 15:45"
        assert format_left(timedelta(hours=77.5), DAY) == "10 vd"
        assert format_moment(due.replace(microsecond=123), oslo) == "fre 11.12.2026 15:45 +01:00"
    finally:
        set_language("en")
    assert format_due(due, oslo) == "Fri 11.12 15:45"
    assert format_due(due, oslo, now=due - timedelta(hours=2)) == "15:45"
