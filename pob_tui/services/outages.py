"""Outages (major incidents): one parent incident for forty calls.

Declaring an outage on a CI (or a service) creates a P1 parent incident (`major`) and fixes
the services it reaches (impact analysis, `services/impact.py`) in `outage_service`. A call
from someone those services reach becomes a child (`parent_id`): it is still the caller's
own incident with its own SLA clock. Resolving the parent resolves its open children with
the parent's note, each child's clock stopping at that moment. Every write bumps the
incidents' `version`/`updated_at`, so the live-update channel (services/live.py) tells
every running pob.

Who may: `outage.declare` (second line, change managers, administrators) declares and
resolves; `outage.link` (every agent) links calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import (
    Agent,
    ConfigItem,
    Incident,
    OrgUnit,
    OutageService,
    Person,
    Service,
    Subscription,
    utcnow,
)
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.services import incidents
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.identity import Actor
from pob_tui.services.numbers import next_number
from pob_tui.services.permissions import require


@dataclass(frozen=True)
class OutageRow:
    """`pob outage list` rows (a contract) and the queue's banner line."""

    id: int
    number: str
    summary: str
    ci: str | None
    service: str | None
    children: int
    status: str
    opened_at: datetime
    services: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "summary": self.summary, "ci": self.ci,
                "service": self.service, "children": self.children, "status": self.status,
                "opened_at": self.opened_at}


def _touch(incident: Incident, now: datetime) -> None:
    incident.version += 1
    incident.updated_at = now


def _get_outage(session: Session, number: str) -> Incident:
    parent = incidents.get_incident(session, number, for_update=True)
    if not parent.major:
        raise InvalidInput(_("{number} is not an outage").format(number=parent.number))
    return parent


def declare(session: Session, actor: Actor, *, summary: str, ci: str | None = None,
            service: str | None = None, incident: str | None = None,
            now: datetime | None = None, on: date | None = None) -> Incident:
    """Create the parent incident for trouble on `ci` or `service`. From an `incident`
    (neither given): on its CI, else its service, and that incident becomes the first
    child."""
    from pob_tui.services import sla
    from pob_tui.services.catalog import find_service
    from pob_tui.services.cmdb import find_ci
    from pob_tui.services.impact import analyse_impact

    agent_id = require(session, actor, "outage.declare", ci or service)
    now = now or utcnow()
    text = (summary or "").strip()
    if not text:
        raise InvalidInput(_("an outage needs a summary"))
    if len(text) > 200:
        raise InvalidInput(_("summary is {n} characters; at most 200").format(n=len(text)))
    origin = None
    if incident is not None and ci is None and service is None:
        origin = incidents.get_incident(session, incident, for_update=True)
        if origin.ci_id is not None:
            ci = session.get(ConfigItem, origin.ci_id).name  # type: ignore[union-attr]
        elif origin.service_id is not None:
            service = session.get(Service, origin.service_id).code  # type: ignore[union-attr]
        else:
            raise InvalidInput(_("{number} has neither a CI nor a service; name the CI or "
                                 "service the outage is on").format(number=origin.number))
    if (ci is None) == (service is None):
        raise InvalidInput(_("declare an outage on a CI or on a service (one of them)"))
    item = find_ci(session, ci) if ci is not None else None
    svc = find_service(session, service) if service is not None else None
    service_ids: list[int]
    if item is not None:
        assert item.id is not None
        imp = analyse_impact(session, [item.id], on or now.date())
        service_ids = [s.id for s in imp.services]
    else:
        assert svc is not None and svc.id is not None
        service_ids = [svc.id]
    agent = session.get(Agent, agent_id)
    caller_id = agent.person_id if agent else None
    if caller_id is None:
        raise InvalidInput(_("{username} has no person record to stand as the caller").format(
            username=actor.username))
    desk = incidents.service_desk_team(session)
    parent = Incident(
        number=next_number(session, "INC"), caller_id=caller_id,
        service_id=svc.id if svc else (service_ids[0] if len(service_ids) == 1 else None),
        ci_id=item.id if item else None, summary=text, impact=1, urgency=1,
        priority=incidents.priority_for(1, 1),
        status="new", channel="monitoring",
        team_id=actor.team_id or (desk.id if desk else None), opened_by_id=agent_id,
        opened_at=now, updated_at=now, major=True)
    session.add(parent)
    session.flush()
    assert parent.id is not None
    for sid in service_ids:
        session.add(OutageService(incident_id=parent.id, service_id=sid))
    record_ticket_event(session, ticket_type="incident", ticket_id=parent.id, kind="created",
                        actor_id=agent_id, comment=f"outage: {text}", at=now)
    sla.on_incident_change(session, parent, "created", now)
    session.flush()
    if origin is not None and origin.status in OPEN_STATUSES and not origin.major:
        _link(session, agent_id, parent, origin, now)
    return parent


