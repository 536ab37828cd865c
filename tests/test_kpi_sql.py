"""The KPI figures aggregated in SQL (issue 17: per hour and per period, never all of
history in Python) equal the figures counted row by row, across Oslo's DST changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from pob_tui.models import Incident
from pob_tui.reports.costs import Period
from pob_tui.reports.kpi import calls_per_day, kpis

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2026, 3, 20, tzinfo=UTC)  # around the spring (29 March) DST change
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
# minutes from START, covering both DST changes (29 March and 25 October 2026)
OFFSETS = st.integers(min_value=0, max_value=60 * 24 * 230)
INCIDENTS = st.lists(st.tuples(OFFSETS, st.one_of(st.none(), st.integers(1, 60 * 24 * 9)),
                               st.booleans()), max_size=40)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incidents=INCIDENTS, first=OFFSETS, days=st.integers(0, 240))
def test_kpis_in_sql_equal_a_row_by_row_count(world, incidents, first, days) -> None:
    db = world.db
    start_day = (START + timedelta(minutes=first)).astimezone(OSLO).date()
    period = Period(start_day, start_day + timedelta(days=days))
    lo = datetime.combine(period.start, datetime.min.time(), OSLO).astimezone(UTC)
    hi = datetime.combine(period.end + timedelta(days=1), datetime.min.time(),
                          OSLO).astimezone(UTC)
    with db.session() as s:
        s.execute(delete(Incident))
        for i, (opened_min, resolve_min, first_line) in enumerate(incidents):
            opened = START + timedelta(minutes=opened_min, seconds=i)
            resolved = opened + timedelta(minutes=resolve_min) if resolve_min else None
            s.add(Incident(number=f"INC-{i + 1:06d}", caller_id=world.kari_id,
                           summary="x", opened_at=opened, resolved_at=resolved,
                           status="resolved" if resolved else "new",
                           first_line=first_line))
    want_days: Counter[date] = Counter()
    want_resolved, want_first, want_hours = 0, 0, 0.0
    for i, (opened_min, resolve_min, first_line) in enumerate(incidents):
        opened = START + timedelta(minutes=opened_min, seconds=i)
        if lo <= opened < hi:
            want_days[opened.astimezone(OSLO).date()] += 1
        if resolve_min:
            resolved = opened + timedelta(minutes=resolve_min)
            if lo <= resolved < hi:
                want_resolved += 1
                want_first += first_line
                want_hours += (resolved - opened).total_seconds() / 3600
    with db.session() as s:
        assert calls_per_day(s, lo, hi, OSLO) == want_days
        got = kpis(s, period, now=NOW, tz=OSLO)
    assert got.calls == sum(want_days.values())
    assert (got.resolved, got.first_line) == (want_resolved, want_first)
    if want_resolved:  # summed exactly in SQL, in floats here: equal up to the rounding
        assert got.mttr_hours is not None
        assert abs(got.mttr_hours - want_hours / want_resolved) <= 0.05 + 1e-9
    else:
        assert got.mttr_hours is None


def test_satisfaction_per_customer_counts_only_the_period(world) -> None:
    """The customer manager's figure is the chosen period's scores (an old bad month must
    not drag this month under 4), and each caller counts towards their top-level unit."""
    from sqlalchemy import insert

    from pob_tui.reports.kpi import satisfaction_by_customer

    db = world.db
    inside = datetime(2026, 11, 10, 12, tzinfo=UTC)
    before = datetime(2026, 10, 10, 12, tzinfo=UTC)
    with db.session() as s:
        s.execute(insert(Incident), [
            {"number": f"INC-9000{i}", "caller_id": world.kari_id, "summary": "s",
             "status": "closed", "opened_at": at, "satisfaction": score,
             "satisfaction_at": at}
            for i, (at, score) in enumerate(((inside, 5), (inside, 4), (before, 1),
                                             (before, 1)))])
    with db.session() as s:
        rows = satisfaction_by_customer(s, datetime(2026, 11, 1, tzinfo=UTC),
                                        datetime(2026, 12, 1, tzinfo=UTC))
    assert rows == [{"customer": "OPP", "name": "Oppvekst", "responses": 2, "average": 4.5,
                     "flagged": False}]
