"""Hand-computed cases for pob_tui.sla.BusinessCalendar.

Europe/Oslo DST in 2026: Sun 29 March 02:00 CET -> 03:00 CEST (UTC 01:00),
Sun 25 October 03:00 CEST -> 02:00 CET (UTC 01:00).  Office day = 08:00-15:45 = 7h45m.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from pob_tui.sla import BusinessCalendar, norwegian_holidays, norwegian_office_calendar

OSLO = ZoneInfo("Europe/Oslo")
H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = 7 * H + 45 * M  # one office day


def osl(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@pytest.fixture(scope="module")
def office() -> BusinessCalendar:
    return norwegian_office_calendar(closing_days=[(12, 24), (12, 31)])


@pytest.fixture(scope="module")
def h24() -> BusinessCalendar:
    return BusinessCalendar({wd: [("00:00", "24:00")] for wd in range(7)}, tz="Europe/Oslo")


@pytest.fixture(scope="module")
def lunch() -> BusinessCalendar:
    return BusinessCalendar({wd: [("08:00", "11:30"), ("12:00", "15:45")] for wd in range(5)})


# --------------------------------------------------------------------------- DST
def test_24h_day_has_23_and_25_hours_at_dst(h24: BusinessCalendar) -> None:
    # Spring: the wall clock skips 02:00-03:00, so the local day is 23 real hours.
    assert h24.between(osl(2026, 3, 29), osl(2026, 3, 30)) == 23 * H
    # Autumn: 02:00-03:00 happens twice, 25 real hours.
    assert h24.between(osl(2026, 10, 25), osl(2026, 10, 26)) == 25 * H
    assert h24.between(osl(2026, 3, 28), osl(2026, 3, 29)) == 24 * H


def test_24h_add_across_dst(h24: BusinessCalendar) -> None:
    # 24 real hours after Sun 29 Mar 00:00 CET (23:00 UTC Sat) = 23:00 UTC Sun = Mon 01:00 CEST.
    assert h24.add(osl(2026, 3, 29), 24 * H) == osl(2026, 3, 30, 1)
    # 24 real hours after Sun 25 Oct 00:00 CEST (22:00 UTC Sat) = 22:00 UTC Sun = 23:00 CET.
    assert h24.add(osl(2026, 10, 25), 24 * H) == osl(2026, 10, 25, 23)


def test_office_day_across_dst_is_still_7h45(office: BusinessCalendar) -> None:
    # Fri 27 Mar (CET) and Mon 30 Mar (CEST) are both full 7h45m days.
    assert office.between(osl(2026, 3, 27), osl(2026, 3, 31)) == 2 * DAY
    assert office.between(osl(2026, 10, 23), osl(2026, 10, 27)) == 2 * DAY
    # Fri 15:00 + 1h: 45 min on Friday, 15 min on Monday after the change.
    assert office.add(osl(2026, 3, 27, 15), H) == osl(2026, 3, 30, 8, 15)


def test_wall_times_in_gap_and_fold() -> None:
    night = BusinessCalendar({6: [("01:00", "04:00")]})
    # Sun 29 Mar: 01:00-04:00 wall spans only 2 real hours (02:00-03:00 does not exist).
    assert night.between(osl(2026, 3, 29), osl(2026, 3, 30)) == 2 * H
    # Sun 25 Oct: 4 real hours (02:00-03:00 occurs twice).
    assert night.between(osl(2026, 10, 25), osl(2026, 10, 26)) == 4 * H

    gap = BusinessCalendar({6: [("02:30", "05:00")]})
    # Boundary inside the gap maps to the first instant after it: 03:00 CEST = 01:00 UTC.
    opened = gap.next_open(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert opened == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert gap.between(osl(2026, 3, 29), osl(2026, 3, 30)) == 2 * H

    fold = BusinessCalendar({6: [("02:00", "02:30")]})
    # Both occurrences of 02:00-02:30 count: 00:00-00:30 UTC and 01:00-01:30 UTC.
    assert fold.between(osl(2026, 10, 25), osl(2026, 10, 26)) == H
    assert fold.is_open(datetime(2026, 10, 25, 0, 15, tzinfo=UTC))
    assert not fold.is_open(datetime(2026, 10, 25, 0, 45, tzinfo=UTC))  # 02:45 CEST
    assert fold.is_open(datetime(2026, 10, 25, 1, 15, tzinfo=UTC))
    due = fold.add(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), 45 * M)
    assert (due.hour, due.minute, due.fold) == (2, 15, 1)  # second 02:15, i.e. 01:15 UTC
    # PEP 495: a datetime inside the fold never compares == to another zone, so compare in
    # UTC; ordering comparisons across zones are unaffected.
    assert due.astimezone(UTC) == datetime(2026, 10, 25, 1, 15, tzinfo=UTC)
    assert (
        datetime(2026, 10, 25, 1, 14, tzinfo=UTC) < due < datetime(2026, 10, 25, 1, 16, tzinfo=UTC)
    )


def test_24_00_is_next_local_midnight() -> None:
    late = BusinessCalendar({5: [("22:00", "24:00")]})  # Saturday evening
    # Sat 24 Oct 2026 22:00 CEST -> Sun 00:00 CEST: 2h (the fold is later that night).
    assert late.between(osl(2026, 10, 24), osl(2026, 10, 26)) == 2 * H
    assert late.add(osl(2026, 10, 24, 12), 2 * H) == osl(2026, 10, 25, 0, 0)


# --------------------------------------------------------------------------- holidays
def _easter(year: int) -> date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher), independent of `holidays`."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


# Easter Sunday by hand: 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28.
EASTER = {
    2024: (date(2024, 3, 28), date(2024, 3, 29), date(2024, 4, 1), date(2024, 5, 9),
           date(2024, 5, 20)),
    2025: (date(2025, 4, 17), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 29),
           date(2025, 6, 9)),
    2026: (date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 14),
           date(2026, 5, 25)),
    # 2027: Whit Monday falls on 17 May (Constitution Day) too.
    2027: (date(2027, 3, 25), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 6),
           date(2027, 5, 17)),
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(EASTER))
def test_easter_based_holidays(year: int, office: BusinessCalendar) -> None:
    maundy, good_friday, easter_monday, ascension, whit_monday = EASTER[year]
    e = _easter(year)
    assert (maundy, good_friday, easter_monday) == (
        e - timedelta(3),
        e - timedelta(2),
        e + timedelta(1),
    )
    assert (ascension, whit_monday) == (e + timedelta(39), e + timedelta(50))
    hol = norwegian_holidays([year])
    for d in EASTER[year]:
        assert d in hol
        assert office.between(osl(d.year, d.month, d.day), osl(d.year, d.month, d.day, 23)) == (
            timedelta(0)
        )
    # The Wednesday before Maundy Thursday is an ordinary full day.
    wed = maundy - timedelta(1)
    assert office.between(osl(wed.year, wed.month, wed.day), osl(*maundy.timetuple()[:3])) == DAY


def test_norwegian_holidays_exclude_plain_sundays() -> None:
    hol = norwegian_holidays(2026)
    assert hol == {
        date(2026, 1, 1), date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 5),
        date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 14), date(2026, 5, 17),
        date(2026, 5, 24), date(2026, 5, 25), date(2026, 12, 25), date(2026, 12, 26),
    }  # fmt: skip
    assert date(2026, 1, 4) not in hol  # an ordinary Sunday
    assert BusinessCalendar.norwegian_holidays(2026) == hol


def test_holiday_on_a_monday(office: BusinessCalendar) -> None:
    # Whit Monday 2026-05-25. Fri 22 May 15:00 + 2h: 45m Fri, skip Sat/Sun/Mon, 1h15 Tue.
    assert office.add(osl(2026, 5, 22, 15), 2 * H) == osl(2026, 5, 26, 9, 15)
    assert office.between(osl(2026, 5, 22, 15), osl(2026, 5, 26, 9, 15)) == 2 * H


def test_start_on_a_holiday(office: BusinessCalendar) -> None:
    # Good Friday 2026-04-03 10:00; Easter Monday closed too -> Tue 7 Apr 08:00 + 1h.
    assert office.add(osl(2026, 4, 3, 10), H) == osl(2026, 4, 7, 9)
    assert office.next_open(osl(2026, 4, 3, 10)) == osl(2026, 4, 7, 8)


def test_local_closing_days_and_lazy_years(office: BusinessCalendar) -> None:
    # Wed 23 Dec 2026 15:00 + 1h: 45m Wed; 24 (closing), 25-26 holidays, 27 Sun; Mon 28 08:15.
    assert office.add(osl(2026, 12, 23, 15), H) == osl(2026, 12, 28, 8, 15)
    # Week 28 Dec 2026 - 1 Jan 2027: Mon-Wed open, Thu 31 closing day, Fri 1 Jan holiday.
    assert office.between(osl(2026, 12, 28), osl(2027, 1, 4)) == 3 * DAY
    # Years nobody listed are filled lazily: Christmas Day 2030 is a Wednesday.
    assert not office.is_open(osl(2030, 12, 25, 10))
    assert office.is_open(osl(2030, 12, 27, 10))


def test_special_days_shortened_and_closed() -> None:
    cal = norwegian_office_calendar(
        years=[2026],
        short_days={date(2026, 4, 1): [("08:00", "12:00")], date(2026, 6, 5): []},
    )
    # Wednesday before Maundy Thursday closes at 12:00.
    assert cal.between(osl(2026, 4, 1), osl(2026, 4, 2)) == 4 * H
    assert cal.add(osl(2026, 4, 1, 11), 2 * H) == osl(2026, 4, 7, 9)
    assert cal.between(osl(2026, 6, 5), osl(2026, 6, 6)) == timedelta(0)


# --------------------------------------------------------------------------- basics
def test_end_exactly_at_closing_time(office: BusinessCalendar) -> None:
    assert office.add(osl(2026, 9, 7, 8), DAY) == osl(2026, 9, 7, 15, 45)
    assert office.add(osl(2026, 9, 7, 14, 45), H) == osl(2026, 9, 7, 15, 45)
    assert office.add(osl(2026, 9, 7, 14, 45), H + M) == osl(2026, 9, 8, 8, 1)


def test_start_outside_hours_counts_from_next_opening(office: BusinessCalendar) -> None:
    assert office.add(osl(2026, 9, 5, 12), H) == osl(2026, 9, 7, 9)  # Saturday
    assert office.add(osl(2026, 9, 7, 6), H) == osl(2026, 9, 7, 9)  # early Monday
    # 30 days of open time = 30*24/7.75 = 92.9 office days; must not be slow or wrong.
    due = office.add(osl(2026, 9, 7, 8), timedelta(days=30))
    assert office.between(osl(2026, 9, 7, 8), due) == timedelta(days=30)


def test_lunch_break(lunch: BusinessCalendar) -> None:
    assert lunch.add(osl(2026, 9, 7, 11), H) == osl(2026, 9, 7, 12, 30)
    assert lunch.add(osl(2026, 9, 7, 11), 30 * M) == osl(2026, 9, 7, 11, 30)  # not 12:00
    assert lunch.between(osl(2026, 9, 7, 8), osl(2026, 9, 7, 16)) == 7 * H + 15 * M
    assert not lunch.is_open(osl(2026, 9, 7, 11, 45))
    assert lunch.next_open(osl(2026, 9, 7, 11, 45)) == osl(2026, 9, 7, 12)


def test_pauses_spanning_night_and_weekend(office: BusinessCalendar) -> None:
    start = osl(2026, 9, 11, 13)  # Friday
    pause = (osl(2026, 9, 11, 14), osl(2026, 9, 14, 10))  # Fri 14:00 -> Mon 10:00
    # Without pause: 2h45 Friday + 1h15 Monday -> Mon 09:15.
    assert office.add(start, 4 * H) == osl(2026, 9, 14, 9, 15)
    # With pause: 1h Friday (13-14), paused until Mon 10:00, 3h more -> Mon 13:00.
    assert office.add(start, 4 * H, [pause]) == osl(2026, 9, 14, 13)
    assert office.between(start, osl(2026, 9, 14, 13), [pause]) == 4 * H
    # Overlapping, unsorted pieces of the same pause give the same answer.
    pieces = [(osl(2026, 9, 12, 0), osl(2026, 9, 14, 10)), (osl(2026, 9, 11, 14),
              osl(2026, 9, 13, 0))]  # fmt: skip
    assert office.add(start, 4 * H, pieces) == osl(2026, 9, 14, 13)
    # A pause that began before the start only delays until it ends.
    early = (osl(2026, 9, 10, 12), osl(2026, 9, 11, 14))
    assert office.add(osl(2026, 9, 11, 9), H, [early]) == osl(2026, 9, 11, 15)
    # Budget running out exactly when a pause starts returns the pause start.
    assert office.add(start, H, [pause]) == osl(2026, 9, 11, 14)


def test_zero_duration_and_empty_ranges(office: BusinessCalendar) -> None:
    sat = osl(2026, 9, 5, 12)
    assert office.add(sat, timedelta(0)) == sat
    assert office.between(osl(2026, 9, 8), osl(2026, 9, 7)) == timedelta(0)
    assert office.explain(osl(2026, 9, 8), osl(2026, 9, 8)) == []


def test_errors(office: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office.add(datetime(2026, 9, 7, 8), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        office.between(osl(2026, 9, 7), datetime(2026, 9, 8))
    with pytest.raises(ValueError, match="timezone-aware"):
        office.is_open(datetime(2026, 9, 7))
    with pytest.raises(ValueError, match="timezone-aware"):
        office.add(osl(2026, 9, 7), H, [(datetime(2026, 9, 7), osl(2026, 9, 8))])
    with pytest.raises(ValueError, match="negative"):
        office.add(osl(2026, 9, 7), -M)
    with pytest.raises(ValueError):
        BusinessCalendar({0: [("15:45", "08:00")]})
    with pytest.raises(ValueError):
        BusinessCalendar({7: [("08:00", "09:00")]})
    with pytest.raises(ValueError):
        BusinessCalendar({0: [("08:00", "24:30")]})
    with pytest.raises(ValueError, match="no open time"):
        BusinessCalendar({}).add(osl(2026, 1, 1), H)


def test_other_zone_gives_same_instant(office: BusinessCalendar) -> None:
    local = osl(2026, 9, 7, 14)
    utc = local.astimezone(UTC)
    due = office.add(utc, 2 * H)
    assert due == office.add(local, 2 * H) == osl(2026, 9, 8, 8, 15)
    assert due.tzinfo == OSLO
    assert office.add(utc, timedelta(0)).tzinfo == OSLO
    assert office.between(utc, due) == 2 * H


def test_is_open_and_next_open(office: BusinessCalendar) -> None:
    assert office.is_open(osl(2026, 9, 7, 8))  # opening minute is open
    assert not office.is_open(osl(2026, 9, 7, 15, 45))  # closing minute is closed
    assert office.next_open(osl(2026, 9, 11, 16)) == osl(2026, 9, 14, 8)
    assert office.next_open(osl(2026, 9, 7, 9)) == osl(2026, 9, 7, 9)


def test_hours_overlap_is_merged() -> None:
    cal = BusinessCalendar({0: [("11:00", "15:00"), ("08:00", "12:00")], 1: []})
    assert cal.between(osl(2026, 9, 7), osl(2026, 9, 8)) == 7 * H


def test_far_range_builds_years_both_ways(office: BusinessCalendar) -> None:
    a, b, c = osl(2031, 1, 1), osl(2019, 6, 1), osl(2040, 1, 1)
    assert office.between(b, c) == office.between(b, a) + office.between(a, c)
    assert office.between(b, c) > timedelta(days=1000)


# --------------------------------------------------------------------------- explain
def test_explain_easter_week(office: BusinessCalendar) -> None:
    start, end = osl(2026, 4, 1, 12), osl(2026, 4, 7, 9)
    pause = (osl(2026, 4, 7, 8, 15), osl(2026, 4, 7, 8, 30))
    segs = office.explain(start, end, [pause])
    assert segs[0].start == start and segs[-1].end == end
    assert all(x.end == y.start for x, y in pairwise(segs))
    got = [(s.start, s.end, s.kind) for s in segs]
    assert got == [
        (osl(2026, 4, 1, 12), osl(2026, 4, 1, 15, 45), "open"),
        (osl(2026, 4, 1, 15, 45), osl(2026, 4, 2), "closed"),
        (osl(2026, 4, 2), osl(2026, 4, 3), "holiday"),  # Maundy Thursday
        (osl(2026, 4, 3), osl(2026, 4, 4), "holiday"),  # Good Friday
        (osl(2026, 4, 4), osl(2026, 4, 5), "closed"),  # Saturday
        (osl(2026, 4, 5), osl(2026, 4, 6), "holiday"),  # Easter Sunday
        (osl(2026, 4, 6), osl(2026, 4, 7), "holiday"),  # Easter Monday
        (osl(2026, 4, 7), osl(2026, 4, 7, 8), "closed"),
        (osl(2026, 4, 7, 8), osl(2026, 4, 7, 8, 15), "open"),
        (osl(2026, 4, 7, 8, 15), osl(2026, 4, 7, 8, 30), "pause"),
        (osl(2026, 4, 7, 8, 30), osl(2026, 4, 7, 9), "open"),
    ]
    assert segs[2].label  # holiday name for the TUI
    opened = sum((s.duration for s in segs if s.kind == "open"), timedelta(0))
    assert opened == office.between(start, end, [pause]) == 3 * H + 45 * M + 45 * M
