"""Configuration items: the paged list, one CI's detail, and editing CIs and relations.

Lists are filtered and paged in SQL (ordered by name through `ix_config_item_*_name`).
Every write is one transaction, is audited as a `TicketEvent(ticket_type="ci")` and needs
`cmdb.edit` (second line, change managers, administrators); reading needs no role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.errors import ConflictError, InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import (
    Agent,
    ChangeCi,
    ChangeRequest,
    CiRelation,
    ConfigItem,
    Incident,
    Location,
    Person,
    Problem,
    Service,
    ServiceCi,
    Team,
    TicketEvent,
    utcnow,
)
from pob_tui.models.cmdb import CI_CLASSES, CI_STATUSES, RELATION_KINDS
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require

OPEN_PROBLEM_STATUSES = ("new", "investigating", "known_error")
LIVE_STATUSES = ("planned", "in_use")


@dataclass(frozen=True)
class CiRow:
    """One CI as lists show it (`pob ci list` rows: a contract)."""

    id: int
    name: str
    ci_class: str
    status: str
    location: str | None  # location code
    owner_team: str | None  # team code
    person: str | None  # username
    serial: str | None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "class": self.ci_class, "status": self.status,
                "location": self.location, "owner_team": self.owner_team,
                "person": self.person, "serial": self.serial}


@dataclass(frozen=True)
class Neighbour:
    """A relation seen from one CI: `out` = this CI depends on / runs on / connects to
    `ci`; `in` = `ci` does so on this one."""

    kind: str
    direction: str  # out | in
    ci: str
    ci_class: str
    status: str


@dataclass(frozen=True)
class TicketLine:
    number: str
    status: str
    summary: str
    at: datetime | None = None


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str | None
    kind: str
    field: str | None
    old: str | None
    new: str | None
    comment: str | None


@dataclass
class CiDetail:
    row: CiRow
    description: str | None
    location_name: str | None
    owner_team_name: str | None
    person_name: str | None
    relations: list[Neighbour] = field(default_factory=list)
    services: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    open_incidents: list[TicketLine] = field(default_factory=list)
    open_problems: list[TicketLine] = field(default_factory=list)
    changes: list[TicketLine] = field(default_factory=list)
    history: list[HistoryLine] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """`pob ci show --format json` (a contract)."""
        return {**self.row.as_json(),
                "relations": [{"kind": n.kind, "direction": n.direction, "ci": n.ci}
                              for n in self.relations],
                "services": [code for code, _name in self.services],
                "open_incidents": [t.number for t in self.open_incidents],
                "changes": [t.number for t in self.changes]}


# --- reading -------------------------------------------------------------------------------

_Loc = aliased(Location)
_Team = aliased(Team)
_Person = aliased(Person)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row_stmt() -> Any:
    return (select(col(ConfigItem.id), col(ConfigItem.name), col(ConfigItem.ci_class),
                   col(ConfigItem.status), col(_Loc.code), col(_Team.code),
                   col(_Person.username), col(ConfigItem.serial))
            .outerjoin(_Loc, col(_Loc.id) == ConfigItem.location_id)
            .outerjoin(_Team, col(_Team.id) == ConfigItem.owner_team_id)
            .outerjoin(_Person, col(_Person.id) == ConfigItem.person_id))


def list_cis(session: Session, *, search: str | None = None, ci_class: str | None = None,
             status: str | None = None, location: str | None = None, limit: int = 50,
             offset: int = 0) -> list[CiRow]:
    """One page of CIs by name. `search`: every word must occur in the name, class, serial,
    location (code or name), owner team (code or name) or person's username."""
    conds: list[Any] = []
    if ci_class:
        if ci_class not in CI_CLASSES:
            raise InvalidInput(_("unknown class {value}; expected one of {choices}").format(
                value=repr(ci_class), choices=", ".join(CI_CLASSES)))
        conds.append(col(ConfigItem.ci_class) == ci_class)
    if status:
        if status not in CI_STATUSES:
            raise InvalidInput(_("unknown status {status}; expected one of {choices}").format(
                status=repr(status), choices=", ".join(CI_STATUSES)))
        conds.append(col(ConfigItem.status) == status)
    if location:
        conds.append(col(ConfigItem.location_id) == find_location(session, location).id)
    for token in (search or "").lower().split():
        like = f"%{_escape_like(token)}%"
        # Locations, teams and people matching the word are found once (small subqueries);
        # each CI row then only compares ids, so no join runs per row while filtering.
        conds.append(or_(
            func.lower(col(ConfigItem.name)).like(like, escape="\\"),
            col(ConfigItem.ci_class).like(like, escape="\\"),
            func.lower(col(ConfigItem.serial)).like(like, escape="\\"),
            col(ConfigItem.location_id).in_(select(col(Location.id)).where(or_(
                func.lower(col(Location.code)).like(like, escape="\\"),
                func.lower(col(Location.name)).like(like, escape="\\")))),
            col(ConfigItem.owner_team_id).in_(select(col(Team.id)).where(or_(
                func.lower(col(Team.code)).like(like, escape="\\"),
                func.lower(col(Team.name)).like(like, escape="\\")))),
            col(ConfigItem.person_id).in_(select(col(Person.id)).where(
                col(Person.username).like(like, escape="\\"))),
        ))
    stmt = (_row_stmt().where(and_(*conds) if conds else True)
            .order_by(col(ConfigItem.name), col(ConfigItem.id)).limit(limit).offset(offset))
    return [CiRow(*r) for r in session.execute(stmt)]


