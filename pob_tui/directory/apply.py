"""Loading what the diff compares against, and carrying a plan out in the caller's
transaction. Bulk statements: a first sync of 12,000 people is a few dozen round trips."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, or_, select, update
from sqlmodel import Session, col

from pob_tui.directory.diff import Catalog, Known, Plan, UnitManager
from pob_tui.models import Location, OrgUnit, Person, PersonUnitHistory, Subscription

T = TypeVar("T")
CHUNK = 500
"""Ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits."""


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def load_catalog(session: Session, mapping: dict[str, str]) -> Catalog:
    units = session.execute(select(col(OrgUnit.code), col(OrgUnit.name))).all()
    locations = session.execute(select(col(Location.code), col(Location.name))).all()
    managers = session.execute(
        select(col(OrgUnit.code), col(Person.username), col(Person.active))
        .join(Person, col(Person.id) == col(OrgUnit.customer_manager_id))).all()
    return Catalog(
        unit_codes=frozenset(c for c, _n in units),
        unit_names={n.casefold(): c for c, n in units},
        unit_mapping=dict(mapping),
        location_codes=frozenset(c for c, _n in locations),
        location_names={n.casefold(): c for c, n in locations},
        unit_managers={code: UnitManager(username, bool(active))
                       for code, username, active in managers},
    )


def load_known(session: Session) -> list[Known]:
    """Every person, with the columns the diff compares. A sync compares the whole directory
    with the whole register, so this is the one place that reads all people (columns only,
    one streamed query)."""
    unit_code = {i: c for i, c in session.execute(select(col(OrgUnit.id), col(OrgUnit.code)))}
    loc_code = {i: c for i, c in session.execute(select(col(Location.id), col(Location.code)))}
    q = select(*(col(c) for c in (
        Person.id, Person.directory_id, Person.username, Person.first_name, Person.last_name,
        Person.email, Person.phone, Person.title, Person.org_unit_id, Person.location_id,
        Person.active)))
    out = []
    for row in session.execute(q.execution_options(yield_per=2000)):
        out.append(Known(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                         unit_code.get(row[8]) if row[8] is not None else None,
                         loc_code.get(row[9]) if row[9] is not None else None, bool(row[10])))
    return out


def search_text(first: str | None, last: str | None, username: str | None, phone: str | None,
                email: str | None) -> str:
    """col(Person.search) as the caller picker expects it (same shape as the CSV importer's)."""
    return (f"{first or ''} {last or ''} {username or ''} {phone or ''} {email or ''}"
            ).lower()[:400]


def apply_plan(session: Session, plan: Plan, *, today: date, first_sync: bool) -> None:
    """Write `plan`: units, new people, field changes, moves, (de/re)activations."""
    for code, name in sorted(plan.new_units.items()):
        session.add(OrgUnit(code=code, name=name[:200], kind="unit"))
    session.flush()
    unit_id = {c: i for i, c in session.execute(select(col(OrgUnit.id), col(OrgUnit.code)))}
    loc_id = {c: i for i, c in session.execute(select(col(Location.id), col(Location.code)))}
    yesterday = today - timedelta(days=1)

    # New people, and their first unit row: "since before pob knew" on the first sync (the
    # municipality's people did not all start today), from today on later ones.
    if plan.add:
        rows = [{
            "username": r.username, "first_name": r.first_name, "last_name": r.last_name,
            "title": r.title, "phone": r.phone, "email": r.email,
            "org_unit_id": unit_id.get(u) if u else None,
            "location_id": loc_id.get(loc) if loc else None,
            "vip": False, "active": True, "directory_id": r.directory_id,
            "search": search_text(r.first_name, r.last_name, r.username, r.phone, r.email),
        } for r, u, loc in plan.add]
        for chunk in chunks(rows, 1000):
            session.execute(insert(Person), list(chunk))
        ids: dict[str, int] = {}
        new_ids = [r.directory_id for r, _u, _l in plan.add]
        for some_ids in chunks(new_ids):
            ids.update(session.execute(select(col(Person.directory_id), col(Person.id))
                                       .where(col(Person.directory_id).in_(some_ids))).all())
        start = None if first_sync else today
        hist = [{"person_id": ids[r.directory_id], "org_unit_id": unit_id.get(u) if u else None,
                 "valid_from": start, "valid_to": None} for r, u, _l in plan.add]
        for hist_chunk in chunks(hist, 1000):
            session.execute(insert(PersonUnitHistory), list(hist_chunk))

    # Field changes (bulk UPDATE by primary key), with the picker's search text.
    if plan.update:
        current: dict[int, dict[str, Any]] = {}
        ids_changed = [pid for pid, _u in plan.update]
        for id_chunk in chunks(ids_changed):
            names = select(*(col(c) for c in (Person.id, Person.first_name, Person.last_name,
                                               Person.username, Person.phone, Person.email)))
            for found in session.execute(names.where(col(Person.id).in_(id_chunk))):
                current[found[0]] = dict(zip(("first_name", "last_name", "username", "phone",
                                              "email"), found[1:], strict=True))
        values: list[dict[str, Any]] = []
        for pid, changes in plan.update:
            row: dict[str, Any] = {"id": pid}
            for name, new in changes.items():
                if name == "location":
                    row["location_id"] = loc_id.get(new) if new else None
                else:
                    row[name] = new
            merged = {**current[pid], **{k: v for k, v in changes.items() if k in current[pid]}}
            row["search"] = search_text(merged["first_name"], merged["last_name"],
                                        merged["username"], merged["phone"], merged["email"])
            values.append(row)
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for v in values:  # one executemany per set of columns
            by_keys[tuple(sorted(v))].append(v)
        for group in by_keys.values():
            session.execute(update(Person), group)

    reactivated = {pid for pid, _u in plan.reactivate}
    for pid, unit in plan.reactivate:
        _open_row(session, pid, unit_id.get(unit) if unit else None, today)
        session.execute(update(Person).where(col(Person.id) == pid).values(
            active=True, org_unit_id=unit_id.get(unit) if unit else None))
    for pid, _old, new in plan.move:
        new_id = unit_id.get(new) if new else None
        if pid not in reactivated:
            _move_row(session, pid, new_id, today, yesterday)
        session.execute(update(Person).where(col(Person.id) == pid).values(org_unit_id=new_id))

    if plan.deactivate:
        ids_off = list(plan.deactivate)
        for off in chunks(ids_off):
            session.execute(update(Person).where(col(Person.id).in_(off)).values(active=False))
            # The unit row ends today (inclusive): costs stop after the day they left.
            session.execute(update(PersonUnitHistory)
                            .where(col(PersonUnitHistory.person_id).in_(off),
                                   col(PersonUnitHistory.valid_to).is_(None))
                            .values(valid_to=today))
            # Their own subscriptions end that day; nothing is deleted.
            session.execute(update(Subscription)
                            .where(col(Subscription.person_id).in_(off),
                                   col(Subscription.valid_from) <= today,
                                   or_(col(Subscription.valid_to).is_(None),
                                       col(Subscription.valid_to) > today))
                            .values(valid_to=today))
        _ensure_rows(session, ids_off, today, closed=True)

    # Customer managers the directory fills in (diff._fill_managers says when).
    heads: dict[str, int] = {}
    for some in chunks([did for _code, did in plan.managers]):
        heads.update(session.execute(select(col(Person.directory_id), col(Person.id))
                                     .where(col(Person.directory_id).in_(some))).all())
    for code, directory_id in plan.managers:
        if directory_id in heads and code in unit_id:
            session.execute(update(OrgUnit).where(col(OrgUnit.id) == unit_id[code])
                            .values(customer_manager_id=heads[directory_id]))

    # People adopted by username (hand-kept before) get a first row, so costs follow them.
    adopted = [pid for pid, changes in plan.update if "directory_id" in changes
               and pid not in set(plan.deactivate)]
    _ensure_rows(session, adopted, today, closed=False)


def _ensure_rows(session: Session, person_ids: Iterable[int], today: date, *,
                 closed: bool) -> None:
    """A row "since before pob knew" for people who have none yet (their current unit)."""
    ids = list(person_ids)
    for part in chunks(ids):
        have = set(session.execute(select(col(PersonUnitHistory.person_id))
                                   .where(col(PersonUnitHistory.person_id).in_(part))).scalars())
        missing = [p for p in part if p not in have]
        if not missing:
            continue
        units = dict(session.execute(select(col(Person.id), col(Person.org_unit_id))
                                     .where(col(Person.id).in_(missing))).all())
        session.execute(insert(PersonUnitHistory), [
            {"person_id": p, "org_unit_id": units.get(p), "valid_from": None,
             "valid_to": today if closed else None} for p in missing])


def _last_row(session: Session, pid: int) -> PersonUnitHistory | None:
    rows = session.execute(select(PersonUnitHistory).where(col(PersonUnitHistory.person_id) == pid)
                           ).scalars().all()
    if not rows:
        return None
    # The open row if any, else the one that ended last (NULL valid_from sorts first).
    last: PersonUnitHistory = max(rows, key=lambda r: (r.valid_to is None,
                                                      r.valid_to or date.min,
                                                      r.valid_from or date.min))
    return last


def _move_row(session: Session, pid: int, unit: int | None, today: date,
              yesterday: date) -> None:
    """Close the open row yesterday and open one today (old unit until the move day)."""
    last = _last_row(session, pid)
    if last is None or last.valid_to is not None:
        old_unit = session.execute(select(col(Person.org_unit_id)).where(col(Person.id) == pid)
                                   ).scalar_one_or_none()
        if last is None:
            session.add(PersonUnitHistory(person_id=pid, org_unit_id=old_unit,
                                          valid_from=None, valid_to=yesterday))
        session.add(PersonUnitHistory(person_id=pid, org_unit_id=unit, valid_from=today))
        return
    if last.valid_from is not None and last.valid_from >= today:
        last.org_unit_id = unit  # moved again the same day: the row of today changes unit
        return
    last.valid_to = yesterday
    session.add(PersonUnitHistory(person_id=pid, org_unit_id=unit, valid_from=today))


def _open_row(session: Session, pid: int, unit: int | None, today: date) -> None:
    """Back from today: reopen a row that ended today in the same unit, else a new row."""
    last = _last_row(session, pid)
    if last is not None and last.valid_to is None:
        return
    if last is not None and last.valid_to is not None and last.valid_to >= today:
        if last.org_unit_id == unit:
            last.valid_to = None
            return
        if last.valid_from is not None and last.valid_from >= today:
            last.org_unit_id, last.valid_to = unit, None
            return
        last.valid_to = today - timedelta(days=1)
    session.add(PersonUnitHistory(person_id=pid, org_unit_id=unit, valid_from=today))


__all__ = ["apply_plan", "load_catalog", "load_known", "search_text"]
