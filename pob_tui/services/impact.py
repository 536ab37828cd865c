"""Impact analysis: what an outage or a change on some CIs reaches, as lists with reasons.

One implementation for the change detail, the CAB agenda, the CMDB and outages.

The walk (breadth first over `ci_relation`, one batched IN query per level and chunk, at
most `MAX_DEPTH` steps): if A depends_on/runs_on/connects_to B, trouble on B reaches A,
transitively. connects_to also carries impact the other way, one step only, to the CI a
root connects to (a changed PC touches its switch, not every PC on that switch).

Every impacted CI keeps the path that explains it, from it back to the root it was reached
from (breadth first, so the path is a shortest one). Services resting on an impacted CI
(`service_ci`) are impacted through the CI with the shortest path; org units subscribing to
an impacted service (with all their child units), persons subscribing directly and the
owners of impacted CIs are the people reached; locations are those of the impacted CIs and
of those people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Integer, Select, String, and_, cast, func, literal_column, null, or_, select
from sqlmodel import Session, col

from pob_tui.models import (
    CiRelation,
    ConfigItem,
    Location,
    OrgUnit,
    Person,
    Service,
    ServiceCi,
    Subscription,
)
from pob_tui.reports.cab import ImpactCounts

MAX_DEPTH = 4
CHUNK = 900  # below SQLite's default limit of host parameters per statement
LIST_CAP = 50  # names in the change's JSON (`as_dict`), as before the lists existed

CONNECTED_FROM = "connected_from"
"""A path step read backwards: the next CI on the path connects to this one."""


@dataclass(frozen=True, slots=True)
class ImpactedCi:
    """An impacted CI and why: `path` runs from it back to a root CI (names);
    `kinds[i]` relates `path[i]` to `path[i + 1]` ("runs_on": path[i] runs on path[i+1];
    `CONNECTED_FROM`: path[i+1] connects to path[i])."""

    id: int
    name: str
    ci_class: str
    status: str
    path: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImpactedService:
    id: int
    code: str
    name: str
    path: tuple[str, ...]  # the CI it rests on, back to the root
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImpactedUnit:
    """An org unit subscribing to impacted services; `people`: active people in it and its
    child units."""

    id: int
    code: str
    name: str
    people: int
    services: tuple[str, ...]  # codes


@dataclass(frozen=True, slots=True)
class ImpactedLocation:
    id: int
    code: str
    name: str
    people: int  # impacted people working there
    cis: int  # impacted CIs standing there


@dataclass(frozen=True, slots=True)
class ImpactedPerson:
    id: int
    username: str
    name: str
    reason: str  # "unit" | "subscriber" | "owner"
    via: str  # the org unit name, service code or CI name behind the reason


class ImpactSummary(ImpactCounts):
    """`pob change show --format json`'s "impact" (a contract): the counts, and names."""

    org_units: int
    ci_names: list[str]
    service_names: list[str]
    org_unit_names: list[str]
    location_names: list[str]


