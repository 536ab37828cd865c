"""Key figures for IT management, for a period of whole days.

* calls per working day (Monday-Friday, Norwegian public holidays excluded), with the daily
  series for a sparkline;
* share solved at first line, of the incidents resolved in the period, against the 90 % the
  service desk aims for;
* SLA compliance: resolution clocks met, from `reports.sla.sla_compliance`;
* backlog: incidents open at the end of the period's "now", and how old they are;
* mean time to resolve (wall-clock hours, opened to resolved) for incidents resolved;
* change success rate: changes with an outcome in the period that succeeded (the CAB report
  gives it when present, else computed here from `change_request.outcome`);
* satisfaction per customer (top-level org unit of the caller), flagged under 4: the point
  at which a customer manager may pull resources in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from pob_tui.models import ChangeRequest, Incident, OrgUnit, Person
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.reports.costs import Period

FIRST_LINE_TARGET = 0.90
SATISFACTION_FLOOR = 4.0
AGE_BUCKETS = ((1, "<1d"), (3, "1-3d"), (7, "3-7d"), (30, "7-30d"), (None, ">30d"))


@dataclass
class Kpis:
    period: Period
    calls: int = 0
    working_days: int = 0
    calls_per_day: list[tuple[date, int]] = field(default_factory=list)
    resolved: int = 0
    first_line: int = 0
    sla_met: int = 0
    sla_total: int = 0
    backlog: int = 0
    backlog_ages: list[tuple[str, int]] = field(default_factory=list)
    backlog_median_days: float | None = None
    mttr_hours: float | None = None
    changes_done: int = 0
    changes_ok: int = 0
    satisfaction: list[dict[str, Any]] = field(default_factory=list)

    @property
    def calls_per_working_day(self) -> float | None:
        return round(self.calls / self.working_days, 1) if self.working_days else None

    @property
    def first_line_share(self) -> float | None:
        return round(self.first_line / self.resolved, 4) if self.resolved else None

    @property
    def sla_share(self) -> float | None:
        return round(self.sla_met / self.sla_total, 4) if self.sla_total else None

    @property
    def change_success(self) -> float | None:
        return round(self.changes_ok / self.changes_done, 4) if self.changes_done else None

    def as_rows(self) -> list[dict[str, Any]]:
        """metric / value / target / flag rows for tables and CSV."""
        fl = self.first_line_share
        rows: list[dict[str, Any]] = [
            {"metric": "calls", "value": self.calls, "target": None, "flag": ""},
            {"metric": "calls_per_working_day", "value": self.calls_per_working_day,
             "target": None, "flag": ""},
            {"metric": "first_line_share", "value": fl, "target": FIRST_LINE_TARGET,
             "flag": "below target" if fl is not None and fl < FIRST_LINE_TARGET else ""},
            {"metric": "sla_compliance", "value": self.sla_share, "target": None, "flag": ""},
            {"metric": "backlog", "value": self.backlog, "target": None, "flag": ""},
            {"metric": "backlog_median_age_days", "value": self.backlog_median_days,
             "target": None, "flag": ""},
            {"metric": "mttr_hours", "value": self.mttr_hours, "target": None, "flag": ""},
            {"metric": "change_success_rate", "value": self.change_success, "target": None,
             "flag": ""},
        ]
        for s in self.satisfaction:
            rows.append({"metric": f"satisfaction:{s['customer']}", "value": s["average"],
                         "target": SATISFACTION_FLOOR,
                         "flag": "under 4" if s["flagged"] else ""})
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.start, "to": self.period.end},
            "calls": self.calls, "working_days": self.working_days,
            "calls_per_working_day": self.calls_per_working_day,
            "calls_per_day": [{"day": d, "calls": n} for d, n in self.calls_per_day],
            "resolved": self.resolved, "first_line": self.first_line,
            "first_line_share": self.first_line_share, "first_line_target": FIRST_LINE_TARGET,
            "sla_met": self.sla_met, "sla_total": self.sla_total,
            "sla_compliance": self.sla_share,
            "backlog": self.backlog,
            "backlog_ages": [{"age": a, "incidents": n} for a, n in self.backlog_ages],
            "backlog_median_age_days": self.backlog_median_days,
            "mttr_hours": self.mttr_hours,
            "changes_with_outcome": self.changes_done, "changes_successful": self.changes_ok,
            "change_success_rate": self.change_success,
            "satisfaction": self.satisfaction,
        }


def working_day(d: date, hol: Any) -> bool:
    return d.weekday() < 5 and d not in hol


def kpis(session: Session, period: Period, *, now: datetime, tz: ZoneInfo | str) -> Kpis:
    """All key figures for `period`; `now` dates the backlog (pinned in tests)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    lo, hi = period.utc_bounds(zone)
    k = Kpis(period)
    hol = holidays.country_holidays("NO", years=range(period.start.year, period.end.year + 1))
    per_day = calls_per_day(session, lo, hi, zone)
    k.calls = sum(per_day.values())
    d = period.start
    last = min(period.end, now.astimezone(zone).date())
    while d <= last:
        if working_day(d, hol):
            k.working_days += 1
            k.calls_per_day.append((d, per_day.get(d, 0)))
        d += timedelta(days=1)

    # counted and summed in SQL: the period's resolved incidents never travel to Python
    if session.get_bind().dialect.name == "sqlite":
        seconds = (func.julianday(col(Incident.resolved_at))
                   - func.julianday(col(Incident.opened_at))) * 86400
    else:
        seconds = func.extract("epoch", col(Incident.resolved_at) - Incident.opened_at)
    counted, first_line, total = session.execute(
        select(func.count(), func.sum(case((col(Incident.first_line).is_(True), 1), else_=0)),
               func.sum(seconds)).where(
            col(Incident.resolved_at) >= lo, col(Incident.resolved_at) < hi,
            col(Incident.status).in_(("resolved", "closed")))).one()
    k.resolved, k.first_line = int(counted or 0), int(first_line or 0)
    hours = float(total or 0) / 3600
    k.mttr_hours = round(hours / k.resolved, 1) if k.resolved else None

    from pob_tui.reports.sla import sla_compliance

    for row in sla_compliance(session, start=lo, end=hi, by="priority", now=now):
        if row["target"] == "resolution":
            k.sla_met += row["met"]
            k.sla_total += row["total"]

    ages = sorted((now - opened).total_seconds() / 86400 for (opened,) in session.execute(
        select(col(Incident.opened_at)).where(col(Incident.status).in_(OPEN_STATUSES),
                                         col(Incident.opened_at) < now)))
    k.backlog = len(ages)
    if ages:
        mid = len(ages) // 2
        k.backlog_median_days = round(ages[mid] if len(ages) % 2 else
                                      (ages[mid - 1] + ages[mid]) / 2, 1)
    buckets: Counter[str] = Counter()
    for age in ages:
        for limit, name in AGE_BUCKETS:
            if limit is None or age < limit:
                buckets[name] += 1
                break
    k.backlog_ages = [(name, buckets.get(name, 0)) for _l, name in AGE_BUCKETS]

    k.changes_done, k.changes_ok = change_success(session, lo, hi)
    k.satisfaction = satisfaction_by_customer(session, lo, hi)
    return k


