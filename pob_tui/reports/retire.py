"""Kill when you can: services that cost much per person who actually uses them.

Usage comes from `usage_record` (one row per person, service and month with any use). For
the twelve months up to the end of the period, each service gets its active users (people
with at least one use), the share of its subscribers who were active, the months since the
last recorded use, and its cost per active user. The yearly saving is what the service costs
a year (cost rows plus agent time); the allocation gives the cost and the subscribers, so the
figures agree with `report costs`.

Ranking: services nobody used come first (their cost per active user is unbounded), then by
cost per active user, highest first; ties by the lower share active.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.models import UsageRecord
from pob_tui.reports.costs import Allocation, money

SKIP = ("retired", "planned")


def month_start(d: date, back: int = 0) -> date:
    """The first day of the month `back` months before `d`'s month."""
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def usage_summary(session: Session, as_of: date, months: int = 12,
                  ) -> tuple[dict[int, int], dict[int, date]]:
    """(service -> active users in the `months` up to `as_of`, service -> last month used)."""
    first = month_start(as_of, months - 1)
    last = month_start(as_of)
    active = {sid: int(n) for sid, n in session.execute(
        select(col(UsageRecord.service_id), func.count(func.distinct(col(UsageRecord.person_id))))
        .where(col(UsageRecord.month) >= first, col(UsageRecord.month) <= last,
               col(UsageRecord.uses) > 0)
        .group_by(col(UsageRecord.service_id)))}
    latest = {sid: m for sid, m in session.execute(
        select(col(UsageRecord.service_id), func.max(col(UsageRecord.month)))
        .where(col(UsageRecord.month) <= last, col(UsageRecord.uses) > 0)
        .group_by(col(UsageRecord.service_id)))}
    return active, latest


def retirement_candidates(session: Session, alloc: Allocation, *, months: int = 12,
                          include_all: bool = False) -> list[dict[str, Any]]:
    """Services ranked for retirement (see the module docstring). Retired and planned
    services are left out unless `include_all`."""
    as_of = alloc.period.end
    active, latest = usage_summary(session, as_of, months)
    scale = 1 if alloc.period.is_year else 365 / alloc.period.days
    rows: list[dict[str, Any]] = []
    for sid, a in alloc.services.items():
        if a.lifecycle in SKIP and not include_all:
            continue
        subscribers = a.people
        users = active.get(sid, 0)
        yearly = round(a.total_cents * scale)
        last = latest.get(sid)
        rows.append({
            "code": a.code, "service": a.name, "lifecycle": a.lifecycle,
            "yearly_cost": money(yearly), "subscribers": subscribers, "active": users,
            "active_share": round(users / subscribers, 4) if subscribers else None,
            "cost_per_active": money(yearly // users) if users else None,
            "last_use": last.isoformat() if last else None,
            "months_since_use": months_between(last, month_start(as_of)) if last else None,
            "saving": money(yearly),
            "_key": (0 if not users else 1, -(yearly // users) if users else -yearly,
                     users / subscribers if subscribers else 0, a.code),
        })
    rows.sort(key=lambda r: r["_key"])
    for rank, r in enumerate(rows, 1):
        del r["_key"]
        r["rank"] = rank
    return rows