@dataclass
class Impact:
    """What trouble on `roots` reaches, each list in a stable order with its reasons."""

    roots: tuple[str, ...] = ()
    cis: list[ImpactedCi] = field(default_factory=list)
    services: list[ImpactedService] = field(default_factory=list)
    org_units: list[ImpactedUnit] = field(default_factory=list)
    people: int = 0
    locations: list[ImpactedLocation] = field(default_factory=list)
    on: date | None = None
    root_ids: tuple[int, ...] = ()
    depth: int = MAX_DEPTH
    forward_ids: frozenset[int] = frozenset()
    # who the people are (for `people_page`): covered unit -> the subscribing unit, direct
    # subscribers -> service code, owners -> CI name
    unit_via: dict[int, int] = field(default_factory=dict, repr=False)
    subscriber_via: dict[int, str] = field(default_factory=dict, repr=False)
    owner_via: dict[int, str] = field(default_factory=dict, repr=False)

    @property
    def ci_ids(self) -> set[int]:
        return {c.id for c in self.cis}

    @property
    def service_ids(self) -> set[int]:
        return {s.id for s in self.services}

    @property
    def org_unit_ids(self) -> set[int]:
        return {u.id for u in self.org_units}

    @property
    def location_ids(self) -> set[int]:
        return {loc.id for loc in self.locations}

    @property
    def ci_names(self) -> list[str]:
        return [c.name for c in self.cis]

    @property
    def service_names(self) -> list[str]:
        return [s.name for s in self.services]

    def counts(self) -> ImpactCounts:
        """How many CIs, services, people and locations (the CAB agenda's figures)."""
        return ImpactCounts(cis=len(self.cis), services=len(self.services),
                            people=self.people, locations=len(self.locations))

    def as_dict(self) -> ImpactSummary:
        """The change's JSON shape (counts and capped name lists)."""
        return ImpactSummary(**self.counts(), org_units=len(self.org_units),
                             ci_names=sorted(self.ci_names)[:LIST_CAP],
                             service_names=sorted(self.service_names),
                             org_unit_names=sorted(u.name for u in self.org_units)[:LIST_CAP],
                             location_names=sorted(loc.name for loc in self.locations)[:LIST_CAP])

    def as_json(self) -> dict[str, Any]:
        """`pob ci impact --format json` (a contract): names and codes, and the paths."""
        paths: dict[str, list[str]] = {c.name: list(c.path) for c in self.cis}
        for s in self.services:
            paths[s.code] = list(s.path)
        return {"ci": ", ".join(self.roots), "cis": [c.name for c in self.cis],
                "services": [s.code for s in self.services],
                "org_units": [u.code for u in self.org_units], "people": self.people,
                "locations": [loc.code for loc in self.locations], "paths": paths}


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterable[list[int]]:
    """`ids` sorted, in lists short enough for one IN (...) on either database."""
    items = sorted(ids)
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass(slots=True)
class _Reached:
    name: str
    ci_class: str
    status: str
    location_id: int | None
    person_id: int | None
    parent: int | None  # the CI it was reached from (None for a root)
    kind: str | None  # relation between it and its parent
    depth: int


def _walk_cte(roots: list[int], depth: int) -> Any:
    """The backward walk as one recursive query: a row (ci, the CI it was reached from,
    relation kind, steps) per relation and depth. UNION (not UNION ALL) keeps every
    (relation, depth) once, so the rows stay within depth x relations even with cycles."""
    anchor: Select[*tuple[Any, ...]] = select(
        col(ConfigItem.id).label("id"), cast(null(), Integer).label("parent"),
        cast(null(), String(16)).label("kind"), cast(literal_column("0"), Integer).label("depth")
    ).where(col(ConfigItem.id).in_(roots))
    w = anchor.cte("impact_walk", recursive=True)
    step = (select(col(CiRelation.source_id), col(CiRelation.target_id),
                   cast(col(CiRelation.kind), String(16)),
                   cast(w.c.depth + literal_column("1"), Integer))
            .join(w, col(CiRelation.target_id) == w.c.id)
            .where(w.c.depth < literal_column(str(int(depth)))))
    return w.union(step)


def walk(session: Session, root_ids: Iterable[int], depth: int = MAX_DEPTH
         ) -> dict[int, _Reached]:
    """Every impacted CI id with the step that reached it (module docstring)."""
    roots = sorted(set(root_ids))
    reached: dict[int, _Reached] = {}
    if not roots:
        return reached
    cols = (col(ConfigItem.name), col(ConfigItem.ci_class), col(ConfigItem.status),
            col(ConfigItem.location_id), col(ConfigItem.person_id))
    w = _walk_cte(roots, depth)
    # a shortest path per CI: the first row in (depth, parent, kind) order (stable output)
    for cid, parent, kind, level, name, cls, status, loc, person in session.execute(
            select(w.c.id, w.c.parent, w.c.kind, w.c.depth, *cols)
            .join(ConfigItem, col(ConfigItem.id) == w.c.id)
            .order_by(w.c.depth, w.c.parent, w.c.kind)):
        if cid not in reached:
            reached[cid] = _Reached(name, cls, status, loc, person, parent, kind, level)
    # one step forward along connects_to, from the roots only
    if depth >= 1:
        for chunk in chunks(roots):
            for source, cid, name, cls, status, loc, person in session.execute(
                    select(col(CiRelation.source_id), col(ConfigItem.id), *cols)
                    .join(ConfigItem, col(ConfigItem.id) == CiRelation.target_id)
                    .where(col(CiRelation.source_id).in_(chunk),
                           col(CiRelation.kind) == "connects_to")
                    .order_by(col(ConfigItem.id), col(CiRelation.source_id))):
                if cid not in reached:
                    reached[cid] = _Reached(name, cls, status, loc, person, source,
                                            CONNECTED_FROM, 1)
    return reached


