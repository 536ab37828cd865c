"""SLA compliance: the share of clocks that met their target, per service, customer,
priority or team, for clocks started in a period. Running clocks already past due count as
missed; running clocks not yet due are left out (their outcome is not known)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput
from pob_tui.i18n import _
from pob_tui.models import Incident, OrgUnit, Person, Service, SlaClock, Team

GROUPS = ("service", "customer", "priority", "team")


def sla_compliance(session: Session, *, start: datetime, end: datetime, by: str = "service",
                   now: datetime) -> list[dict[str, Any]]:
    if by not in GROUPS:
        raise InvalidInput(_("unknown grouping {by}; expected one of {choices}").format(
            by=repr(by), choices=", ".join(GROUPS)))
    if end <= start:
        raise InvalidInput(_("--to must be after --from"))
    key: ColumnElement[str]
    if by == "service":
        key = func.coalesce(col(Service.name), "-")
    elif by == "customer":
        key = func.coalesce(col(OrgUnit.name), "-")
    elif by == "priority":
        key = literal("P") + cast(col(Incident.priority), String)
    else:
        key = func.coalesce(col(Team.name), "-")
    decided = or_(col(SlaClock.stopped_at).is_not(None), col(SlaClock.due_at) <= now)
    met = case((and_(col(SlaClock.met).is_(True)), 1), else_=0)
    missed = case((or_(col(SlaClock.met).is_(False),
                       and_(col(SlaClock.stopped_at).is_(None), col(SlaClock.due_at) <= now)),
                   1), else_=0)
    team_for_group = col(SlaClock.team_id) if by == "team" else col(Incident.team_id)
    stmt = (
        select(key.label("group"), col(SlaClock.kind), func.sum(met), func.sum(missed))
        .join(Incident, col(Incident.id) == SlaClock.incident_id))
    # Only the joins the grouping reads (every incident has a caller: the inner join to
    # person filtered nothing); the dashboard's per-priority figures then read two tables.
    if by == "customer":
        stmt = (stmt.join(Person, col(Person.id) == Incident.caller_id)
                .outerjoin(OrgUnit, col(OrgUnit.id) == Person.org_unit_id))
    elif by == "service":
        stmt = stmt.outerjoin(Service, col(Service.id) == Incident.service_id)
    elif by == "team":
        stmt = stmt.outerjoin(Team, col(Team.id) == team_for_group)
    stmt = (
        stmt.where(col(SlaClock.started_at) >= start, col(SlaClock.started_at) < end, decided,
                   col(Incident.status) != "cancelled")
        .group_by(key, col(SlaClock.kind))
        .order_by(key, col(SlaClock.kind))
    )
    if by == "team":
        stmt = stmt.where(col(SlaClock.kind) == "ola")
    rows: list[dict[str, Any]] = []
    for group, kind, n_met, n_missed in session.execute(stmt):
        n_met, n_missed = int(n_met or 0), int(n_missed or 0)
        total = n_met + n_missed
        rows.append({by: group, "target": kind, "met": n_met, "missed": n_missed,
                     "total": total,
                     "share_met": round(n_met / total, 4) if total else None})
    return rows