def find_location(session: Session, ref: str) -> Location:
    value = ref.strip()
    loc: Location | None = session.execute(select(Location).where(or_(
        func.lower(col(Location.code)) == value.lower(), col(Location.name) == value))
    ).scalars().first()
    if loc is None:
        raise NotFound(_("unknown location {ref}: no location with that code or name").format(
            ref=repr(ref)))
    return loc


def find_ci(session: Session, ref: str | int, *, for_update: bool = False) -> ConfigItem:
    """A CI by id, by its exact name, or else by the name ignoring case when just one CI
    answers to it (an ambiguous name finds none). The one lookup for every caller."""
    ci: ConfigItem | None
    if isinstance(ref, int):
        ci = session.get(ConfigItem, ref, with_for_update=for_update)
    else:
        value = ref.strip()
        stmt = select(ConfigItem).where(col(ConfigItem.name) == value)
        if for_update:
            stmt = stmt.with_for_update()
        ci = session.execute(stmt).scalars().first()
        if ci is None:
            found = session.execute(select(ConfigItem).where(
                func.lower(col(ConfigItem.name)) == value.lower()).limit(2)).scalars().all()
            ci = found[0] if len(found) == 1 else None
            if ci is not None and for_update:
                session.refresh(ci, with_for_update=True)
    if ci is None:
        raise NotFound(_("unknown configuration item {ref}").format(ref=repr(ref)))
    return ci


def neighbours(session: Session, name: str) -> list[Neighbour]:
    """What the CI depends on / runs on / connects to (`out`) and what does so on it (`in`),
    by kind and name: one level of the relations tree."""
    ci = find_ci(session, name)
    return _neighbours(session, ci.id)


def _neighbours(session: Session, ci_id: int | None) -> list[Neighbour]:
    other = aliased(ConfigItem)
    out = [Neighbour(kind, "out", n, c, st) for kind, n, c, st in session.execute(
        select(col(CiRelation.kind), col(other.name), col(other.ci_class), col(other.status))
        .join(other, col(other.id) == CiRelation.target_id)
        .where(col(CiRelation.source_id) == ci_id).order_by(col(CiRelation.kind), col(other.name)))]
    ins = [Neighbour(kind, "in", n, c, st) for kind, n, c, st in session.execute(
        select(col(CiRelation.kind), col(other.name), col(other.ci_class), col(other.status))
        .join(other, col(other.id) == CiRelation.source_id)
        .where(col(CiRelation.target_id) == ci_id).order_by(col(CiRelation.kind), col(other.name)))]
    return out + ins


