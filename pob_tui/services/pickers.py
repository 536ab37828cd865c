"""The searches behind the caller, service and CI pickers: one small query a keystroke.

People carry a lowercased `search` column (name, username, phone, e-mail), so a keystroke is
one LIKE per typed word over 12,000 short strings, with a LIMIT; no ORM objects are built.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, case, func, literal, or_, select, union_all
from sqlmodel import Session, col

from pob_tui.models import (
    ConfigItem,
    Incident,
    Location,
    OrgUnit,
    Person,
    Service,
    Subscription,
)
from pob_tui.models.incident import OPEN_STATUSES


def _escape(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(token: str) -> str:
    return "%" + _escape(token) + "%"


PHONE_CHARS = frozenset("+0123456789 -().")


def phone_forms(text: str, *, region: str = "NO") -> list[str] | None:
    """The digit strings a stored phone number may hold for a typed one (`+47 67 50 00 00`,
    `0047 67500000`, `67 50 00 00` and `67500000` all give the same forms), or None when the
    text is not a possible phone number. `phonenumbers` knows each country's prefixes and
    lengths, which a digit-stripping rule of our own would get wrong abroad."""
    import phonenumbers

    if not text.strip() or not set(text) <= PHONE_CHARS or sum(c.isdigit() for c in text) < 5:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    national = str(number.national_number)
    code = str(number.country_code)
    return [national, code + national, "00" + code + national, "0" + national]


def _digits(column: Any) -> Any:
    """A stored phone number with its usual separators removed, in SQL (both backends)."""
    out = column
    for ch in (" ", "-", "(", ")", ".", "+"):
        out = func.replace(out, ch, "")
    return out


def search_people(session: Session, text: str, *, limit: int = 15,
                  region: str = "NO") -> list[dict[str, Any]]:
    """Active people matching every typed word, in name order; an exact username or phone
    number (however it is written, see `phone_forms`) first. The name-ordered query can walk
    the (last_name, first_name) index and stop at `limit` matches, so a one-letter keystroke
    does not sort thousands of people."""
    tokens = [t for t in text.lower().split() if t]
    if not tokens:
        return []
    exact = " ".join(tokens)
    columns = (col(Person.id), col(Person.username), col(Person.first_name), col(Person.last_name),
               col(Person.phone), col(Person.email), col(Person.vip), col(OrgUnit.name),
               col(Location.name))

    def query(*conds: Any, n: int) -> Select[*tuple[Any, ...]]:
        return (select(*columns)
                .outerjoin(OrgUnit, col(OrgUnit.id) == Person.org_unit_id)
                .outerjoin(Location, col(Location.id) == Person.location_id)
                .where(col(Person.active), *conds)
                .order_by(col(Person.last_name), col(Person.first_name), col(Person.id)).limit(n))

    # usernames are stored lowercase: compare the column as is, so its unique index is used
    exact_hits: list[Any] = [col(Person.username) == exact, col(Person.phone) == text.strip()]
    forms = phone_forms(text, region=region)
    if forms:
        exact_hits.append(_digits(col(Person.phone)).in_(forms))
    first = list(session.execute(query(or_(*exact_hits), n=3)))
    if forms:  # a phone number: people whose number holds the typed digits
        conds = [col(Person.search).like(_like(forms[0]), escape="\\")]
    else:
        conds = [col(Person.search).like(_like(t), escape="\\") for t in tokens]
    rest = session.execute(query(*conds, n=limit))
    seen = {r[0] for r in first}
    rows = first + [r for r in rest if r[0] not in seen]
    return [{"id": r[0], "username": r[1], "name": f"{r[2]} {r[3]}", "phone": r[4],
             "email": r[5], "vip": r[6], "org_unit": r[7], "location": r[8]}
            for r in rows[:limit]]


def caller_context(session: Session, person_id: int, *, recent: int = 5) -> dict[str, Any]:
    """What an agent sees about a caller: unit, site, VIP, open and recent incidents."""
    row = session.execute(
        select(Person, col(OrgUnit.name), col(Location.name))
        .outerjoin(OrgUnit, col(OrgUnit.id) == Person.org_unit_id)
        .outerjoin(Location, col(Location.id) == Person.location_id)
        .where(col(Person.id) == person_id)
    ).first()
    if row is None:
        return {}
    person, unit, location = row
    incidents = session.execute(
        select(col(Incident.number), col(Incident.status), col(Incident.summary),
               col(Incident.opened_at),
               col(Incident.version))
        .where(col(Incident.caller_id) == person_id)
        .order_by(col(Incident.opened_at).desc()).limit(recent + 20)
    ).all()
    open_ = [i for i in incidents if i[1] in OPEN_STATUSES]
    recent_rows = [i for i in incidents if i[1] not in OPEN_STATUSES][:recent]

    def as_dict(i: Any) -> dict[str, Any]:
        return {"number": i[0], "status": i[1], "summary": i[2], "opened_at": i[3],
                "version": i[4]}

    return {
        "id": person.id, "username": person.username, "name": person.name,
        "phone": person.phone, "email": person.email, "vip": person.vip,
        "org_unit": unit, "location": location, "title": person.title,
        "open": [as_dict(i) for i in open_], "recent": [as_dict(i) for i in recent_rows],
    }


def _subscribed_ids(person_id: int, on: date) -> CompoundSelect[*tuple[Any, ...]]:
    """Services the person has access to on `on`: own or through their org unit."""
    unit = select(col(Person.org_unit_id)).where(col(Person.id) == person_id).scalar_subquery()
    active = and_(col(Subscription.valid_from) <= on,
                  or_(col(Subscription.valid_to).is_(None), col(Subscription.valid_to) >= on))
    return union_all(
        select(col(Subscription.service_id)).where(col(Subscription.person_id) == person_id,
                                                   active),
        select(col(Subscription.service_id)).where(col(Subscription.org_unit_id) == unit, active),
    )


def service_rank(text: str) -> Any:
    """How well a service's name or code matches `text`, as an SQL expression: 0 exact name
    or code, 1 name or code begins with it, 2 a word of the name begins with it, 3 anything
    else (keywords, inside a word). "teams" puts the service named Teams before
    "Læringsplattform (Teams for skole)" and before services with the keyword teams.
    Python lowercases the typed text; SQLite's lower() only folds ASCII, so names are
    compared lowercased on both sides and Æ/Ø/Å typed in capitals still match the LIKEs."""
    exact = " ".join(text.lower().split())
    if not exact:
        return literal(3)
    name, code = func.lower(col(Service.name)), func.lower(col(Service.code))
    prefix = _escape(exact) + "%"
    word = "%" + "(" + _escape(exact) + "%"
    return case(
        (or_(name == exact, code == exact), 0),
        (or_(name.like(prefix, escape="\\"), code.like(prefix, escape="\\")), 1),
        (or_(name.like("% " + prefix, escape="\\"), name.like(word, escape="\\"),
             name.like("%-" + prefix, escape="\\")), 2),
        else_=3)


def search_services(session: Session, text: str, *, caller_id: int | None = None,
                    limit: int = 15, on: date | None = None) -> list[dict[str, Any]]:
    """Live services matching name, code or keywords, best match first (`service_rank`);
    among equally good matches the caller's subscribed services come first."""
    tokens = [t for t in text.lower().split() if t]
    hay = func.lower(col(Service.code) + " " + Service.name + " "
                     + func.coalesce(col(Service.keywords), ""))
    conds = [col(Service.lifecycle).in_(("live", "retiring")),
             *[hay.like(_like(t), escape="\\") for t in tokens]]
    subscribed: Any = literal(0)
    if caller_id is not None:
        subscribed = case((col(Service.id).in_(_subscribed_ids(caller_id, on or date.today())), 1),
                          else_=0)
    rank = service_rank(text)
    stmt = (select(col(Service.id), col(Service.code), col(Service.name), col(Service.category),
                   col(Service.default_impact), col(Service.default_urgency),
                   subscribed.label("sub"))
            .where(*conds)
            .order_by(rank, subscribed.desc(), col(Service.name)).limit(limit))
    return [{"id": r[0], "code": r[1], "name": r[2], "category": r[3], "impact": r[4],
             "urgency": r[5], "subscribed": bool(r[6])} for r in session.execute(stmt)]


def search_cis(session: Session, text: str, *, caller_id: int | None = None,
               limit: int = 15) -> list[dict[str, Any]]:
    """Configuration items by name; the caller's own devices first (all of them when
    nothing is typed)."""
    tokens = [t for t in text.lower().split() if t]
    conds = [col(ConfigItem.status) != "retired",
             *[func.lower(col(ConfigItem.name)).like(_like(t), escape="\\") for t in tokens]]
    own: Any = literal(0)
    if caller_id is not None:
        own = case((col(ConfigItem.person_id) == caller_id, 1), else_=0)
        if not tokens:
            conds.append(col(ConfigItem.person_id) == caller_id)
    elif not tokens:
        return []
    stmt = (select(col(ConfigItem.id), col(ConfigItem.name), col(ConfigItem.ci_class),
                   own.label("own"))
            .where(*conds).order_by(own.desc(), col(ConfigItem.name)).limit(limit))
    return [{"id": r[0], "name": r[1], "ci_class": r[2], "own": bool(r[3])}
            for r in session.execute(stmt)]
