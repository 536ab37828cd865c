"""What a sync would change: a pure function of the directory's records and pob's people.

No database, no LDAP: the same plan is printed by `--dry-run` and carried out by a real run,
and it can be tested with plain values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

from pob_tui.directory.map import PersonRecord, dn_key

COMPARED = ("directory_id", "username", "first_name", "last_name", "email", "phone", "title",
            "location")


class AddedItem(TypedDict):
    username: str
    name: str
    org_unit: str | None


class ChangedItem(TypedDict):
    username: str
    field: str
    old: str | None
    new: str | None


MovedItem = TypedDict("MovedItem", {"username": str, "from": str | None, "to": str | None,
                                    "date": str})


class StatusItem(TypedDict):
    username: str
    reason: str


ManagerItem = TypedDict("ManagerItem", {"unit": str, "from": str | None, "to": str})


@dataclass(frozen=True)
class UnitManager:
    """A unit's customer manager as pob has it: who, and whether still active."""

    username: str
    active: bool


@dataclass(frozen=True)
class Known:
    """A person pob has, with unit and location as codes."""

    id: int
    directory_id: str | None
    username: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    title: str | None
    unit_code: str | None
    location_code: str | None
    active: bool


@dataclass(frozen=True)
class Catalog:
    """pob's org units and locations, and `[directory.org_units]`, for resolving values."""

    unit_codes: frozenset[str]
    unit_names: Mapping[str, str]  # casefolded name -> code
    unit_mapping: Mapping[str, str]  # directory value -> code
    location_codes: frozenset[str] = frozenset()
    location_names: Mapping[str, str] = field(default_factory=dict)
    unit_managers: Mapping[str, UnitManager] = field(default_factory=dict)  # code -> manager

    def unit(self, value: str | None) -> tuple[str | None, bool]:
        """(code, known): a mapped value, a pob code, or a pob unit name."""
        if not value:
            return None, True
        mapped = self.unit_mapping.get(value)
        if mapped is not None:
            return mapped, mapped in self.unit_codes
        if value in self.unit_codes:
            return value, True
        code = self.unit_names.get(value.casefold())
        if code is not None:
            return code, True
        return None, False

    def location(self, value: str | None) -> str | None:
        if not value:
            return None
        if value in self.location_codes:
            return value
        return self.location_names.get(value.casefold())


@dataclass
class SyncResult:
    """A run's plan or outcome. `to_json()` has exactly the keys the issue names."""

    added: list[AddedItem] = field(default_factory=list)
    changed: list[ChangedItem] = field(default_factory=list)
    moved: list[MovedItem] = field(default_factory=list)
    deactivated: list[StatusItem] = field(default_factory=list)
    reactivated: list[StatusItem] = field(default_factory=list)
    unknown_units: list[str] = field(default_factory=list)
    managers: list[ManagerItem] = field(default_factory=list)
    """Units whose customer manager the directory fills in (see `unit_heads`)."""
    dry_run: bool = False
    outcome: str = "planned"  # planned | done | dry_run | refused | failed
    entries: int = 0
    pages: int = 0
    skipped: int = 0
    refusal: str | None = None
    """A dry run that a real run would refuse says why here."""

    @property
    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed),
                "moved": len(self.moved), "deactivated": len(self.deactivated),
                "reactivated": len(self.reactivated), "unknown_units": len(self.unknown_units),
                "managers": len(self.managers)}

    def to_json(self) -> dict[str, Any]:
        return {"added": self.added, "changed": self.changed, "moved": self.moved,
                "deactivated": self.deactivated, "reactivated": self.reactivated,
                "unknown_units": self.unknown_units, "managers": self.managers,
                "counts": self.counts}


@dataclass
class Plan:
    """What apply writes; `result` is what the user is shown."""

    add: list[tuple[PersonRecord, str | None, str | None]] = field(default_factory=list)
    update: list[tuple[int, dict[str, str | None]]] = field(default_factory=list)
    move: list[tuple[int, str | None, str | None]] = field(default_factory=list)
    deactivate: list[int] = field(default_factory=list)
    reactivate: list[tuple[int, str | None]] = field(default_factory=list)
    new_units: dict[str, str] = field(default_factory=dict)  # code -> name
    managers: list[tuple[str, str]] = field(default_factory=list)  # (unit, directory id)
    active_from_directory: int = 0
    result: SyncResult = field(default_factory=SyncResult)