def link_child(session: Session, actor: Actor, parent_number: str, child_number: str, *,
               now: datetime | None = None) -> Incident:
    """Make an open incident a child of an open outage."""
    agent_id = require(session, actor, "outage.link", parent_number)
    now = now or utcnow()
    parent = _get_outage(session, parent_number)
    child = incidents.get_incident(session, child_number, for_update=True)
    _link(session, agent_id, parent, child, now)
    return child


def _link(session: Session, agent_id: int | None, parent: Incident, child: Incident,
          now: datetime) -> None:
    if parent.status not in OPEN_STATUSES:
        raise InvalidInput(_("{number} is {status}; calls link only to an open outage").format(
            number=parent.number, status=incidents.status_text(parent.status)))
    if child.id == parent.id or child.major:
        raise InvalidInput(_("{number} is an outage itself").format(number=child.number))
    if child.parent_id == parent.id:
        raise InvalidInput(_("{child} is linked to {parent} already").format(
            child=child.number, parent=parent.number))
    if child.status not in OPEN_STATUSES:
        raise InvalidInput(_("{number} is {status}; only open incidents are linked").format(
            number=child.number, status=incidents.status_text(child.status)))
    assert child.id is not None and parent.id is not None
    old = child.parent_id
    child.parent_id = parent.id
    record_ticket_event(session, ticket_type="incident", ticket_id=child.id, kind="field",
                        actor_id=agent_id, field="parent_id", old=old, new=parent.id,
                        comment=f"linked to outage {parent.number}", at=now)
    record_ticket_event(session, ticket_type="incident", ticket_id=parent.id, kind="linked",
                        actor_id=agent_id, comment=f"child {child.number}", at=now)
    _touch(child, now)
    _touch(parent, now)


def log_child(session: Session, actor: Actor, parent_number: str,
              call: incidents.NewIncident, *, now: datetime | None = None) -> Incident:
    """Log a call as a child of the outage: the caller's own incident (own SLA clock),
    linked in the same transaction."""
    now = now or utcnow()
    agent_id = require(session, actor, "outage.link", parent_number)
    parent = _get_outage(session, parent_number)
    child = incidents.create_incident(session, actor, call, now=now)
    _link(session, agent_id, parent, child, now)
    session.flush()
    return child


def link_open_on_services(session: Session, actor: Actor, parent_number: str, *,
                          now: datetime | None = None, limit: int = 1000) -> list[str]:
    """Link every open incident on the outage's services (not yet linked) as a child."""
    agent_id = require(session, actor, "outage.link", parent_number)
    now = now or utcnow()
    parent = _get_outage(session, parent_number)
    services = (select(col(OutageService.service_id))
                .where(col(OutageService.incident_id) == parent.id))
    children = session.execute(
        select(Incident).where(col(Incident.service_id).in_(services),
                               col(Incident.status).in_(OPEN_STATUSES),
                               col(Incident.id) != parent.id,
                               col(Incident.major).is_(False),
                               (col(Incident.parent_id).is_(None))
                               | (col(Incident.parent_id) != parent.id))
        .order_by(col(Incident.opened_at)).limit(limit).with_for_update()).scalars().all()
    for child in children:
        _link(session, agent_id, parent, child, now)
    session.flush()
    return [c.number for c in children]


def declare_and_link(session: Session, actor: Actor, *, summary: str,
                     ci: str | None = None, service: str | None = None,
                     incident: str | None = None, now: datetime | None = None
                     ) -> tuple[Incident, list[str]]:
    """Declare the outage and link the open incidents already on its services, in one
    unit of work (the TUI's declare, `pob outage declare --link-open`)."""
    parent = declare(session, actor, summary=summary, ci=ci, service=service,
                     incident=incident, now=now)
    return parent, link_open_on_services(session, actor, parent.number, now=now)