def calls_per_day(session: Session, lo: datetime, hi: datetime, zone: ZoneInfo
                  ) -> Counter[date]:
    """Incidents opened per local day in [lo, hi), counted in SQL per UTC hour (a year is at
    most 8,784 rows, whatever the number of incidents) and the hours put on local days
    here, as SQLite knows no time zones. Zones whose offset is not whole hours count
    row by row."""
    per_day: Counter[date] = Counter()
    probe = datetime(lo.year, 1, 1, tzinfo=zone), datetime(lo.year, 7, 1, tzinfo=zone)
    whole_hours = all((p.utcoffset() or timedelta()).total_seconds() % 3600 == 0
                      for p in probe)
    period = (col(Incident.opened_at) >= lo, col(Incident.opened_at) < hi)
    if not whole_hours:
        for (opened,) in session.execute(select(col(Incident.opened_at)).where(*period)):
            per_day[opened.astimezone(zone).date()] += 1
        return per_day
    if session.get_bind().dialect.name == "sqlite":
        hour = func.substr(col(Incident.opened_at), 1, 13)  # stored as naive UTC 'YYYY-MM-DD HH'
    else:
        hour = func.to_char(func.timezone("UTC", col(Incident.opened_at)), "YYYY-MM-DD HH24")
    for bucket, n in session.execute(select(hour, func.count()).where(*period)
                                     .group_by(hour)):
        b = str(bucket)  # 'YYYY-MM-DD HH': sliced, as strptime cost 45 ms a year
        at = datetime(int(b[:4]), int(b[5:7]), int(b[8:10]), int(b[11:13]), tzinfo=UTC)
        per_day[at.astimezone(zone).date()] += int(n)
    return per_day


def change_success(session: Session, lo: datetime, hi: datetime) -> tuple[int, int]:
    """(changes with an outcome, successful ones) ended in [lo, hi). Uses the CAB report's
    function when that module provides one, so both screens agree."""
    try:
        from pob_tui.reports import cab

        fn = getattr(cab, "change_success_rate", None)
    except ImportError:
        fn = None
    if fn is not None:
        try:
            got = fn(session, start=lo, end=hi)
            if isinstance(got, dict) and "total" in got and "successful" in got:
                return int(got["total"]), int(got["successful"])
        except TypeError:
            pass
    ended = func.coalesce(col(ChangeRequest.actual_end), col(ChangeRequest.updated_at))
    rows = session.execute(
        select(col(ChangeRequest.outcome), func.count()).where(
            col(ChangeRequest.outcome).is_not(None), ended >= lo, ended < hi)
        .group_by(col(ChangeRequest.outcome))).all()
    total = sum(int(n) for _o, n in rows)
    ok = sum(int(n) for o, n in rows if o == "successful")
    return total, ok


def satisfaction_by_customer(session: Session, lo: datetime, hi: datetime,
                             ) -> list[dict[str, Any]]:
    """Average score per customer (the caller's top-level org unit), under 4 flagged."""
    parents = {u: (p, code, name) for u, p, code, name in session.execute(
        select(col(OrgUnit.id), col(OrgUnit.parent_id), col(OrgUnit.code), col(OrgUnit.name)))}

    def top(u: int | None) -> int | None:
        seen = set()
        while u is not None and parents.get(u, (None,))[0] is not None and u not in seen:
            seen.add(u)
            u = parents[u][0]
        return u

    sums: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for unit, total, n in session.execute(
            select(col(Person.org_unit_id), func.sum(col(Incident.satisfaction)), func.count())
            .join(Person, col(Person.id) == Incident.caller_id)
            .where(col(Incident.satisfaction).is_not(None), col(Incident.satisfaction_at) >= lo,
                   col(Incident.satisfaction_at) < hi)
            .group_by(col(Person.org_unit_id))):
        cell = sums[top(unit)]
        cell[0] += int(total)
        cell[1] += int(n)
    out = []
    for cust, (total, n) in sums.items():
        code, name = (parents[cust][1], parents[cust][2]) if cust in parents else ("-", "-")
        avg = round(total / n, 2)
        out.append({"customer": code, "name": name, "responses": n, "average": avg,
                    "flagged": avg < SATISFACTION_FLOOR})
    out.sort(key=lambda r: r["customer"])
    return out