def reach_by_root(session: Session, root_ids: Iterable[int], depth: int = MAX_DEPTH
                  ) -> dict[int, set[int]]:
    """Each root CI -> the ids `walk` reaches from it alone (itself included), for many roots
    in one recursive query: conflict checks for a page of changes need the reach of each
    change's CIs, not the names, paths and people of a full `analyse_impact`."""
    roots = sorted(set(root_ids))
    out: dict[int, set[int]] = {r: set() for r in roots}
    if not roots:
        return out
    for chunk in chunks(roots):
        anchor: Select[*tuple[Any, ...]] = select(
            col(ConfigItem.id).label("root"), col(ConfigItem.id).label("id"),
            cast(literal_column("0"), Integer).label("depth")
        ).where(col(ConfigItem.id).in_(chunk))
        w = anchor.cte("reach_walk", recursive=True)
        step = (select(w.c.root, col(CiRelation.source_id),
                       cast(w.c.depth + literal_column("1"), Integer))
                .join(w, col(CiRelation.target_id) == w.c.id)
                .where(w.c.depth < literal_column(str(int(depth)))))
        walked = w.union(step)
        for root, cid in session.execute(select(walked.c.root, walked.c.id).distinct()):
            out[root].add(cid)
        if depth >= 1:  # one step forward along connects_to, from the roots only
            for root, cid in session.execute(
                    select(col(CiRelation.source_id), col(CiRelation.target_id))
                    .where(col(CiRelation.source_id).in_(chunk),
                           col(CiRelation.kind) == "connects_to")):
                out[root].add(cid)
    return out


def _reached_condition(column: Any, imp: Impact) -> Any:
    """`column` is an impacted CI's id: the walk again as a subquery (cheaper than sending
    thousands of ids), plus the few CIs reached forward."""
    cond = column.in_(select(_walk_cte(list(imp.root_ids), imp.depth).c.id))
    if imp.forward_ids:
        cond = or_(cond, column.in_(sorted(imp.forward_ids)))
    return cond


