"""Read models for the service-desk screens that `incidents` does not offer on its own.

The queue's views (including "at risk", which needs the SLA clocks), a count for the status
line, team lists for the assign and escalate dialogs, and the clock state of one incident.
No Textual here: the TUI calls these from workers, the bench calls them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput
from pob_tui.models import Incident, Person, Service, Team, utcnow
from pob_tui.models.base import pk
from pob_tui.services import incidents, mail, sla
from pob_tui.services.identity import Actor
from pob_tui.services.incident_views import (
    COUNTED_VIEWS,
    QUEUE_SORTS,
    QUEUE_VIEWS,
    EventRow,
    IncidentDetail,
    IncidentRow,
    TeamChoice,
    queue_order,
)
from pob_tui.services.sla import ClockState

_AT_RISK_SCAN = 2000
"""Rows of the due-time order looked at per at-risk page; bounds the cost on big queues."""


@dataclass
class QueuePage:
    """One page of a queue view; `next_offset` is where the following page starts in SQL."""

    rows: list[IncidentRow]
    offset: int
    next_offset: int
    has_more: bool
    total: int | None = None


class IncidentView(IncidentDetail):
    """`incident_view`: the detail with its SLA clocks, the calendar's zone, and the
    snapshot (`seen`) an edit passes back with `version` for optimistic locking."""

    clocks: list[ClockState]
    seen: dict[str, Any]
    tz: str | None


def queue_page(session: Session, *, actor: Actor | None, view: str = "open",
               search: str | None = None, sort: str = "newest", limit: int = 100,
               offset: int = 0, now: datetime | None = None,
               count: bool = False) -> QueuePage:
    """A page of the queue with SLA time left on each row; one extra row tells `has_more`."""
    now = now or utcnow()
    if view not in QUEUE_VIEWS:
        raise InvalidInput(f"unknown view {view!r}; expected one of " + ", ".join(QUEUE_VIEWS))
    if sort not in QUEUE_SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; expected one of " + ", ".join(QUEUE_SORTS))
    if view == "at_risk":
        return _at_risk_page(session, actor=actor, search=search, limit=limit, offset=offset,
                             now=now)
    rows = incidents.list_incidents(session, actor=actor, view=view, search=search,
                                    sort=sort, limit=limit + 1, offset=offset, now=now)
    has_more = len(rows) > limit
    rows = rows[:limit]
    sla.time_left(session, rows, now)
    mail.mark_unread(session, rows)
    total = count_view(session, actor=actor, view=view, search=search, now=now) \
        if count else None
    return QueuePage(rows, offset, offset + len(rows), has_more, total)


def _at_risk_page(session: Session, *, actor: Actor | None, search: str | None, limit: int,
                  offset: int, now: datetime) -> QueuePage:
    """Open, running incidents whose resolution clock is at risk or breached, soonest due
    first. Scans the due-time order (indexed) and keeps the rows the clocks flag."""
    out: list[IncidentRow] = []
    raw = offset
    scanned = 0
    batch = max(limit, 200)
    while len(out) < limit and scanned < _AT_RISK_SCAN:
        rows = incidents.list_incidents(session, actor=actor, view="open", search=search,
                                        sort=queue_order("at_risk", "due"), limit=batch,
                                        offset=raw, now=now)
        if not rows:
            return QueuePage(out, offset, raw, False)
        sla.time_left(session, rows, now)
        for i, row in enumerate(rows):
            if row.get("sla_state") in ("at_risk", "breached"):
                out.append(row)
                if len(out) == limit:
                    raw += i + 1
                    return QueuePage(out, offset, raw, True)
        raw += len(rows)
        scanned += len(rows)
        if len(rows) < batch:
            return QueuePage(out, offset, raw, False)
    return QueuePage(out, offset, raw, True)


def queue_rows(session: Session, *, actor: Actor | None, view: str, ids: list[int],
               search: str | None = None, now: datetime | None = None
               ) -> tuple[list[IncidentRow], dict[int, str]]:
    """The rows of `ids` that belong in `view` (with SLA time left), and the number of
    every id asked about: a live queue updates, inserts or removes just those rows."""
    now = now or utcnow()
    if not ids:
        return [], {}
    numbers = {r.id: r.number for r in session.execute(
        select(col(Incident.id).label("id"), col(Incident.number).label("number"))
        .where(col(Incident.id).in_(ids)))}
    base = "open" if view == "at_risk" else view
    rows = incidents.list_incidents(session, actor=actor, view=base, search=search,
                                    sort="age", limit=len(ids), now=now, ids=ids)
    sla.time_left(session, rows, now)
    if view == "at_risk":
        rows = [r for r in rows if r.get("sla_state") in ("at_risk", "breached")]
    return rows, numbers


def count_view(session: Session, *, actor: Actor | None, view: str, search: str | None,
               now: datetime | None = None) -> int | None:
    """How many rows a view holds, for views bounded by an index (None for the others)."""
    if view not in COUNTED_VIEWS:
        return None
    conds = incidents.view_conditions(actor, view, search, now or utcnow())
    stmt = select(func.count()).select_from(Incident)
    if search and search.strip():
        stmt = (stmt.join(incidents.Caller, col(incidents.Caller.id) == Incident.caller_id)
                .outerjoin(Service, col(Service.id) == Incident.service_id))
    return int(session.execute(stmt.where(*conds)).scalar_one())


def list_teams(session: Session, *, second_line_only: bool = False) -> list[TeamChoice]:
    """Teams for the assign and escalate dialogs (escalation targets exclude the desk)."""
    stmt = select(Team).order_by(col(Team.name))
    if second_line_only:
        stmt = stmt.where(col(Team.kind) != "service_desk")
    return [TeamChoice(id=pk(t), code=t.code, name=t.name, kind=t.kind)
            for t in session.execute(stmt).scalars()]


def incident_view(session: Session, number: str, now: datetime | None = None, *,
                  events: bool = True) -> IncidentView:
    """Everything the detail screen shows: fields and events (`events=False`: without
    them, see `incident_timeline`), SLA clocks, and the snapshot (`seen`) plus `version`
    that edits pass back for optimistic locking. Opening it marks the caller's mail on it
    read (the queue stops marking it)."""
    now = now or utcnow()
    detail = incidents.incident_detail(session, number, events=events)
    mail.mark_read(session, number, now)
    inc = incidents.get_incident(session, number)
    clocks = sla.clock_states(session, inc, now)
    return IncidentView(**detail, clocks=clocks, seen=incidents.snapshot(inc),
                        tz=_calendar_tz(clocks, session))


def incident_timeline(session: Session, incident_id: int) -> list[EventRow]:
    """The events of one incident, oldest first (the detail screen's second step), with
    the ids a change recorded (team, assignee, service, CI, caller, problem) given as the
    names an agent reads: "team: Service desk -> Network", not "team: 1 -> 4"."""
    events = incidents.incident_events(session, incident_id)
    wanted: dict[str, set[int]] = {}
    for ev in events:
        name = ev["field"]
        if name in _NAMED_FIELDS:
            for value in (ev["old"], ev["new"]):
                ident = _as_id(value)
                if ident is not None:
                    wanted.setdefault(name, set()).add(ident)
    names = {f: _names(session, f, ids) for f, ids in wanted.items()}
    for ev in events:
        named = names.get(ev["field"] or "")
        if named:
            old, new = _as_id(ev["old"]), _as_id(ev["new"])
            if old is not None:
                ev["old"] = named.get(old, ev["old"])
            if new is not None:
                ev["new"] = named.get(new, ev["new"])
    return events


_NAMED_FIELDS = ("team_id", "assignee_id", "service_id", "ci_id", "caller_id", "problem_id")


def _as_id(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _names(session: Session, field: str, ids: set[int]) -> dict[int, str]:
    """The names an agent reads for the ids one field of the timeline recorded."""
    from pob_tui.models import Agent, ConfigItem, Problem

    if field == "team_id":
        return {t.id: t.name for t in session.execute(
            select(Team).where(col(Team.id).in_(ids))).scalars() if t.id is not None}
    if field == "service_id":
        return {s.id: f"{s.name} ({s.code})" for s in session.execute(
            select(Service).where(col(Service.id).in_(ids))).scalars() if s.id is not None}
    if field == "ci_id":
        return {c.id: c.name for c in session.execute(
            select(ConfigItem).where(col(ConfigItem.id).in_(ids))).scalars()
            if c.id is not None}
    if field == "problem_id":
        return {p.id: p.number for p in session.execute(
            select(Problem).where(col(Problem.id).in_(ids))).scalars() if p.id is not None}
    if field == "caller_id":
        return {p.id: f"{p.first_name} {p.last_name} ({p.username})" for p in session.execute(
            select(Person).where(col(Person.id).in_(ids))).scalars() if p.id is not None}
    rows = session.execute(
        select(col(Agent.id).label("id"), col(Agent.username).label("username"),
               col(Person.first_name).label("first"), col(Person.last_name).label("last"))
        .outerjoin(Person, col(Person.id) == Agent.person_id)
        .where(col(Agent.id).in_(ids)))
    return {r.id: f"{r.first} {r.last} ({r.username})" if r.first else r.username
            for r in rows}


def _calendar_tz(clocks: list[ClockState], session: Session) -> str | None:
    for clock in clocks:
        if clock.calendar_id is not None:
            return str(sla.calendar_by_id(session, clock.calendar_id).tz)
    return None


def explain_clocks(session: Session, number: str,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """`sla.explain_all` by incident number: response, resolution and OLA clocks."""
    return sla.explain_all(session, incidents.get_incident(session, number), now)