def resolve(session: Session, actor: Actor, number: str, *, note: str,
            code: str = "solved", now: datetime | None = None) -> list[str]:
    """Resolve the outage and its open children with `note`; the children resolved."""
    agent_id = require(session, actor, "outage.declare", number)
    now = now or utcnow()
    if not (note or "").strip():
        raise InvalidInput(_("resolving an outage needs a note"))
    parent = _get_outage(session, number)
    if parent.status not in OPEN_STATUSES:
        raise InvalidInput(_("{number} is {status} already").format(
            number=parent.number, status=incidents.status_text(parent.status)))
    children = session.execute(
        select(Incident).where(col(Incident.parent_id) == parent.id,
                               col(Incident.status).in_(OPEN_STATUSES))
        .order_by(col(Incident.number)).with_for_update()).scalars().all()
    # the incident service's own resolution step (state rule, audit, SLA clock, version)
    for inc in (parent, *children):
        if inc.assignee_id is None:
            incidents._set(session, inc, agent_id, "assignee_id", agent_id, now)
        incidents._resolve(session, inc, agent_id, code, note.strip(), now, first_line=False)
    session.flush()
    return [c.number for c in children]


def list_outages(session: Session, *, open_only: bool = True, limit: int = 50
                 ) -> list[OutageRow]:
    """Outages, newest first, each with its count of child incidents."""
    child = aliased(Incident)
    count = (select(func.count()).select_from(child).where(col(child.parent_id) == Incident.id)
             .correlate(Incident).scalar_subquery())
    stmt = (select(col(Incident.id), col(Incident.number), col(Incident.summary),
                   col(ConfigItem.name),
                   col(Service.code), count, col(Incident.status), col(Incident.opened_at))
            .outerjoin(ConfigItem, col(ConfigItem.id) == Incident.ci_id)
            .outerjoin(Service, col(Service.id) == Incident.service_id)
            .where(col(Incident.major).is_(True)))
    if open_only:
        stmt = stmt.where(col(Incident.status).in_(OPEN_STATUSES))
    rows = session.execute(stmt.order_by(col(Incident.opened_at).desc()).limit(limit)).all()
    codes: dict[int, list[str]] = {}
    if rows:
        for iid, code in session.execute(
                select(col(OutageService.incident_id), col(Service.code))
                .join(Service, col(Service.id) == OutageService.service_id)
                .where(col(OutageService.incident_id).in_([r[0] for r in rows]))
                .order_by(col(Service.code))):
            codes.setdefault(iid, []).append(code)
    return [OutageRow(iid, number, summary, ci, service, children, status, opened_at,
                      services=tuple(codes.get(iid, ())))
            for iid, number, summary, ci, service, children, status, opened_at in rows]


def outages_for_caller(session: Session, person_id: int, on: date | None = None
                       ) -> list[OutageRow]:
    """Open outages that reach this caller: a service they subscribe to (directly or
    through their org unit or one above it), or a CI they own being the outage's CI."""
    open_ = list_outages(session, open_only=True, limit=20)
    if not open_:
        return []
    on = on or utcnow().date()
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(_("unknown caller {ref}").format(ref=person_id))
    units: list[int] = []
    unit = person.org_unit_id
    while unit is not None and unit not in units:  # up the org tree (a few levels)
        units.append(unit)
        unit = session.execute(select(col(OrgUnit.parent_id))
                               .where(col(OrgUnit.id) == unit)).scalar()
    valid = ((col(Subscription.valid_from) <= on)
             & (col(Subscription.valid_to).is_(None) | (col(Subscription.valid_to) >= on)))
    who = col(Subscription.person_id) == person_id
    if units:
        who = who | col(Subscription.org_unit_id).in_(units)
    ids = [o.id for o in open_]
    hit = set(session.execute(
        select(col(OutageService.incident_id))
        .join(Subscription, col(Subscription.service_id) == OutageService.service_id)
        .where(col(OutageService.incident_id).in_(ids), valid, who)).scalars())
    hit |= set(session.execute(
        select(col(Incident.id)).join(ConfigItem, col(ConfigItem.id) == Incident.ci_id)
        .where(col(Incident.id).in_(ids), col(ConfigItem.person_id) == person_id)).scalars())
    return [o for o in open_ if o.id in hit]
