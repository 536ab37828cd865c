"""Org units: the customers of IT as a tree (sector > unit), one unit in detail, and edits.

The tree is small (a municipality has a few hundred units), so the list reads every unit
once and adds its figures with one grouped query each (people, subscriptions, agreements,
open incidents, satisfaction); nothing is fetched per unit. People, open incidents and
satisfaction are rolled up the tree (a sector's figures include its units'); subscriptions
and agreements are the unit's own.

Edits are for administrators; every change is written to the audit log with the old and
new values. A new parent that would make the tree a loop is refused, naming the units
(`org_units.check_no_cycle`, which the CSV import uses too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import (
    Agent,
    Agreement,
    AgreementService,
    Incident,
    OrgUnit,
    Person,
    Service,
    Subscription,
)
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import Actor
from pob_tui.services.org_units import check_no_cycle
from pob_tui.services.permissions import require

SATISFACTION_FLAG = 4.0
"""A satisfaction average under this is flagged (the follow-up threshold)."""
SATISFACTION_DAYS = 365
"""Satisfaction is averaged over the scores of this many days up to now."""
DETAIL_LIMIT = 200
"""Longest list a unit's detail shows (open incidents, people): the count says the rest."""


class _Unset:
    """'Not given' for optional edits, where None means 'clear the value'."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class UnitRow:
    """One unit in the tree, with its figures. `depth` 0 is a top-level unit (a sector)."""

    id: int
    code: str
    name: str
    kind: str
    parent: str | None
    parent_id: int | None
    depth: int
    cost_centre: str | None
    customer_manager: str | None  # username
    customer_manager_name: str | None
    people: int
    subscriptions: int
    agreements: int
    open_incidents: int
    satisfaction: float | None
    satisfaction_count: int
    active: bool

    @property
    def flagged(self) -> bool:
        """Satisfaction under 4: the customer manager should look."""
        return self.satisfaction is not None and self.satisfaction < SATISFACTION_FLAG

    def as_dict(self) -> dict[str, Any]:
        """The `pob unit list` row (the JSON keys are a contract)."""
        return {"code": self.code, "name": self.name, "kind": self.kind, "parent": self.parent,
                "cost_centre": self.cost_centre, "customer_manager": self.customer_manager,
                "people": self.people, "active": self.active}


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str
    kind: str
    active: bool


@dataclass(frozen=True)
class UnitAgreement:
    name: str
    calendar: str
    services: int


@dataclass(frozen=True)
class UnitSubscription:
    service: str  # code
    service_name: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class UnitIncident:
    number: str
    summary: str
    status: str
    priority: int
    caller: str  # username
    caller_name: str
    opened_at: datetime


@dataclass(frozen=True)
class UnitPerson:
    username: str
    name: str
    phone: str | None
    email: str | None
    vip: bool


@dataclass(frozen=True)
class UnitDetail:
    unit: UnitRow
    children: list[UnitRef]
    agreements: list[UnitAgreement]
    subscriptions: list[UnitSubscription]
    open_incidents: list[UnitIncident]
    people: list[UnitPerson]
    path: list[UnitRef] = field(default_factory=list)  # sector ... parent

    def as_dict(self) -> dict[str, Any]:
        """The `pob unit show` object: the list row plus the lists (JSON keys a contract)."""
        return {
            **self.unit.as_dict(),
            "children": [{"code": c.code, "name": c.name, "active": c.active}
                         for c in self.children],
            "agreements": [{"name": a.name, "calendar": a.calendar, "services": a.services}
                           for a in self.agreements],
            "subscriptions": [{"service": s.service, "name": s.service_name,
                               "valid_from": s.valid_from, "valid_to": s.valid_to}
                              for s in self.subscriptions],
            "open_incidents": [{"number": i.number, "summary": i.summary, "status": i.status,
                                "priority": i.priority, "caller": i.caller,
                                "opened_at": i.opened_at} for i in self.open_incidents],
            "satisfaction": (None if self.unit.satisfaction is None
                             else round(self.unit.satisfaction, 2)),
        }


@dataclass(frozen=True)
class UnitChange:
    """What an edit did: the unit afterwards and (field, old, new) per changed field."""

    unit: UnitRow
    changes: list[tuple[str, Any, Any]]


# --------------------------------------------------------------------------- the tree

def _grouped(session: Session, stmt: Any) -> dict[int, int]:
    return {k: int(v) for k, v in session.execute(stmt) if k is not None}


def list_units(session: Session, *, now: datetime, include_inactive: bool = True,
               ) -> list[UnitRow]:
    """Every unit in tree order (each sector followed by its units, by name)."""
    units = session.execute(
        select(col(OrgUnit.id), col(OrgUnit.code), col(OrgUnit.name), col(OrgUnit.kind),
               col(OrgUnit.parent_id),
               col(OrgUnit.cost_centre), col(OrgUnit.customer_manager_id), col(OrgUnit.active))
    ).all()
    by_id = {u.id: u for u in units}
    managers = {pid: (user, f"{first} {last}") for pid, user, first, last in session.execute(
        select(col(Person.id), col(Person.username), col(Person.first_name), col(Person.last_name))
        .where(col(Person.id).in_({u.customer_manager_id for u in units
                              if u.customer_manager_id is not None})))}
    today = now.date()
    people = _grouped(session, select(col(Person.org_unit_id), func.count())
                      .where(col(Person.active)).group_by(col(Person.org_unit_id)))
    subs = _grouped(session, select(col(Subscription.org_unit_id), func.count())
                    .where(col(Subscription.org_unit_id).is_not(None),
                           col(Subscription.valid_from) <= today,
                           (col(Subscription.valid_to).is_(None))
                           | (col(Subscription.valid_to) >= today))
                    .group_by(col(Subscription.org_unit_id)))
    agreements = _grouped(session, select(col(Agreement.customer_id), func.count())
                          .group_by(col(Agreement.customer_id)))
    open_inc = _grouped(session, select(col(Person.org_unit_id), func.count())
                        .select_from(Incident).join(Person, col(Person.id) == Incident.caller_id)
                        .where(col(Incident.status).in_(OPEN_STATUSES))
                        .group_by(col(Person.org_unit_id)))
    since = now - timedelta(days=SATISFACTION_DAYS)
    sat = {k: (int(total or 0), int(n)) for k, total, n in session.execute(
        select(col(Person.org_unit_id), func.sum(col(Incident.satisfaction)), func.count())
        .select_from(Incident).join(Person, col(Person.id) == Incident.caller_id)
        .where(col(Incident.satisfaction).is_not(None), col(Incident.satisfaction_at) >= since)
        .group_by(col(Person.org_unit_id))) if k is not None}

    children: dict[int | None, list[int]] = {}
    for u in units:
        parent = u.parent_id if u.parent_id in by_id else None
        children.setdefault(parent, []).append(u.id)
    for ids in children.values():
        ids.sort(key=lambda i: (by_id[i].name.lower(), by_id[i].code))

    rows: list[UnitRow] = []
    seen: set[int] = set()

    def walk(uid: int, depth: int) -> tuple[int, int, int, int]:
        """Add the unit and its subtree; return its rolled-up people, open incidents and
        satisfaction (sum, count)."""
        seen.add(uid)
        u = by_id[uid]
        index = len(rows)
        rows.append(None)  # type: ignore[arg-type]  # placeholder: figures come after children
        n_people, n_open = people.get(uid, 0), open_inc.get(uid, 0)
        s_sum, s_n = sat.get(uid, (0, 0))
        for child in children.get(uid, []):
            if child in seen:  # a loop in the data (refused on edit, but be safe)
                continue
            cp, co, cs, cn = walk(child, depth + 1)
            n_people, n_open, s_sum, s_n = n_people + cp, n_open + co, s_sum + cs, s_n + cn
        manager = managers.get(u.customer_manager_id) if u.customer_manager_id else None
        parent = by_id.get(u.parent_id) if u.parent_id is not None else None
        rows[index] = UnitRow(
            id=u.id, code=u.code, name=u.name, kind=u.kind,
            parent=parent.code if parent else None, parent_id=u.parent_id, depth=depth,
            cost_centre=u.cost_centre, customer_manager=manager[0] if manager else None,
            customer_manager_name=manager[1] if manager else None, people=n_people,
            subscriptions=subs.get(uid, 0), agreements=agreements.get(uid, 0),
            open_incidents=n_open, satisfaction=(s_sum / s_n) if s_n else None,
            satisfaction_count=s_n, active=bool(u.active))
        return n_people, n_open, s_sum, s_n

    for root in children.get(None, []):
        walk(root, 0)
    for uid in sorted(set(by_id) - seen, key=lambda i: by_id[i].code):  # units in a loop
        walk(uid, 0)
    if not include_inactive:
        rows = [r for r in rows if r.active]
    return rows


def find_unit(session: Session, code: str) -> OrgUnit:
    """A unit by code (exact), else by name (case-insensitive, when only one has it)."""
    code = (code or "").strip()
    unit: OrgUnit | None = session.execute(
        select(OrgUnit).where(col(OrgUnit.code) == code)).scalars().first()
    if unit is None:
        found = session.execute(select(OrgUnit).where(
            func.lower(col(OrgUnit.name)) == code.lower())).scalars().all()
        if len(found) == 1:
            unit = found[0]
    if unit is None:
        raise NotFound(_("unknown org unit {code}").format(code=repr(code)))
    return unit


def subtree_ids(session: Session, unit_id: int) -> list[int]:
    """The unit and every unit below it (one recursive query; stops at loops)."""
    tree = (select(col(OrgUnit.id).label("id"), literal(0).label("depth"))
            .where(col(OrgUnit.id) == unit_id).cte("tree", recursive=True))
    tree = tree.union(select(col(OrgUnit.id), tree.c.depth + 1)
                      .join(tree, col(OrgUnit.parent_id) == tree.c.id)
                      .where(tree.c.depth < 100))
    return sorted({int(i) for i in session.execute(select(tree.c.id)).scalars()})


def _ancestors(session: Session, unit_id: int) -> list[tuple[int, str]]:
    """(id, code) of the unit and the units above it, nearest first (stops at loops)."""
    chain = (select(col(OrgUnit.id).label("id"), col(OrgUnit.parent_id).label("parent_id"),
                    col(OrgUnit.code).label("code"), literal(0).label("depth"))
             .where(col(OrgUnit.id) == unit_id).cte("chain", recursive=True))
    chain = chain.union_all(
        select(col(OrgUnit.id), col(OrgUnit.parent_id), col(OrgUnit.code), chain.c.depth + 1)
        .join(chain, col(OrgUnit.id) == chain.c.parent_id).where(chain.c.depth < 100))
    out: list[tuple[int, str]] = []
    for uid, code in session.execute(select(chain.c.id, chain.c.code).order_by(chain.c.depth)):
        if any(uid == seen for seen, _c in out):
            break
        out.append((int(uid), str(code)))
    return out


def unit_detail(session: Session, code: str, *, now: datetime) -> UnitDetail:
    """One unit: its row (figures rolled up), children, agreements, subscriptions, open
    incidents (newest first) and people (first DETAIL_LIMIT, by name)."""
    unit = find_unit(session, code)
    assert unit.id is not None
    rows = {r.id: r for r in list_units(session, now=now)}
    row = rows[unit.id]
    ids = subtree_ids(session, unit.id)
    children = [UnitRef(r.code, r.name, r.kind, r.active) for r in rows.values()
                if r.parent_id == unit.id]
    path = [UnitRef(rows[i].code, rows[i].name, rows[i].kind, rows[i].active)
            for i, _c in reversed(_ancestors(session, unit.id)[1:]) if i in rows]
    n_services = (select(func.count()).select_from(AgreementService)
                  .where(col(AgreementService.agreement_id) == Agreement.id).scalar_subquery())
    from pob_tui.models import Calendar

    agreements = [UnitAgreement(n, c, int(s or 0)) for n, c, s in session.execute(
        select(col(Agreement.name), col(Calendar.name), n_services)
        .join(Calendar, col(Calendar.id) == Agreement.calendar_id)
        .where(col(Agreement.customer_id) == unit.id).order_by(col(Agreement.name)))]
    today = now.date()
    subscriptions = [UnitSubscription(c, n, f, t) for c, n, f, t in session.execute(
        select(col(Service.code), col(Service.name), col(Subscription.valid_from),
               col(Subscription.valid_to))
        .join(Service, col(Service.id) == Subscription.service_id)
        .where(col(Subscription.org_unit_id) == unit.id,
               (col(Subscription.valid_to).is_(None)) | (col(Subscription.valid_to) >= today))
        .order_by(col(Service.code)))]
    incidents = [UnitIncident(n, s, st, p, u, f"{fn} {ln}", at) for n, s, st, p, u, fn, ln, at
                 in session.execute(
        select(col(Incident.number), col(Incident.summary), col(Incident.status),
               col(Incident.priority), col(Person.username), col(Person.first_name),
               col(Person.last_name), col(Incident.opened_at))
        .join(Person, col(Person.id) == Incident.caller_id)
        .where(col(Person.org_unit_id).in_(ids), col(Incident.status).in_(OPEN_STATUSES))
        .order_by(col(Incident.opened_at).desc()).limit(DETAIL_LIMIT))]
    people = [UnitPerson(u, f"{fn} {ln}", ph, em, bool(v)) for u, fn, ln, ph, em, v in
              session.execute(
        select(col(Person.username), col(Person.first_name), col(Person.last_name),
               col(Person.phone),
               col(Person.email), col(Person.vip))
        .where(col(Person.org_unit_id) == unit.id, col(Person.active))
        .order_by(col(Person.last_name), col(Person.first_name),
                  col(Person.id)).limit(DETAIL_LIMIT))]
    return UnitDetail(row, children, agreements, subscriptions, incidents, people, path)


# --------------------------------------------------------------------------- edits

def _person_id(session: Session, username: str) -> int:
    pid = session.execute(select(col(Person.id))
                          .where(col(Person.username) == username.strip())).scalar()
    if pid is None:
        raise NotFound(_("unknown person {username}").format(username=repr(username)))
    return int(pid)


def managed_unit_ids(session: Session, actor: Actor) -> set[int]:
    """The units the actor is customer manager of, with every unit below them."""
    if actor.agent_id is None or "customer_manager" not in actor.roles:
        return set()
    person_id = session.execute(select(col(Agent.person_id))
                                .where(col(Agent.id) == actor.agent_id)).scalar()
    out: set[int] = set()
    for uid in session.execute(select(col(OrgUnit.id)).where(
            col(OrgUnit.customer_manager_id) == person_id)).scalars():
        out.update(subtree_ids(session, uid))
    return out


def _describe(changes: Iterable[tuple[str, Any, Any]]) -> str:
    return "; ".join(f"{f}: {old!r} -> {new!r}" for f, old, new in changes)


def update_unit(session: Session, actor: Actor, code: str, *, now: datetime,
                name: Any = UNSET, parent: Any = UNSET, cost_centre: Any = UNSET,
                customer_manager: Any = UNSET, active: Any = UNSET) -> UnitChange:
    """Change a unit (administrators). `parent`/`customer_manager` are a code/username or
    None to clear; UNSET leaves a field alone. One transaction; audited."""
    require(session, actor, "org.admin", target=f"unit {code}")
    unit = session.execute(select(OrgUnit).where(col(OrgUnit.code) == code.strip())
                           .with_for_update()).scalars().first()
    if unit is None:
        raise NotFound(_("unknown org unit {code}").format(code=repr(code)))
    assert unit.id is not None
    changes: list[tuple[str, Any, Any]] = []
    if name is not UNSET:
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput(_("--name: give 1 to 200 characters"))
        if name != unit.name:
            changes.append(("name", unit.name, name))
            unit.name = name
    if parent is not UNSET:
        parent_id = None
        parent_code = None
        if parent not in (None, ""):
            target = session.execute(select(col(OrgUnit.id), col(OrgUnit.code)).where(
                col(OrgUnit.code) == str(parent).strip())).first()
            if target is None:
                raise NotFound(_("unknown org unit {code} (--parent)").format(code=repr(parent)))
            parent_id, parent_code = int(target[0]), str(target[1])
        if parent_id != unit.parent_id:
            check_no_cycle(session, unit.id, parent_id)
            old = session.execute(select(col(OrgUnit.code)).where(
                col(OrgUnit.id) == unit.parent_id)).scalar() if unit.parent_id else None
            changes.append(("parent", old, parent_code))
            unit.parent_id = parent_id
    if cost_centre is not UNSET:
        value = (cost_centre or "").strip() or None
        if value is not None and len(value) > 32:
            raise InvalidInput(_("--cost-centre: at most 32 characters"))
        if value != unit.cost_centre:
            changes.append(("cost_centre", unit.cost_centre, value))
            unit.cost_centre = value
    if customer_manager is not UNSET:
        pid = _person_id(session, customer_manager) if customer_manager else None
        if pid != unit.customer_manager_id:
            old = session.execute(select(col(Person.username)).where(
                col(Person.id) == unit.customer_manager_id)).scalar() \
                if unit.customer_manager_id else None
            changes.append(("customer_manager", old, customer_manager or None))
            unit.customer_manager_id = pid
    if active is not UNSET and bool(active) != bool(unit.active):
        changes.append(("active", bool(unit.active), bool(active)))
        unit.active = bool(active)
    if changes:
        session.add(unit)
        record_admin_event(session, actor=actor.username, action="unit.update",
                           target=unit.code, detail=_describe(changes))
        session.flush()
        if any(f == "parent" for f, _o, _n in changes):
            from pob_tui.services import sla

            sla.invalidate()  # the agreement lookup walks the tree
    row = next(r for r in list_units(session, now=now) if r.id == unit.id)
    return UnitChange(row, changes)


# --------------------------------------------------------------------------- the palette

@dataclass(frozen=True)
class OrgHit:
    """A unit, person or agreement whose name matched the palette's query."""

    kind: str  # unit | person | agreement
    key: str  # unit code, username or agreement name
    label: str
    detail: str