def _path(reached: dict[int, _Reached], cid: int,
          memo: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] | None = None
          ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names from `cid` back to its root and the relation kinds between them (`memo`
    shares the parents' paths when every CI's path is wanted)."""
    if memo is not None and cid in memo:
        return memo[cid]
    r = reached[cid]
    if r.parent is None or r.kind is None:
        out: tuple[tuple[str, ...], tuple[str, ...]] = ((r.name,), ())
    else:
        names, kinds = _path(reached, r.parent, memo)
        out = ((r.name, *names), (r.kind, *kinds))
    if memo is not None:
        memo[cid] = out
    return out


def _with_children(session: Session, unit_ids: set[int]) -> dict[int, int]:
    """Every unit covered by `unit_ids` (they and their descendants) -> the subscribing
    unit it falls under (the nearest one)."""
    if not unit_ids:
        return {}
    children: dict[int, list[int]] = {}
    # The whole org tree (a few hundred rows): one query beats a recursive CTE per level.
    for uid, parent in session.execute(select(col(OrgUnit.id), col(OrgUnit.parent_id))
                                       .where(col(OrgUnit.parent_id).is_not(None))):
        children.setdefault(parent, []).append(uid)
    out: dict[int, int] = {u: u for u in unit_ids}
    stack = sorted(unit_ids)
    while stack:
        node = stack.pop()
        for child in children.get(node, ()):
            if child not in out:
                out[child] = out[node]
                stack.append(child)
    return out


def analyse_impact(session: Session, ci_ids: Iterable[int], on: date | None = None, *,
                   depth: int = MAX_DEPTH) -> Impact:
    """Impact of trouble on `ci_ids` as of `on` (subscriptions valid that day)."""
    on = on or date.today()
    roots = tuple(sorted(set(ci_ids)))
    reached = walk(session, roots, depth)
    imp = Impact(on=on, root_ids=roots, depth=depth,
                 forward_ids=frozenset(c for c, r in reached.items()
                                       if r.kind == CONNECTED_FROM))
    if not reached:
        return imp
    imp.roots = tuple(sorted(r.name for r in reached.values() if r.parent is None))
    order = sorted(reached, key=lambda c: (reached[c].depth, reached[c].name))
    memo: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for cid in order:  # parents come first (a smaller depth), so their paths are memoised
        r = reached[cid]
        path, kinds = _path(reached, cid, memo)
        imp.cis.append(ImpactedCi(cid, r.name, r.ci_class, r.status, path, kinds))
    # services resting on impacted CIs, each through its nearest CI
    best: dict[int, tuple[tuple[int, str], int, str, str]] = {}
    for sid, code, name, cid in session.execute(
            select(col(Service.id), col(Service.code), col(Service.name), col(ServiceCi.ci_id))
            .join(ServiceCi, col(ServiceCi.service_id) == Service.id)
            .where(_reached_condition(col(ServiceCi.ci_id), imp))):
        if cid not in reached:
            continue
        rank = (reached[cid].depth, reached[cid].name)
        if sid not in best or rank < best[sid][0]:
            best[sid] = (rank, cid, code, name)
    for sid, (_rank, cid, code, name) in sorted(best.items(), key=lambda kv: kv[1][2]):
        path, kinds = _path(reached, cid, memo)
        imp.services.append(ImpactedService(sid, code, name, path, kinds))
    for r in reached.values():
        if r.person_id is not None and r.person_id not in imp.owner_via:
            imp.owner_via[r.person_id] = r.name
    # subscribers of those services
    unit_services: dict[int, set[str]] = {}
    if best:
        code_of = {sid: v[2] for sid, v in best.items()}
        valid = and_(col(Subscription.service_id).in_(sorted(best)),
                     col(Subscription.valid_from) <= on,
                     or_(col(Subscription.valid_to).is_(None), col(Subscription.valid_to) >= on))
        for sid, unit, person in session.execute(
                select(col(Subscription.service_id), col(Subscription.org_unit_id),
                       col(Subscription.person_id)).where(valid)):
            if unit is not None:
                unit_services.setdefault(unit, set()).add(code_of[sid])
            elif person is not None:
                imp.subscriber_via.setdefault(person, code_of[sid])
    imp.unit_via = _with_children(session, set(unit_services))
    # people: per covered unit (for the units' counts) and per location (for the total)
    if imp.unit_via:
        per_unit: dict[int, int] = {}
        for chunk in chunks(imp.unit_via):
            for unit, n in session.execute(
                    select(col(Person.org_unit_id), func.count()).where(
                        col(Person.active), col(Person.org_unit_id).in_(chunk))
                    .group_by(col(Person.org_unit_id))):
                per_unit[unit] = n
        totals: dict[int, int] = {}
        covered_by: dict[int, list[int]] = {}
        for unit, top in imp.unit_via.items():
            covered_by.setdefault(top, []).append(unit)
        for top in unit_services:
            # a unit under another subscribing unit counts its people itself too
            totals[top] = sum(per_unit.get(u, 0) for u in _subtree(top, imp.unit_via,
                                                                  covered_by))
        for uid, code, name in session.execute(
                select(col(OrgUnit.id), col(OrgUnit.code), col(OrgUnit.name))
                .where(col(OrgUnit.id).in_(sorted(unit_services))).order_by(col(OrgUnit.name))):
            imp.org_units.append(ImpactedUnit(uid, code, name, totals.get(uid, 0),
                                              tuple(sorted(unit_services[uid]))))
    people_at: dict[int, int] = {}
    cond = _people_condition(imp)
    if cond is not None:
        for loc, n in session.execute(
                select(col(Person.location_id), func.count()).where(col(Person.active), cond)
                .group_by(col(Person.location_id))):
            imp.people += n
            if loc is not None:
                people_at[loc] = n
    cis_at: dict[int, int] = {}
    for r in reached.values():
        if r.location_id is not None:
            cis_at[r.location_id] = cis_at.get(r.location_id, 0) + 1
    loc_ids = set(people_at) | set(cis_at)
    for chunk in chunks(loc_ids):
        for lid, code, name in session.execute(
                select(col(Location.id), col(Location.code), col(Location.name))
                .where(col(Location.id).in_(chunk))):
            imp.locations.append(ImpactedLocation(lid, code, name, people_at.get(lid, 0),
                                                  cis_at.get(lid, 0)))
    imp.locations.sort(key=lambda loc: (-loc.people, -loc.cis, loc.name))
    return imp


def _subtree(top: int, unit_via: dict[int, int], covered_by: dict[int, list[int]]
             ) -> list[int]:
    """`top` and every covered unit below it, including those under a nested subscriber."""
    out: list[int] = []
    stack = [top]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for unit in covered_by.get(node, ()):
            out.append(unit)
            if unit != node and unit in covered_by:
                stack.append(unit)
    return out


def _people_condition(imp: Impact) -> Any:
    conds: list[Any] = []
    for chunk in chunks(imp.unit_via):
        conds.append(col(Person.org_unit_id).in_(chunk))
    for chunk in chunks(imp.subscriber_via):
        conds.append(col(Person.id).in_(chunk))
    if imp.owner_via:  # owners of impacted CIs: by subquery, there may be thousands
        conds.append(col(Person.id).in_(select(col(ConfigItem.person_id)).where(
            _reached_condition(col(ConfigItem.id), imp), col(ConfigItem.person_id).is_not(None))))
    return or_(*conds) if conds else None


def people_page(session: Session, imp: Impact, *, offset: int = 0, limit: int = 200
                ) -> list[ImpactedPerson]:
    """One page of the impacted people, by name, each with why they are reached."""
    cond = _people_condition(imp)
    if cond is None:
        return []
    unit_names: dict[int, str] = {u.id: u.name for u in imp.org_units}
    out: list[ImpactedPerson] = []
    for pid, username, first, last, unit in session.execute(
            select(col(Person.id), col(Person.username), col(Person.first_name),
                   col(Person.last_name),
                   col(Person.org_unit_id)).where(col(Person.active), cond)
            .order_by(col(Person.last_name), col(Person.first_name), col(Person.id))
            .offset(offset).limit(limit)):
        name = f"{first} {last}".strip()
        if unit is not None and unit in imp.unit_via:
            top = imp.unit_via[unit]
            out.append(ImpactedPerson(pid, username, name, "unit", unit_names.get(top, "")))
        elif pid in imp.subscriber_via:
            out.append(ImpactedPerson(pid, username, name, "subscriber",
                                      imp.subscriber_via[pid]))
        else:
            out.append(ImpactedPerson(pid, username, name, "owner",
                                      imp.owner_via.get(pid, "")))
    return out


def explain(head: str | None, path: tuple[str, ...], kinds: tuple[str, ...]) -> str:
    """The reason as one line: "Visma lønn <- visma-app01 runs on esx-host-07 <- depends on
    san-02" (`head`: a service's name before the CI path; None for a CI itself)."""
    from pob_tui.i18n import _

    labels = {"depends_on": _("depends on"), "runs_on": _("runs on"),
              "connects_to": _("connects to"), CONNECTED_FROM: _("is connected to by")}
    out = f"{head} <- {path[0]}" if head is not None else path[0]
    for i, (kind, name) in enumerate(zip(kinds, path[1:], strict=False)):
        out += (" " if i == 0 else " <- ") + f"{labels.get(kind, kind)} {name}"
    return out