def propose_code(value: str, taken: Iterable[str]) -> str:
    """A unit code for a directory value: ASCII capitals, digits and dashes, <= 32 chars."""
    ascii_text = unicodedata.normalize("NFKD", value.replace("Ø", "O").replace("ø", "o")
                                       .replace("Æ", "AE").replace("æ", "ae"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Z0-9]+", "-", ascii_text.upper()).strip("-")[:28] or "UNIT"
    used = set(taken)
    code, n = base, 2
    while code in used:
        code = f"{base}-{n}"
        n += 1
    return code


def _old(k: Known, name: str) -> str | None:
    return k.location_code if name == "location" else getattr(k, name)


def compute_plan(records: Iterable[PersonRecord], known: Iterable[Known], catalog: Catalog,
                 *, today: date, create_units: bool) -> Plan:
    """Match records to people (directory id first, then username), and list what changes.

    Nothing is ever deleted: a person missing from the search or disabled is deactivated.
    """
    plan = Plan()
    res = plan.result
    people = list(known)
    by_dir = {k.directory_id: k for k in people if k.directory_id}
    by_user = {k.username.casefold(): k for k in people}
    recs = sorted(records, key=lambda r: (r.username.casefold(), r.directory_id))
    record_ids = {r.directory_id for r in recs}
    seen_ids: set[str] = set()
    matched: set[int] = set()
    taken_usernames = set(by_user)
    unknown: dict[str, str | None] = {}  # value -> code it gets (None: not created)
    all_codes = set(catalog.unit_codes)
    day = today.isoformat()
    placed: list[tuple[PersonRecord, str | None]] = []  # active after the run, with unit

    def unit_of(value: str | None) -> str | None:
        code, known_unit = catalog.unit(value)
        if known_unit:
            return code
        assert value is not None
        if value not in unknown:
            if create_units:
                new = code if code is not None else propose_code(value, all_codes)
                all_codes.add(new)
                plan.new_units[new] = value
                unknown[value] = new
            else:
                unknown[value] = None
        return unknown[value]

    for rec in recs:
        if rec.directory_id in seen_ids:
            res.skipped += 1
            continue
        seen_ids.add(rec.directory_id)
        person = by_dir.get(rec.directory_id)
        if person is None:
            cand = by_user.get(rec.username.casefold())
            # A username match is the same person unless that person's own directory id is
            # still in the directory (then two accounts share a name: refuse to merge them).
            if cand is not None and (cand.directory_id is None
                                     or cand.directory_id not in record_ids):
                person = cand
        if person is not None and person.id in matched:
            res.skipped += 1
            continue
        unit_code = unit_of(rec.unit_value)
        location_code = catalog.location(rec.location_value)
        if person is None:
            if rec.disabled or rec.username.casefold() in taken_usernames:
                res.skipped += 1  # a disabled account pob never knew; or a name clash
                continue
            taken_usernames.add(rec.username.casefold())
            placed.append((rec, unit_code))
            plan.add.append((rec, unit_code, location_code))
            res.added.append({"username": rec.username,
                              "name": f"{rec.first_name} {rec.last_name}".strip(),
                              "org_unit": unit_code})
            continue
        matched.add(person.id)
        updates: dict[str, str | None] = {}
        for name in COMPARED:
            new = location_code if name == "location" else getattr(rec, name)
            if name == "location" and new is None and rec.location_value:
                continue  # a site pob does not know: keep what pob has
            old = _old(person, name)
            if name == "username" and new is not None and new.casefold() != (old or "").casefold() \
                    and new.casefold() in taken_usernames:
                continue  # the new name belongs to someone else in pob
            if (old or None) != (new or None):
                updates[name] = new
                res.changed.append({"username": rec.username, "field": name, "old": old,
                                    "new": new})
        if updates:
            plan.update.append((person.id, updates))
        if rec.disabled:
            if person.active:
                plan.deactivate.append(person.id)
                res.deactivated.append({"username": rec.username, "reason": "disabled"})
            continue
        moving = unit_code is not None and unit_code != person.unit_code
        placed.append((rec, unit_code if unit_code is not None else person.unit_code))
        if not person.active:
            plan.reactivate.append((person.id, unit_code if moving else person.unit_code))
            res.reactivated.append({"username": rec.username, "reason": "back in directory"})
        if moving:
            plan.move.append((person.id, person.unit_code, unit_code))
            res.moved.append({"username": rec.username, "from": person.unit_code,
                              "to": unit_code, "date": day})
    for k in people:
        if k.directory_id and k.active and k.id not in matched:
            plan.deactivate.append(k.id)
            res.deactivated.append({"username": k.username, "reason": "missing"})
    plan.active_from_directory = sum(1 for k in people if k.directory_id and k.active)
    res.unknown_units = sorted(unknown)
    _fill_managers(plan, placed, catalog)
    return plan


def unit_heads(placed: Iterable[tuple[PersonRecord, str | None]]) -> dict[str, PersonRecord]:
    """Each unit's head by the directory's `manager` links: the person in the unit whom
    others in it report to and who reports to no one in it (the top of the unit's chain);
    with several, the one with most reports (then by username, so runs agree)."""
    people = [(r, u) for r, u in placed if u is not None]
    if not any(r.manager_dn for r, _u in people):
        return {}  # no manager links (or the attribute is off): nothing to parse
    by_dn = {dn_key(r.dn): (r, u) for r, u in people if r.dn}
    boss_of: dict[str, tuple[PersonRecord, str | None] | None] = {}
    reports: dict[tuple[str, str], int] = {}
    for r, u in people:
        boss = by_dn.get(dn_key(r.manager_dn)) if r.manager_dn else None
        boss_of[r.directory_id] = boss
        if boss is not None and boss[1] == u and boss[0].directory_id != r.directory_id:
            assert u is not None
            key = (u, boss[0].directory_id)
            reports[key] = reports.get(key, 0) + 1
    record = {r.directory_id: r for r, _u in people}
    best: dict[str, tuple[int, str, PersonRecord]] = {}
    for (unit, did), n in reports.items():
        own = boss_of.get(did)
        if own is not None and own[1] == unit and own[0].directory_id != did:
            continue  # reports to someone in the same unit: not its head
        rec = record[did]
        mine = (-n, rec.username.casefold(), rec)
        if unit not in best or mine[:2] < best[unit][:2]:
            best[unit] = mine
    return {unit: rec for unit, (_n, _name, rec) in best.items()}


def _fill_managers(plan: Plan, placed: list[tuple[PersonRecord, str | None]],
                   catalog: Catalog) -> None:
    """A unit's customer manager from the directory where it helps: when the unit has none,
    its manager is no longer active, or its manager moved out of the unit in this run. A
    manager someone chose is otherwise kept (often someone in IT, not in the unit): the sync
    fills gaps, it does not overrule people."""
    heads = unit_heads(placed)
    if not heads:
        return
    off = {d["username"].casefold() for d in plan.result.deactivated}
    moved_out = {(m["username"].casefold(), m["from"]) for m in plan.result.moved}
    for unit, head in sorted(heads.items()):
        current = catalog.unit_managers.get(unit)
        if current is not None:
            name = current.username.casefold()
            if name == head.username.casefold():
                continue
            if current.active and name not in off and (name, unit) not in moved_out:
                continue
        plan.managers.append((unit, head.directory_id))
        plan.result.managers.append({"unit": unit, "from": current.username if current else None,
                                     "to": head.username})


def deactivation_share(plan: Plan) -> float:
    """Share of the active directory people this plan deactivates (0 when there are none)."""
    if not plan.active_from_directory:
        return 0.0
    return len(plan.deactivate) / plan.active_from_directory
