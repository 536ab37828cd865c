"""SLA compliance: the share of clocks that met their target, per service, customer,
priority or team, for clocks started in a period. Running clocks already past due count as
missed; running clocks not yet due are left out (their outcome is not known)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlmodel import Session

from pob_tui.errors import InvalidInput
from pob_tui.models import Incident, OrgUnit, Person, Service, SlaClock, Team

GROUPS = ("service", "customer", "priority", "team")


def sla_compliance(session: Session, *, start: datetime, end: datetime, by: str = "service",
                   now: datetime) -> list[dict[str, Any]]:
    if by not in GROUPS:
        raise InvalidInput(f"unknown grouping {by!r}; expected one of " + ", ".join(GROUPS))
    if end <= start:
        raise InvalidInput("--to must be after --from")
    if by == "service":
        key = func.coalesce(Service.name, "-")
    elif by == "customer":
        key = func.coalesce(OrgUnit.name, "-")
    elif by == "priority":
        key = literal("P") + cast(Incident.priority, String)
    else:
        key = func.coalesce(Team.name, "-")
    decided = or_(SlaClock.stopped_at.is_not(None), SlaClock.due_at <= now)
    met = case((and_(SlaClock.met.is_(True)), 1), else_=0)
    missed = case((or_(SlaClock.met.is_(False),
                       and_(SlaClock.stopped_at.is_(None), SlaClock.due_at <= now)), 1), else_=0)
    team_for_group = SlaClock.team_id if by == "team" else Incident.team_id
    stmt = (
        select(key.label("group"), SlaClock.kind, func.sum(met), func.sum(missed))
        .join(Incident, Incident.id == SlaClock.incident_id)
        .join(Person, Person.id == Incident.caller_id)
        .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .outerjoin(Service, Service.id == Incident.service_id)
        .outerjoin(Team, Team.id == team_for_group)
        .where(SlaClock.started_at >= start, SlaClock.started_at < end, decided,
               Incident.status != "cancelled")
        .group_by(key, SlaClock.kind)
        .order_by(key, SlaClock.kind)
    )
    if by == "team":
        stmt = stmt.where(SlaClock.kind == "ola")
    rows = []
    for group, kind, n_met, n_missed in session.execute(stmt):
        n_met, n_missed = int(n_met or 0), int(n_missed or 0)
        total = n_met + n_missed
        rows.append({by: group, "target": kind, "met": n_met, "missed": n_missed,
                     "total": total,
                     "share_met": round(n_met / total, 4) if total else None})
    return rows
