"""Property tests for pob_tui.sla.BusinessCalendar (hypothesis).

Instants are compared in UTC because datetimes sharing one ZoneInfo compare as wall times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pob_tui.sla import BusinessCalendar, norwegian_office_calendar

OSLO = ZoneInfo("Europe/Oslo")
CALENDARS = {
    "office": norwegian_office_calendar(closing_days=[(12, 24), (12, 31)]),
    "24h": BusinessCalendar({wd: [("00:00", "24:00")] for wd in range(7)}),
    "lunch": BusinessCalendar(
        {wd: [("08:00", "11:30"), ("12:00", "15:45")] for wd in range(5)},
        special_days={datetime(2026, 4, 1).date(): [("08:00", "12:00")]},
    ),
    # Opening hours that touch the DST gap and fold (Sundays at night).
    "night": BusinessCalendar(
        {6: [("01:30", "02:30"), ("02:45", "04:00")], 2: [("09:00", "10:00")]}
    ),
}

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([OSLO, UTC]),
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    st.integers(0, 30 * 24 * 60).map(lambda m: timedelta(minutes=m)),
)
pause_lists = st.lists(
    st.tuples(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5))).map(
        lambda p: (p[0], utc(p[0]) + p[1])
    ),
    max_size=4,
)
SETTINGS = settings(max_examples=80, deadline=None)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


@SETTINGS
@given(calendars, instants, durations, pause_lists)
def test_between_inverts_add(cal: BusinessCalendar, s: datetime, d: timedelta, pauses) -> None:
    due = cal.add(s, d)
    assert cal.between(s, due) == d
    assert cal.between(s, cal.add(s, d, pauses), pauses) == d


@SETTINGS
@given(calendars, instants, durations, pause_lists)
def test_add_is_earliest(cal: BusinessCalendar, s: datetime, d: timedelta, pauses) -> None:
    due = cal.add(s, d, pauses)
    assert utc(due) >= utc(s)
    if d:
        assert cal.between(s, utc(due) - timedelta(microseconds=1), pauses) < d


@SETTINGS
@given(calendars, instants, instants, durations)
def test_add_monotonic_in_start(
    cal: BusinessCalendar, a: datetime, b: datetime, d: timedelta
) -> None:
    a, b = sorted((a, b), key=utc)
    assert utc(cal.add(a, d)) <= utc(cal.add(b, d))


@SETTINGS
@given(calendars, instants, durations, durations)
def test_add_monotonic_in_duration(
    cal: BusinessCalendar, s: datetime, d1: timedelta, d2: timedelta
) -> None:
    d1, d2 = sorted((d1, d2))
    assert utc(cal.add(s, d1)) <= utc(cal.add(s, d2))


@SETTINGS
@given(calendars, instants, durations, pause_lists)
def test_pauses_never_shorten(cal: BusinessCalendar, s: datetime, d: timedelta, pauses) -> None:
    assert utc(cal.add(s, d, pauses)) >= utc(cal.add(s, d))
    assert cal.between(s, utc(s) + d, pauses) <= cal.between(s, utc(s) + d)


@SETTINGS
@given(calendars, instants, instants, instants, pause_lists)
def test_between_is_additive(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime, pauses
) -> None:
    a, b, c = sorted((a, b, c), key=utc)
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)
    assert cal.between(a, b, pauses) + cal.between(b, c, pauses) == cal.between(a, c, pauses)


@settings(max_examples=30, deadline=None)
@given(
    calendars,
    instants,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    pause_lists,
)
def test_explain_matches_between(
    cal: BusinessCalendar, s: datetime, span: timedelta, pauses
) -> None:
    e = utc(s) + span  # not s + span: same-zone arithmetic is wall-clock (PEP 495)
    segs = cal.explain(s, e, pauses)
    if span:
        assert utc(segs[0].start) == utc(s) and utc(segs[-1].end) == utc(e)
    for x, y in pairwise(segs):
        assert utc(x.start) < utc(x.end) == utc(y.start)  # ordered, no gaps, none empty
        assert (x.kind, x.label) != (y.kind, y.label)  # neighbours of one kind are merged
    opened = sum((utc(g.end) - utc(g.start) for g in segs if g.kind == "open"), timedelta(0))
    assert opened == cal.between(s, e, pauses)


@SETTINGS
@given(calendars, instants)
def test_is_open_agrees_with_between(cal: BusinessCalendar, s: datetime) -> None:
    one = timedelta(microseconds=1)
    assert cal.is_open(s) == (cal.between(s, utc(s) + one) == one)
    nxt = cal.next_open(s)
    assert cal.is_open(nxt)
    assert cal.between(s, nxt) == timedelta(0)