def ci_detail(session: Session, name: str, *, history: int = 50) -> CiDetail:
    """One CI: fields, relations both ways, services, open incidents and problems, its
    changes (planned and past, newest first) and its audit history."""
    ci = find_ci(session, name)
    row = _row(session, ci.id)
    loc = session.get(Location, ci.location_id) if ci.location_id else None
    team = session.get(Team, ci.owner_team_id) if ci.owner_team_id else None
    person = session.get(Person, ci.person_id) if ci.person_id else None
    d = CiDetail(row=row, description=ci.description,
                 location_name=loc.name if loc else None,
                 owner_team_name=team.name if team else None,
                 person_name=f"{person.first_name} {person.last_name}" if person else None)
    d.relations = _neighbours(session, ci.id)
    d.services = [(c, n) for c, n in session.execute(
        select(col(Service.code), col(Service.name)).join(ServiceCi,
                                                          col(ServiceCi.service_id) == Service.id)
        .where(col(ServiceCi.ci_id) == ci.id).order_by(col(Service.code)))]
    d.open_incidents = [TicketLine(*r) for r in session.execute(
        select(col(Incident.number), col(Incident.status), col(Incident.summary),
               col(Incident.opened_at))
        .where(col(Incident.ci_id) == ci.id, col(Incident.status).in_(OPEN_STATUSES))
        .order_by(col(Incident.opened_at).desc()).limit(100))]
    d.open_problems = [TicketLine(*r) for r in session.execute(
        select(col(Problem.number), col(Problem.status), col(Problem.title), col(Problem.opened_at))
        .where(col(Problem.ci_id) == ci.id, col(Problem.status).in_(OPEN_PROBLEM_STATUSES))
        .order_by(col(Problem.number)))]
    d.changes = [TicketLine(*r) for r in session.execute(
        select(col(ChangeRequest.number), col(ChangeRequest.status), col(ChangeRequest.title),
               col(ChangeRequest.planned_start))
        .join(ChangeCi, col(ChangeCi.change_id) == ChangeRequest.id)
        .where(col(ChangeCi.ci_id) == ci.id)
        .order_by(col(ChangeRequest.planned_start).desc(), col(ChangeRequest.number).desc())
        .limit(100))]
    d.history = [HistoryLine(e.at, who, e.kind, e.field, e.old_value, e.new_value, e.comment)
                 for e, who in session.execute(
                     select(TicketEvent, col(Agent.username))
                     .outerjoin(Agent, col(Agent.id) == TicketEvent.actor_id)
                     .where(col(TicketEvent.ticket_type) == "ci",
                            col(TicketEvent.ticket_id) == ci.id)
                     .order_by(col(TicketEvent.at).desc(),
                               col(TicketEvent.id).desc()).limit(history))]
    return d


def _row(session: Session, ci_id: int | None) -> CiRow:
    return CiRow(*session.execute(_row_stmt().where(col(ConfigItem.id) == ci_id)).one())


def live_dependants(session: Session, name: str) -> list[str]:
    """CIs not retired that depend on, run on or connect to this one (names)."""
    ci = find_ci(session, name)
    return sorted({n.ci for n in _neighbours(session, ci.id)
                   if n.direction == "in" and n.status in LIVE_STATUSES})


# --- writing -------------------------------------------------------------------------------

@dataclass
class CiFields:
    """Fields to set; None leaves a field as it is ("" clears an optional one)."""

    ci_class: str | None = None
    status: str | None = None
    location: str | None = None
    owner_team: str | None = None
    person: str | None = None
    serial: str | None = None
    description: str | None = None


def _resolve(session: Session, f: CiFields) -> dict[str, Any]:
    """Validate every field first; the column values to write."""
    from pob_tui.services.incidents import find_person, find_team

    out: dict[str, Any] = {}
    if f.ci_class is not None:
        if f.ci_class not in CI_CLASSES:
            raise InvalidInput(_("unknown class {value}; expected one of {choices}").format(
                value=repr(f.ci_class), choices=", ".join(CI_CLASSES)))
        out["ci_class"] = f.ci_class
    if f.status is not None:
        if f.status not in CI_STATUSES:
            raise InvalidInput(_("unknown status {status}; expected one of {choices}").format(
                status=repr(f.status), choices=", ".join(CI_STATUSES)))
        out["status"] = f.status
    if f.location is not None:
        out["location_id"] = find_location(session, f.location).id if f.location.strip() \
            else None
    if f.owner_team is not None:
        out["owner_team_id"] = find_team(session, f.owner_team).id if f.owner_team.strip() \
            else None
    if f.person is not None:
        out["person_id"] = find_person(session, f.person).id if f.person.strip() else None
    if f.serial is not None:
        serial = f.serial.strip()
        if len(serial) > 64:
            raise InvalidInput(_("serial is {n} characters; at most 64").format(n=len(serial)))
        out["serial"] = serial or None
    if f.description is not None:
        out["description"] = f.description.strip() or None
    return out


def _valid_name(name: str) -> str:
    value = (name or "").strip()
    if not value:
        raise InvalidInput(_("a CI needs a name"))
    if len(value) > 200:
        raise InvalidInput(_("name is {n} characters; at most 200").format(n=len(value)))
    if any(ord(ch) < 32 for ch in value):
        raise InvalidInput(_("a CI name cannot hold control characters"))
    return value


def create_ci(session: Session, actor: Actor, name: str, fields: CiFields, *,
              now: datetime | None = None) -> CiRow:
    agent_id = require(session, actor, "cmdb.edit", name)
    now = now or utcnow()
    value = _valid_name(name)
    if fields.ci_class is None:
        raise InvalidInput(_("a CI needs a class: {choices}").format(choices=", ".join(CI_CLASSES)))
    if session.execute(select(col(ConfigItem.id)).where(
            func.lower(col(ConfigItem.name)) == value.lower())).first():
        raise InvalidInput(_("a CI named {name} exists already").format(name=repr(value)))
    values = _resolve(session, fields)
    values.setdefault("status", "in_use")
    ci = ConfigItem(name=value, **values)
    session.add(ci)
    session.flush()
    assert ci.id is not None
    record_ticket_event(session, ticket_type="ci", ticket_id=ci.id, kind="created",
                        actor_id=agent_id, comment=f"{ci.ci_class}: {value}", at=now)
    return _row(session, ci.id)