def find_org(session: Session, query: str, *, limit: int = 5) -> list[OrgHit]:
    """Units, people and agreements matching every word of `query` (by name; units and
    people also by code/username), at most `limit` of each. Three small indexed queries."""
    from pob_tui.services.people import _like

    words = [w for w in (query or "").lower().split() if w]
    if not words or len("".join(words)) < 2:
        return []
    hits: list[OrgHit] = []
    unit_q = select(col(OrgUnit.code), col(OrgUnit.name), col(OrgUnit.kind))
    for w in words:
        p = _like(w)
        unit_q = unit_q.where(func.lower(col(OrgUnit.name)).like(p, escape="\\")
                              | func.lower(col(OrgUnit.code)).like(p, escape="\\"))
    for code, name, kind in session.execute(unit_q.order_by(col(OrgUnit.name)).limit(limit)):
        hits.append(OrgHit("unit", code, name, f"{kind} {code}"))
    person_q = (select(col(Person.username), col(Person.first_name), col(Person.last_name),
                       col(OrgUnit.name))
                .outerjoin(OrgUnit, col(OrgUnit.id) == Person.org_unit_id))
    for w in words:
        person_q = person_q.where(col(Person.search).like(_like(w), escape="\\"))
    for username, first, last, unit in session.execute(
            person_q.order_by(col(Person.last_name), col(Person.first_name),
                              col(Person.id)).limit(limit)):
        hits.append(OrgHit("person", username, f"{first} {last}",
                           f"{username} · {unit}" if unit else username))
    agreement_q = select(col(Agreement.name))
    for w in words:
        agreement_q = agreement_q.where(func.lower(col(Agreement.name)).like(_like(w), escape="\\"))
    for (name,) in session.execute(agreement_q.order_by(col(Agreement.name)).limit(limit)):
        hits.append(OrgHit("agreement", name, name, ""))
    return hits
