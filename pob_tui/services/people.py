"""People: the paged, filtered list, a person's card, and edits of their contact fields.

The list is paged and filtered in SQL (12,000 people in the municipality demo): every word
of the filter must match the person's `search` column (name, username, phone, e-mail,
lowercased; trigram-indexed on PostgreSQL) or their unit's name or code.

Who may edit: administrators every field; customer managers the contact fields (phone,
e-mail, location) of people in their own units. When directory sync is configured, the
fields the directory owns are shown as such and refused here (change them in the
directory). The directory and the `language` column come from other parts of pob; the
small adapter below is the one place that knows whether they are there yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _, ngettext
from pob_tui.models import (
    ConfigItem,
    Incident,
    Location,
    OrgUnit,
    Person,
    Service,
    Subscription,
)
from pob_tui.models.directory import DIRECTORY_OWNED_FIELDS, PersonUnitHistory
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import allowed, require
from pob_tui.services.units import UNSET, _ancestors, managed_unit_ids, subtree_ids

PAGE_SIZE = 200
CONTACT_FIELDS = frozenset({"phone", "email", "location"})
"""What a customer manager may change for the people in their own units."""
CARD_INCIDENTS = 50
LANGUAGES = ("nb", "en")
"""What person.language may hold (the languages pob writes mail in)."""


# Person fields only the directory may change, named as pob's edits name them (the model
# columns org_unit_id/location_id are the fields org_unit/location).
_OWNED_FIELDS = frozenset(f.removesuffix("_id") if f in ("org_unit_id", "location_id") else f
                          for f in DIRECTORY_OWNED_FIELDS)


def directory_owned(settings: Settings, from_directory: bool) -> frozenset[str]:
    """The fields of a person that only the directory may change (empty when no sync is
    configured or the person did not come from the directory)."""
    if not from_directory or not settings.directory_configured:
        return frozenset()
    return _OWNED_FIELDS


def _from_directory(person: Person) -> bool:
    """Whether the directory keeps this person (a sync set their directory id)."""
    return person.directory_id is not None


# --------------------------------------------------------------------------- read models

@dataclass(frozen=True)
class PersonRow:
    id: int
    username: str
    name: str
    org_unit: str | None  # code
    org_unit_name: str | None
    location: str | None  # code
    location_name: str | None
    phone: str | None
    email: str | None
    vip: bool
    active: bool

    def as_dict(self) -> dict[str, Any]:
        """The `pob person list` row (the JSON keys are a contract)."""
        return {"username": self.username, "name": self.name, "org_unit": self.org_unit,
                "location": self.location, "phone": self.phone, "email": self.email,
                "vip": self.vip, "active": self.active}


@dataclass(frozen=True)
class PeoplePage:
    rows: list[PersonRow]
    offset: int
    has_more: bool


@dataclass(frozen=True)
class UnitSpell:
    """A dated stay in a unit (from the directory's history); None: open-ended."""

    org_unit: str | None
    org_unit_name: str | None
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class CardDevice:
    name: str
    ci_class: str
    status: str


@dataclass(frozen=True)
class CardSubscription:
    service: str
    service_name: str
    via: str | None  # unit code when through the unit, None when personal
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class CardIncident:
    number: str
    summary: str
    status: str
    priority: int
    opened_at: datetime
    open: bool


@dataclass(frozen=True)
class PersonCard:
    person: PersonRow
    title: str | None
    language: str | None
    unit_path: list[str]  # names, sector first
    history: list[UnitSpell]
    devices: list[CardDevice]
    subscriptions: list[CardSubscription]
    incidents: list[CardIncident]  # open first, then newest
    open_incidents: int
    owned_fields: frozenset[str]  # kept by the directory: shown as such, not editable
    directory_id: str | None

    def as_dict(self) -> dict[str, Any]:
        """The `pob person show` object (the JSON keys are a contract)."""
        return {
            **self.person.as_dict(),
            "language": self.language,
            "devices": [{"name": d.name, "class": d.ci_class, "status": d.status}
                        for d in self.devices],
            "subscriptions": [{"service": s.service, "name": s.service_name, "via": s.via,
                               "valid_from": s.valid_from, "valid_to": s.valid_to}
                              for s in self.subscriptions],
            "open_incidents": [{"number": i.number, "summary": i.summary, "status": i.status,
                                "priority": i.priority, "opened_at": i.opened_at}
                               for i in self.incidents if i.open],
        }


@dataclass(frozen=True)
class PersonChange:
    person: PersonRow
    changes: list[tuple[str, Any, Any]]


# --------------------------------------------------------------------------- queries

def _row_select() -> Any:
    return (select(col(Person.id), col(Person.username), col(Person.first_name),
                   col(Person.last_name),
                   col(OrgUnit.code), col(OrgUnit.name), col(Location.code), col(Location.name),
                   col(Person.phone),
                   col(Person.email), col(Person.vip), col(Person.active))
            .outerjoin(OrgUnit, col(OrgUnit.id) == Person.org_unit_id)
            .outerjoin(Location, col(Location.id) == Person.location_id))


def _row(r: Any) -> PersonRow:
    return PersonRow(id=r[0], username=r[1], name=f"{r[2]} {r[3]}", org_unit=r[4],
                     org_unit_name=r[5], location=r[6], location_name=r[7], phone=r[8],
                     email=r[9], vip=bool(r[10]), active=bool(r[11]))


def _like(text: str) -> str:
    """A LIKE pattern for `text` with its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_people(session: Session, *, search: str | None = None, unit: str | None = None,
                limit: int = PAGE_SIZE, offset: int = 0, include_inactive: bool = True,
                ) -> PeoplePage:
    """One page of people by last and first name. `search`: every word must match the
    name, username, phone, e-mail or unit; `unit`: a unit code (the units below it too)."""
    if limit < 1:
        raise InvalidInput(_("--limit must be at least 1"))
    stmt = _row_select()
    for word in (search or "").lower().split():
        pattern = _like(word)
        stmt = stmt.where(or_(col(Person.search).like(pattern, escape="\\"),
                              func.lower(col(OrgUnit.name)).like(pattern, escape="\\"),
                              func.lower(col(OrgUnit.code)).like(pattern, escape="\\")))
    if unit:
        from pob_tui.services.units import find_unit

        found = find_unit(session, unit)
        assert found.id is not None
        stmt = stmt.where(col(Person.org_unit_id).in_(subtree_ids(session, found.id)))
    if not include_inactive:
        stmt = stmt.where(col(Person.active))
    stmt = stmt.order_by(col(Person.last_name), col(Person.first_name), col(Person.id))
    rows = [_row(r) for r in session.execute(stmt.offset(offset).limit(limit + 1))]
    return PeoplePage(rows[:limit], offset, len(rows) > limit)


def _person(session: Session, username: str) -> Person:
    person: Person | None = session.execute(
        select(Person).where(col(Person.username) == (username or "").strip())
    ).scalars().first()
    if person is None:
        raise NotFound(_("unknown person {username}").format(username=repr(username)))
    return person


def person_card(session: Session, settings: Settings, username: str, *, now: datetime,
                ) -> PersonCard:
    """Everything an agent on the phone wants about a caller, in a handful of queries."""
    person = _person(session, username)
    assert person.id is not None
    row = _row(session.execute(_row_select().where(col(Person.id) == person.id)).one())
    path: list[str] = []
    chain_ids: list[int] = []
    if person.org_unit_id is not None:
        chain = _ancestors(session, person.org_unit_id)
        chain_ids = [i for i, _c in chain]
        names = dict(session.execute(select(col(OrgUnit.id), col(OrgUnit.name))
                                     .where(col(OrgUnit.id).in_(chain_ids))).all())
        path = [names[i] for i in reversed(chain_ids)]
    history: list[UnitSpell] = []
    h = PersonUnitHistory
    history = [UnitSpell(c, n, f, t) for c, n, f, t in session.execute(
        select(col(OrgUnit.code), col(OrgUnit.name), col(h.valid_from), col(h.valid_to))
        .select_from(h).outerjoin(OrgUnit, col(OrgUnit.id) == h.org_unit_id)
        .where(col(h.person_id) == person.id)
        .order_by(col(h.valid_from).desc().nulls_last(), col(h.id).desc()))]
    devices = [CardDevice(n, c, s) for n, c, s in session.execute(
        select(col(ConfigItem.name), col(ConfigItem.ci_class), col(ConfigItem.status))
        .where(col(ConfigItem.person_id) == person.id).order_by(col(ConfigItem.name)))]
    today = now.date()
    codes = dict(session.execute(select(col(OrgUnit.id), col(OrgUnit.code))
                                 .where(col(OrgUnit.id).in_(chain_ids))).all()) if chain_ids else {}
    holder = col(Subscription.person_id) == person.id
    if chain_ids:
        holder = or_(holder, col(Subscription.org_unit_id).in_(chain_ids))
    subscriptions = [CardSubscription(c, n, codes.get(u) if u else None, f, t)
                     for c, n, u, f, t in session.execute(
        select(col(Service.code), col(Service.name), col(Subscription.org_unit_id),
               col(Subscription.valid_from),
               col(Subscription.valid_to))
        .join(Service, col(Service.id) == Subscription.service_id)
        .where(holder, col(Subscription.valid_from) <= today,
               (col(Subscription.valid_to).is_(None)) | (col(Subscription.valid_to) >= today))
        .order_by(col(Service.code)))]
    is_open = col(Incident.status).in_(OPEN_STATUSES)
    incidents = [CardIncident(n, s, st, p, at, st in OPEN_STATUSES) for n, s, st, p, at in
                 session.execute(
        select(col(Incident.number), col(Incident.summary), col(Incident.status),
               col(Incident.priority),
               col(Incident.opened_at))
        .where(col(Incident.caller_id) == person.id)
        .order_by(case((is_open, 0), else_=1), col(Incident.opened_at).desc())
        .limit(CARD_INCIDENTS))]
    open_count = int(session.execute(select(func.count()).select_from(Incident).where(
        col(Incident.caller_id) == person.id, is_open)).scalar() or 0)
    directory_id = person.directory_id
    return PersonCard(
        person=row, title=person.title, language=person.language,
        unit_path=path, history=history, devices=devices, subscriptions=subscriptions,
        incidents=incidents, open_incidents=open_count,
        owned_fields=directory_owned(settings, _from_directory(person)),
        directory_id=directory_id)


# --------------------------------------------------------------------------- edits

def may_edit(session: Session, actor: Actor, username: str) -> frozenset[str]:
    """The fields `actor` may change on this person (ignoring the directory)."""
    if allowed(actor, "org.admin"):
        return frozenset({"phone", "email", "location", "vip", "language", "active"})
    if not allowed(actor, "org.contact"):
        return frozenset()
    unit_id = session.execute(select(col(Person.org_unit_id))
                              .where(col(Person.username) == username)).scalar()
    return CONTACT_FIELDS if unit_id in managed_unit_ids(session, actor) else frozenset()


def _clean(value: Any, max_len: int, flag: str) -> str | None:
    text = (value or "").strip() or None
    if text is not None and len(text) > max_len:
        raise InvalidInput(_("{flag}: at most {limit} characters").format(flag=flag,
                                                                           limit=max_len))
    return text


def update_person(session: Session, actor: Actor, settings: Settings, username: str, *,
                  phone: Any = UNSET, email: Any = UNSET, location: Any = UNSET,
                  vip: Any = UNSET, language: Any = UNSET, active: Any = UNSET,
                  ) -> PersonChange:
    """Change a person. Administrators: every field; customer managers: contact fields of
    their units' people; directory-owned fields are refused while sync is configured.
    Checked first, then written in one transaction and audited."""
    wanted = {k for k, v in (("phone", phone), ("email", email), ("location", location),
                             ("vip", vip), ("language", language), ("active", active))
              if v is not UNSET}
    admin = allowed(actor, "org.admin")
    if not admin:
        # Everything beyond contact fields needs an administrator; the refusal is audited.
        require(session, actor, "org.admin" if wanted - CONTACT_FIELDS else "org.contact",
                target=f"person {username}")
    person = session.execute(select(Person).where(col(Person.username) == (username or "").strip())
                             .with_for_update()).scalars().first()
    if person is None:
        raise NotFound(_("unknown person {username}").format(username=repr(username)))
    if not admin and wanted and not wanted <= may_edit(session, actor, person.username):
        require(session, actor, "org.admin", target=f"person {username} (not in your units)")
    owned = directory_owned(settings, _from_directory(person))
    blocked = sorted(wanted & owned)
    if blocked:
        raise InvalidInput(ngettext(
            "{fields} of {username} is kept in the directory; change it there",
            "{fields} of {username} are kept in the directory; change it there",
            len(blocked)).format(fields=", ".join(blocked), username=person.username))
    changes: list[tuple[str, Any, Any]] = []
    if phone is not UNSET:
        value = _clean(phone, 32, "--phone")
        if value != person.phone:
            changes.append(("phone", person.phone, value))
            person.phone = value
    if email is not UNSET:
        value = _clean(email, 200, "--email")
        if value is not None and ("@" not in value or " " in value):
            raise InvalidInput(_("--email: {value} is not an e-mail address").format(
                value=repr(value)))
        if value != person.email:
            changes.append(("email", person.email, value))
            person.email = value
    if location is not UNSET:
        code = _clean(location, 32, "--location")
        loc_id = None
        if code is not None:
            loc_id = session.execute(select(col(Location.id))
                                     .where(col(Location.code) == code)).scalar()
            if loc_id is None:
                raise NotFound(_("unknown location {code} (--location)").format(code=repr(code)))
        if loc_id != person.location_id:
            old = session.execute(select(col(Location.code)).where(
                col(Location.id) == person.location_id)).scalar() if person.location_id else None
            changes.append(("location", old, code))
            person.location_id = loc_id
    if vip is not UNSET and bool(vip) != bool(person.vip):
        changes.append(("vip", bool(person.vip), bool(vip)))
        person.vip = bool(vip)
    if language is not UNSET:
        value = _clean(language, 8, "--language")
        if value not in LANGUAGES:
            raise InvalidInput(_("--language: {value}; expected one of {choices}").format(
                value=repr(value), choices=", ".join(LANGUAGES)))
        if value != person.language:
            changes.append(("language", person.language, value))
            person.language = value
    if active is not UNSET and bool(active) != bool(person.active):
        changes.append(("active", bool(person.active), bool(active)))
        person.active = bool(active)
    if changes:
        person.search = (f"{person.first_name} {person.last_name} {person.username} "
                         f"{person.phone or ''} {person.email or ''}").lower()[:400]
        session.add(person)
        record_admin_event(session, actor=actor.username, action="person.update",
                           target=person.username,
                           detail="; ".join(f"{f}: {o!r} -> {n!r}" for f, o, n in changes))
        session.flush()
    assert person.id is not None
    row = _row(session.execute(_row_select().where(col(Person.id) == person.id)).one())
    return PersonChange(row, changes)