@dataclass
class ImpactReport:
    """The impact lists for one screen: the analysis and the first page of its people."""

    title: str  # the CI name(s) or the change number it is about
    impact: Impact
    people: list[ImpactedPerson]


def impact_report(session: Session, *, ci: str | None = None, change: str | None = None,
                  on: date | None = None, people: int = 200) -> ImpactReport:
    """Impact of one CI (by name) or of a change's CIs (by number), with a page of people."""
    from pob_tui.errors import InvalidInput, NotFound
    from pob_tui.i18n import _
    from pob_tui.models import ChangeCi, ChangeRequest

    if (ci is None) == (change is None):
        raise InvalidInput(_("impact of a CI or of a change (one of them)"))
    if ci is not None:
        from pob_tui.services.cmdb import find_ci

        item = find_ci(session, ci)
        assert item.id is not None
        ids, title = [item.id], item.name
    else:
        assert change is not None
        row = session.execute(select(col(ChangeRequest.id), col(ChangeRequest.number),
                                     col(ChangeRequest.planned_start))
                              .where(col(ChangeRequest.number) == change.strip().upper())).first()
        if row is None:
            raise NotFound(_("unknown change {number}").format(number=repr(change)))
        ids = list(session.execute(select(col(ChangeCi.ci_id))
                                   .where(col(ChangeCi.change_id) == row[0])).scalars())
        title = row[1]
        on = on or (row[2].date() if row[2] else None)
    imp = analyse_impact(session, ids, on)
    return ImpactReport(title, imp, people_page(session, imp, limit=people))