def update_ci(session: Session, actor: Actor, name: str, fields: CiFields, *,
              rename: str | None = None, confirm_retire: bool = False,
              now: datetime | None = None) -> CiRow:
    """Change a CI's fields. Retiring a CI that live CIs rest on is refused (ConflictError
    naming them) unless `confirm_retire`."""
    agent_id = require(session, actor, "cmdb.edit", name)
    now = now or utcnow()
    ci = find_ci(session, name, for_update=True)
    assert ci.id is not None
    values = _resolve(session, fields)
    if rename is not None and rename.strip() != ci.name:
        new_name = _valid_name(rename)
        if session.execute(select(col(ConfigItem.id)).where(
                func.lower(col(ConfigItem.name)) == new_name.lower(),
                col(ConfigItem.id) != ci.id)).first():
            raise InvalidInput(_("a CI named {name} exists already").format(name=repr(new_name)))
        values["name"] = new_name
    if values.get("status") == "retired" and ci.status != "retired" and not confirm_retire:
        live = live_dependants(session, ci.name)
        if live:
            shown = ", ".join(live[:10]) + (_(" and {n} more").format(n=len(live) - 10)
                                            if len(live) > 10 else "")
            raise ConflictError(_("{name} has {n} live dependants: {shown}; confirm to retire "
                                  "it anyway").format(name=ci.name, n=len(live), shown=shown))
    for key, value in values.items():
        old = getattr(ci, key)
        if old == value:
            continue
        setattr(ci, key, value)
        record_ticket_event(session, ticket_type="ci", ticket_id=ci.id,
                            kind="status" if key == "status" else "field", actor_id=agent_id,
                            field=key, old=old, new=value, at=now)
    session.flush()
    return _row(session, ci.id)


def _kind(kind: str) -> str:
    value = kind.strip().replace("-", "_").replace(" ", "_")
    if value not in RELATION_KINDS:
        raise InvalidInput(_("unknown relation {kind}; expected one of {choices}").format(
            kind=repr(kind), choices=", ".join(RELATION_KINDS)))
    return value


def relate(session: Session, actor: Actor, source: str, kind: str, target: str, *,
           now: datetime | None = None) -> Neighbour:
    """`source` depends on / runs on / connects to `target`."""
    agent_id = require(session, actor, "cmdb.edit", source)
    now = now or utcnow()
    k = _kind(kind)
    src, dst = find_ci(session, source, for_update=True), find_ci(session, target)
    assert src.id is not None and dst.id is not None
    if src.id == dst.id:
        raise InvalidInput(_("{name} cannot relate to itself").format(name=src.name))
    if session.execute(select(col(CiRelation.id)).where(
            col(CiRelation.source_id) == src.id, col(CiRelation.target_id) == dst.id,
            col(CiRelation.kind) == k)).first():
        raise InvalidInput(_("{source} {kind} {target} is recorded already").format(
            source=src.name, kind=k, target=dst.name))
    session.add(CiRelation(source_id=src.id, target_id=dst.id, kind=k))
    for ci_id, text in ((src.id, f"{k} {dst.name}"), (dst.id, f"{src.name} {k} this")):
        record_ticket_event(session, ticket_type="ci", ticket_id=ci_id, kind="related",
                            actor_id=agent_id, field="relation", new=text, at=now)
    session.flush()
    return Neighbour(k, "out", dst.name, dst.ci_class, dst.status)


def unrelate(session: Session, actor: Actor, source: str, kind: str, target: str, *,
             now: datetime | None = None) -> None:
    agent_id = require(session, actor, "cmdb.edit", source)
    now = now or utcnow()
    k = _kind(kind)
    src, dst = find_ci(session, source, for_update=True), find_ci(session, target)
    rel = session.execute(select(CiRelation).where(
        col(CiRelation.source_id) == src.id, col(CiRelation.target_id) == dst.id,
        col(CiRelation.kind) == k)).scalars().first()
    if rel is None:
        raise NotFound(_("no relation {source} {kind} {target}").format(source=src.name, kind=k,
                                                                         target=dst.name))
    session.delete(rel)
    assert src.id is not None and dst.id is not None
    for ci_id, text in ((src.id, f"{k} {dst.name}"), (dst.id, f"{src.name} {k} this")):
        record_ticket_event(session, ticket_type="ci", ticket_id=ci_id, kind="unrelated",
                            actor_id=agent_id, field="relation", old=text, at=now)
    session.flush()

