"""Read models for the service-desk screens that `incidents` does not offer on its own.

The queue's views (including "at risk", which needs the SLA clocks), a count for the status
line, team lists for the assign and escalate dialogs, and the clock state of one incident.
No Textual here: the TUI calls these from workers, the bench calls them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from pob_tui.models import Incident, Person, Service, Team, utcnow
from pob_tui.models.incident import OPEN_STATUSES, WAITING_STATUSES
from pob_tui.services import incidents, mail, sla
from pob_tui.services.identity import Actor

QUEUE_VIEWS = ("mine", "team", "open", "unassigned", "waiting", "resolved", "at_risk")
QUEUE_SORTS = ("newest", "age", "priority", "due")
_AT_RISK_SCAN = 2000
"""Rows of the due-time order looked at per at-risk page; bounds the cost on big queues."""


@dataclass
class QueuePage:
    """One page of a queue view; `next_offset` is where the following page starts in SQL."""

    rows: list[dict[str, Any]]
    offset: int
    next_offset: int
    has_more: bool
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def queue_page(session: Session, *, actor: Actor | None, view: str = "open",
               search: str | None = None, sort: str = "newest", limit: int = 100,
               offset: int = 0, now: datetime | None = None,
               count: bool = False) -> QueuePage:
    """A page of the queue with SLA time left on each row; one extra row tells `has_more`."""
    now = now or utcnow()
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
    out: list[dict[str, Any]] = []
    raw = offset
    scanned = 0
    batch = max(limit, 200)
    while len(out) < limit and scanned < _AT_RISK_SCAN:
        rows = incidents.list_incidents(session, actor=actor, view="open", search=search,
                                        sort="due", limit=batch, offset=raw, now=now)
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
               ) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The rows of `ids` that belong in `view` (with SLA time left), and the number of
    every id asked about: a live queue updates, inserts or removes just those rows."""
    now = now or utcnow()
    if not ids:
        return [], {}
    numbers = {int(r[0]): str(r[1]) for r in session.execute(
        select(Incident.id, Incident.number).where(Incident.id.in_(ids)))}
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
    if view not in ("mine", "team", "open", "unassigned", "waiting"):
        return None
    conds = incidents._list_query(actor, view, now or utcnow())
    stmt = select(func.count()).select_from(Incident)
    if search and search.strip():
        stmt = (stmt.join(incidents.Caller, incidents.Caller.id == Incident.caller_id)
                .outerjoin(Service, Service.id == Incident.service_id))
        for token in search.lower().split():
            like = f"%{incidents._escape_like(token)}%"
            conds.append(or_(
                func.lower(Incident.number).like(like, escape="\\"),
                func.lower(Incident.summary).like(like, escape="\\"),
                incidents.Caller.search.like(like, escape="\\"),
                func.lower(Service.code).like(like, escape="\\"),
                func.lower(Service.name).like(like, escape="\\"),
            ))
    return int(session.execute(stmt.where(*conds)).scalar_one())


def list_teams(session: Session, *, second_line_only: bool = False) -> list[dict[str, Any]]:
    """Teams for the assign and escalate dialogs (escalation targets exclude the desk)."""
    stmt = select(Team.id, Team.code, Team.name, Team.kind).order_by(Team.name)
    if second_line_only:
        stmt = stmt.where(Team.kind != "service_desk")
    return [{"id": r[0], "code": r[1], "name": r[2], "kind": r[3]}
            for r in session.execute(stmt)]


def incident_view(session: Session, number: str, now: datetime | None = None, *,
                  events: bool = True) -> dict[str, Any]:
    """Everything the detail screen shows: fields and events (`events=False`: without
    them, see `incident_timeline`), SLA clocks, and the snapshot (`seen`) plus `version`
    that edits pass back for optimistic locking. Opening it marks the caller's mail on it
    read (the queue stops marking it)."""
    now = now or utcnow()
    data = incidents.incident_detail(session, number, events=events)
    mail.mark_read(session, number, now)
    inc = incidents.get_incident(session, number)
    data["clocks"] = sla.clock_states(session, inc, now)
    data["seen"] = incidents.snapshot(inc)
    data["tz"] = _calendar_tz(data["clocks"], session)
    return data


def incident_timeline(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The events of one incident, oldest first (the detail screen's second step), with
    the ids a change recorded (team, assignee, service, CI, caller, problem) given as the
    names an agent reads: "team: Service desk -> Network", not "team: 1 -> 4"."""
    events = incidents.incident_events(session, incident_id)
    wanted: dict[str, set[int]] = {}
    for ev in events:
        if ev.get("field") in _NAMED_FIELDS:
            for key in ("old", "new"):
                ident = _as_id(ev.get(key))
                if ident is not None:
                    wanted.setdefault(ev["field"], set()).add(ident)
    names = {f: _names(session, f, ids) for f, ids in wanted.items()}
    for ev in events:
        if ev.get("field") in names:
            for key in ("old", "new"):
                ident = _as_id(ev.get(key))
                if ident is not None:
                    ev[key] = names[ev["field"]].get(ident, ev[key])
    return events


_NAMED_FIELDS = ("team_id", "assignee_id", "service_id", "ci_id", "caller_id", "problem_id")


def _as_id(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _names(session: Session, field: str, ids: set[int]) -> dict[int, str]:
    from pob_tui.models import Agent, ConfigItem, Problem

    if field == "team_id":
        rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))
        return {i: n for i, n in rows}
    if field == "service_id":
        rows = session.execute(select(Service.id, Service.code, Service.name)
                               .where(Service.id.in_(ids)))
        return {i: f"{n} ({c})" for i, c, n in rows}
    if field == "ci_id":
        rows = session.execute(select(ConfigItem.id, ConfigItem.name)
                               .where(ConfigItem.id.in_(ids)))
        return {i: n for i, n in rows}
    if field == "problem_id":
        rows = session.execute(select(Problem.id, Problem.number).where(Problem.id.in_(ids)))
        return {i: n for i, n in rows}
    if field == "caller_id":
        rows = session.execute(select(Person.id, Person.first_name, Person.last_name,
                                      Person.username).where(Person.id.in_(ids)))
        return {i: f"{f} {ln} ({u})" for i, f, ln, u in rows}
    rows = session.execute(select(Agent.id, Agent.username, Person.first_name,
                                  Person.last_name)
                           .outerjoin(Person, Person.id == Agent.person_id)
                           .where(Agent.id.in_(ids)))
    return {i: f"{f} {ln} ({u})" if f else u for i, u, f, ln in rows}


def _calendar_tz(clocks: list[Any], session: Session) -> str | None:
    for clock in clocks:
        if clock.calendar_id is not None:
            return str(sla.calendar_by_id(session, clock.calendar_id).tz)
    return None


def explain_clocks(session: Session, number: str,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """`sla.explain_all` by incident number: response, resolution and OLA clocks."""
    return sla.explain_all(session, incidents.get_incident(session, number), now)


def explain_clock(session: Session, number: str, kind: str = "resolution",
                  now: datetime | None = None) -> dict[str, Any]:
    """`sla.explain` by incident number (the screen only knows numbers)."""
    return sla.explain(session, incidents.get_incident(session, number), kind, now)


def open_statuses() -> tuple[str, ...]:
    return tuple(OPEN_STATUSES)


def waiting_statuses() -> tuple[str, ...]:
    return tuple(WAITING_STATUSES)


def person_name(session: Session, person_id: int) -> str | None:
    row = session.execute(select(Person.first_name, Person.last_name)
                          .where(Person.id == person_id)).first()
    return f"{row[0]} {row[1]}" if row else None
