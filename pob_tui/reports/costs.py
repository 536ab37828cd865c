"""What each service costs, and what it costs each person to have access to it.

The allocation, as the README documents it:

* A service's cost for a period is the sum of its cost rows (`service_cost`) for the period
  plus agent time: the minutes recorded on work notes of its incidents and problems in the
  period, times `costs.hourly_rate`. A period that covers part of a year takes that share of
  the year's cost rows (by days); a calendar year takes them whole.
* Access: a person has access on a day when a subscription of that service covers the day
  (`valid_from` to `valid_to`, both inclusive, open-ended when `valid_to` is empty) and is held
  by the person, by the person's org unit, or by any unit above it (a sector's subscription
  covers every unit below it). Overlapping subscriptions are merged per person, so a day is
  never counted twice.
* The cost is spread over the people with access in proportion to their days of access in the
  period. A service nobody had access to stays *unallocated*; it is shown, never dropped.
* Amounts are whole øre. Shares are rounded with the largest-remainder method, first over the
  holders (an org unit's people who have the same days, or one person), then evenly over the
  people of a group, so allocated + unallocated equals the total exactly.
* A person's org unit is dated (`person_unit_history`, written by the directory sync): each
  day is charged to the unit the person belonged to that day, so a person who moved is charged
  to the old unit until the move and to the new one from the move day on, and a leaver stops
  being charged after the day they left. A person with no history rows at all belongs to
  `person.org_unit_id` for the whole period, as before.

Why this shape: people who share a unit and have no subscription of their own always get the
same days, so the heavy work is per (service, unit), not per (service, person). One year for
12,000 people and 300 services is a few thousand intervals and a few hundred groups; the
per-person split is only done when a report asks for people. Nothing here imports Textual.
"""

from __future__ import annotations

import calendar
import threading
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Exists
from sqlmodel import Session, col

from pob_tui.errors import InconsistentData, InvalidInput
from pob_tui.i18n import _, local_number
from pob_tui.models import (
    Incident,
    InputVersion,
    OrgUnit,
    Person,
    PersonUnitHistory,
    Problem,
    Service,
    ServiceCost,
    Subscription,
    TicketEvent,
)

CENT = Decimal("0.01")
NO_UNIT = 0
"""Key for people without an org unit in org-unit totals."""


def money(cents: int) -> Decimal:
    """Whole øre as a NOK Decimal with two places."""
    return (Decimal(cents) / 100).quantize(CENT)


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- period


@dataclass(frozen=True)
class Period:
    """Whole days from `start` to `end`, both inclusive, in the configured time zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(_("the period ends ({end}) before it starts ({start})").format(
                end=self.end, start=self.start))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
            and self.start.year == self.end.year

    @property
    def label(self) -> str:
        return str(self.start.year) if self.is_year else f"{self.start}..{self.end}"

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC datetimes: local midnights."""
        lo = datetime.combine(self.start, time(), tz).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(), tz).astimezone(UTC)
        return lo, hi

    def year_shares(self) -> list[tuple[int, int, int]]:
        """(year, days of the period in it, days in that year) for each year touched."""
        out = []
        for y in range(self.start.year, self.end.year + 1):
            lo = max(self.start, date(y, 1, 1))
            hi = min(self.end, date(y, 12, 31))
            out.append((y, (hi - lo).days + 1, 366 if calendar.isleap(y) else 365))
        return out


# --------------------------------------------------------------------------- pure core


def union_days(intervals: Iterable[tuple[int, int]]) -> int:
    """Days covered by inclusive ordinal intervals, overlaps counted once."""
    total = 0
    cur_lo = cur_hi = None
    for lo, hi in sorted(intervals):
        if cur_hi is None or lo > cur_hi + 1:
            if cur_hi is not None:
                total += cur_hi - cur_lo + 1  # type: ignore[operator]
            cur_lo, cur_hi = lo, hi
        elif hi > cur_hi:
            cur_hi = hi
    if cur_hi is not None:
        total += cur_hi - cur_lo + 1  # type: ignore[operator]
    return total


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` (whole øre) in proportion to integer `weights`, exactly.

    Each share is the floor of its exact value, and the øre left over go one each to the
    largest remainders (ties: the earlier weight). Integer arithmetic, so no rounding drift.
    """
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = []
    rests = []
    for i, w in enumerate(weights):
        q, r = divmod(total * w, whole)
        shares.append(q)
        rests.append((-r, i))
    left = total - sum(shares)
    if left:
        for _r, i in sorted(rests)[:left]:
            shares[i] += 1
    return shares


def even_split(total: int, n: int) -> list[int]:
    """`total` øre over `n` people: the first `total % n` get one øre more."""
    q, r = divmod(total, n)
    return [q + 1 if i < r else q for i in range(n)]


@dataclass(frozen=True)
class SubRow:
    """One subscription overlapping the period, as ordinal day numbers clipped to it."""

    service_id: int
    unit_id: int | None
    person_id: int | None
    person_unit_id: int | None
    lo: int
    hi: int
    person_key: str = ""
    """The person's username: orders ties in rounding by natural key, not by id, so a
    database rebuilt from CSV rounds the same way."""
    in_group: bool = True
    """False for a person whose dated history puts them in no unit for the whole period
    (they left before it, or moved during it): no unit's subscription covers them here."""


@dataclass(frozen=True)
class Segment:
    """Part of the period a person who moved (or came or left) during it spent in one unit,
    as ordinal days clipped to the period. Such people are allocated one by one."""

    person_id: int
    unit_id: int | None
    lo: int
    hi: int
    person_key: str = ""


@dataclass
class Inputs:
    """Everything the allocation reads, as plain values (loaded by `load_inputs`)."""

    period: Period
    services: dict[int, tuple[str, str, str]]  # id -> (code, name, lifecycle)
    cost_cents: dict[int, int]  # service -> cost rows for the period
    minutes: dict[int, int]  # service -> agent minutes in the period
    hourly_rate: Decimal
    parents: dict[int, int | None]  # org unit -> parent
    unit_people: dict[int | None, int]  # org unit (None: no unit) -> people
    subscriptions: list[SubRow]
    units: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)
    segments: list[Segment] = field(default_factory=list)
    """People whose unit changes within the period; `unit_people` does not count them."""


@dataclass
class Holder:
    """People who share one allocation weight: an org unit's people without a subscription
    of their own (`person_id` None, `people` of them), or one person."""

    unit_id: int | None
    person_id: int | None
    people: int
    days: int
    cents: int = 0


@dataclass
class ServiceAllocation:
    service_id: int
    code: str
    name: str
    lifecycle: str
    cost_cents: int
    time_cents: int
    minutes: int
    holders: list[Holder]

    @property
    def total_cents(self) -> int:
        return self.cost_cents + self.time_cents

    @property
    def allocated_cents(self) -> int:
        return sum(h.cents for h in self.holders)

    @property
    def unallocated_cents(self) -> int:
        return self.total_cents - self.allocated_cents

    @property
    def people(self) -> int:
        return sum(h.people for h in self.holders)

    @property
    def person_days(self) -> int:
        return sum(h.people * h.days for h in self.holders)


def time_cents(minutes: int, hourly_rate: Decimal) -> int:
    return to_cents(Decimal(minutes) * hourly_rate / 60)


def _descendants(parents: Mapping[int, int | None]) -> dict[int, list[int]]:
    """Each unit -> itself and every unit below it (the tree is small: a few hundred)."""
    children: dict[int, list[int]] = defaultdict(list)
    for unit, parent in parents.items():
        if parent is not None:
            children[parent].append(unit)
    out: dict[int, list[int]] = {}
    for unit in parents:
        seen, stack = [], [unit]
        while stack:
            u = stack.pop()
            if u in seen:  # a cycle in bad data: stop rather than loop
                continue
            seen.append(u)
            stack.extend(children.get(u, ()))
        out[unit] = seen
    return out


def _clip(intervals: Iterable[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [(max(a, lo), min(b, hi)) for a, b in intervals if a <= hi and b >= lo]


def compute(inputs: Inputs) -> Allocation:
    """The allocation for `inputs`: per service, its holders and their øre."""
    below = _descendants(inputs.parents)
    dated: dict[int, list[Segment]] = defaultdict(list)
    for seg in inputs.segments:
        dated[seg.person_id].append(seg)
    dated_order = sorted(dated, key=lambda p: (dated[p][0].person_key, p))
    by_service: dict[int, list[SubRow]] = defaultdict(list)
    for row in inputs.subscriptions:
        by_service[row.service_id].append(row)
    result: dict[int, ServiceAllocation] = {}
    for sid, (code, name, lifecycle) in inputs.services.items():
        minutes = inputs.minutes.get(sid, 0)
        alloc = ServiceAllocation(
            sid, code, name, lifecycle, inputs.cost_cents.get(sid, 0),
            time_cents(minutes, inputs.hourly_rate), minutes, [],
        )
        rows = by_service.get(sid, ())
        covered: dict[int, list[tuple[int, int]]] = defaultdict(list)
        own: dict[int, list[tuple[int, int]]] = defaultdict(list)
        own_unit: dict[int, int | None] = {}
        own_key: dict[int, str] = {}
        own_in_group: dict[int, bool] = {}
        for r in rows:
            if r.unit_id is not None:
                for u in below.get(r.unit_id, (r.unit_id,)):
                    covered[u].append((r.lo, r.hi))
            elif r.person_id is not None:
                own[r.person_id].append((r.lo, r.hi))
                own_unit[r.person_id] = r.person_unit_id
                own_key[r.person_id] = r.person_key
                own_in_group[r.person_id] = r.in_group
        personal_in: dict[int | None, int] = defaultdict(int)
        holders: list[Holder] = []
        for pid in sorted(own, key=lambda p: (own_key[p], p)):
            if pid in dated:
                continue
            unit = own_unit[pid]
            if own_in_group[pid]:
                personal_in[unit] += 1
                days = union_days(own[pid] + covered.get(unit, []) if unit is not None
                                  else own[pid])
            else:
                days = union_days(own[pid])
            if days:
                holders.append(Holder(unit, pid, 1, days))
        # People who moved, came or left during the period: each day to that day's unit;
        # their own subscriptions' days outside every segment go to their current unit.
        for pid in dated_order:
            mine = own.get(pid, [])
            inside = 0
            for seg in sorted(dated[pid], key=lambda g: g.lo):
                mine_in = _clip(mine, seg.lo, seg.hi)
                inside += union_days(mine_in)
                unit_cov = _clip(covered.get(seg.unit_id, []), seg.lo, seg.hi) \
                    if seg.unit_id is not None else []
                days = union_days(mine_in + unit_cov)
                if days:
                    holders.append(Holder(seg.unit_id, pid, 1, days))
            rest = union_days(mine) - inside
            if rest:
                holders.append(Holder(own_unit.get(pid), pid, 1, rest))
        groups = []
        for unit in sorted(covered, key=lambda u: (inputs.units.get(u, ("",))[0], u)):
            n = inputs.unit_people.get(unit, 0) - personal_in.get(unit, 0)
            if n > 0:
                days = union_days(covered[unit])
                if days:
                    groups.append(Holder(unit, None, n, days))
        alloc.holders = groups + holders
        shares = largest_remainder(alloc.total_cents,
                                   [h.people * h.days for h in alloc.holders])
        for h, cents in zip(alloc.holders, shares, strict=True):
            h.cents = cents
        result[sid] = alloc
    return Allocation(inputs, result)


@dataclass
class Allocation:
    """The result: per service, who carries how much; org unit totals on demand."""

    inputs: Inputs
    services: dict[int, ServiceAllocation]

    @property
    def period(self) -> Period:
        return self.inputs.period

    def unit_own_cents(self, service_ids: Iterable[int] | None = None) -> dict[int, int]:
        """Per org unit (NO_UNIT for none), what its own people carry (not rolled up)."""
        own: dict[int, int] = defaultdict(int)
        ids = self.services if service_ids is None else service_ids
        for sid in ids:
            for h in self.services[sid].holders:
                own[h.unit_id if h.unit_id is not None else NO_UNIT] += h.cents
        return dict(own)

    def rolled_up(self, own: Mapping[int, int]) -> dict[int, int]:
        """Own amounts summed up the unit tree: each unit gets itself and all below it."""
        below = _descendants(self.inputs.parents)
        return {u: sum(own.get(d, 0) for d in below[u]) for u in self.inputs.parents}

    def unit_service_cents(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(unit, service) -> (people, øre) for each unit's own people."""
        out: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        for sid, alloc in self.services.items():
            for h in alloc.holders:
                cell = out[(h.unit_id if h.unit_id is not None else NO_UNIT, sid)]
                cell[0] += h.people
                cell[1] += h.cents
        return {k: (v[0], v[1]) for k, v in out.items()}

    def person_cents(self, members: Mapping[int | None, Sequence[int]],
                     service_ids: Iterable[int] | None = None,
                     only_units: Container[int | None] | None = None,
                     ) -> dict[int, dict[int, tuple[int, int]]]:
        """person -> service -> (days, øre). `members` lists each unit's people (by id);
        a group's øre are split evenly over its people who hold no subscription of their
        own, in id order."""
        out: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
        ids = self.services if service_ids is None else service_ids
        for sid in ids:
            alloc = self.services[sid]
            personal = {h.person_id for h in alloc.holders if h.person_id is not None}
            for h in alloc.holders:
                if h.person_id is not None:
                    # a person who moved holds one share per unit: add them up
                    d0, c0 = out[h.person_id].get(sid, (0, 0))
                    out[h.person_id][sid] = (d0 + h.days, c0 + h.cents)
                    continue
                if only_units is not None and h.unit_id not in only_units:
                    continue  # a caller who asks about one unit's people (person_detail)
                people = [p for p in members.get(h.unit_id, ()) if p not in personal]
                if len(people) != h.people:  # members changed under us: refuse to guess
                    raise InvalidInput(_("the people of an org unit changed while reading"))
                for pid, cents in zip(people, even_split(h.cents, h.people), strict=True):
                    out[pid][sid] = (h.days, cents)
        return out


# --------------------------------------------------------------------------- loading


def load_inputs(session: Session, period: Period, *, hourly_rate: Decimal, tz: ZoneInfo,
                service_ids: Sequence[int] | None = None) -> Inputs:
    """Read what the allocation needs with a handful of aggregate queries."""
    svc_q = select(col(Service.id), col(Service.code), col(Service.name), col(Service.lifecycle))
    if service_ids is not None:
        svc_q = svc_q.where(col(Service.id).in_(service_ids))
    services = {r[0]: (r[1], r[2], r[3]) for r in session.execute(svc_q)}

    cost_cents: dict[int, int] = defaultdict(int)
    shares = period.year_shares()
    cost_q = (select(col(ServiceCost.service_id), col(ServiceCost.year),
                     func.sum(col(ServiceCost.amount)))
              .where(col(ServiceCost.year).between(period.start.year, period.end.year))
              .group_by(col(ServiceCost.service_id), col(ServiceCost.year)))
    if service_ids is not None:
        cost_q = cost_q.where(col(ServiceCost.service_id).in_(service_ids))
    part = {y: (d, n) for y, d, n in shares}
    per_service: dict[int, Decimal] = defaultdict(Decimal)
    for sid, year, amount in session.execute(cost_q):
        d, n = part[year]
        amount = Decimal(amount or 0)
        per_service[sid] += amount if d == n else amount * d / n
    for sid, amount in per_service.items():
        cost_cents[sid] = to_cents(amount)

    lo, hi = period.utc_bounds(tz)
    minutes: dict[int, int] = defaultdict(int)
    for model, kind in ((Incident, "incident"), (Problem, "problem")):
        q = (select(col(model.service_id), func.sum(col(TicketEvent.minutes)))
             .join(model, and_(col(model.id) == TicketEvent.ticket_id,
                               col(TicketEvent.ticket_type) == kind))
             .where(col(TicketEvent.at) >= lo, col(TicketEvent.at) < hi,
                    col(TicketEvent.minutes).is_not(None), col(model.service_id).is_not(None))
             .group_by(col(model.service_id)))
        if service_ids is not None:
            q = q.where(col(model.service_id).in_(service_ids))
        for sid, total in session.execute(q):
            minutes[sid] += int(total or 0)

    units = {r[0]: (r[1], r[2], r[3]) for r in session.execute(
        select(col(OrgUnit.id), col(OrgUnit.parent_id), col(OrgUnit.code), col(OrgUnit.name)))}
    start_o, end_o = period.start.toordinal(), period.end.toordinal()
    has_history, whole, overlaps = _history_terms(period)
    unit_people: dict[int | None, int] = defaultdict(int)
    for unit, n in session.execute(select(col(Person.org_unit_id), func.count())
                                   .where(~has_history).group_by(col(Person.org_unit_id))):
        unit_people[unit] += int(n)
    for unit, n in session.execute(select(col(H.org_unit_id), func.count()).where(whole)
                                   .group_by(col(H.org_unit_id))):
        unit_people[unit] += int(n)
    segments = []
    for pid, unit, frm, to, uname in session.execute(
            select(col(H.person_id), col(H.org_unit_id), col(H.valid_from), col(H.valid_to),
                   col(Person.username))
            .join(Person, col(Person.id) == H.person_id)
            .where(overlaps, ~whole).order_by(col(H.person_id), col(H.valid_from))):
        first = start_o if frm is None else max(frm.toordinal(), start_o)
        last = end_o if to is None else min(to.toordinal(), end_o)
        if first <= last:
            segments.append(Segment(pid, unit, first, last, uname))

    sub_q = (select(col(Subscription.service_id), col(Subscription.org_unit_id),
                    col(Subscription.person_id), col(Subscription.valid_from),
                    col(Subscription.valid_to), col(Person.org_unit_id),
                    col(Person.username), col(H.id), col(H.org_unit_id), has_history)
             .outerjoin(Person, col(Person.id) == Subscription.person_id)
             .outerjoin(H, and_(col(H.person_id) == Person.id, whole))
             .where(col(Subscription.valid_from) <= period.end,
                    or_(col(Subscription.valid_to).is_(None),
                        col(Subscription.valid_to) >= period.start)))
    if service_ids is not None:
        sub_q = sub_q.where(col(Subscription.service_id).in_(service_ids))
    subs = []
    for sid, unit, pid, frm, to, punit, uname, whole_id, whole_unit, dated in \
            session.execute(sub_q):
        a = max(frm.toordinal(), start_o)
        b = end_o if to is None else min(to.toordinal(), end_o)
        if a <= b and sid in services:
            if whole_id is not None:  # the history puts them in one unit all period
                subs.append(SubRow(sid, unit, pid, whole_unit, a, b, uname or ""))
            else:
                subs.append(SubRow(sid, unit, pid, punit, a, b, uname or "",
                                   in_group=pid is None or not dated))
    return Inputs(
        period=period, services=services, cost_cents=dict(cost_cents), minutes=dict(minutes),
        hourly_rate=hourly_rate, parents={u: v[0] for u, v in units.items()},
        unit_people=dict(unit_people), subscriptions=subs,
        units={u: (v[1], v[2]) for u, v in units.items()}, segments=segments,
    )


H = PersonUnitHistory


def _history_terms(period: Period,
                   ) -> tuple[Exists, ColumnElement[bool], ColumnElement[bool]]:
    """SQL terms: the person has dated history; a row covers the whole period; a row
    overlaps it. (Rows of one person never overlap, so at most one covers the period.)"""
    inner = aliased(PersonUnitHistory)  # the outer query may join H itself
    has_history = (select(col(inner.id)).where(col(inner.person_id) == Person.id)
                   .correlate(Person).exists())
    whole = and_(or_(col(H.valid_from).is_(None), col(H.valid_from) <= period.start),
                 or_(col(H.valid_to).is_(None), col(H.valid_to) >= period.end))
    overlaps = and_(or_(col(H.valid_from).is_(None), col(H.valid_from) <= period.end),
                    or_(col(H.valid_to).is_(None), col(H.valid_to) >= period.start))
    return has_history, whole, overlaps


def group_unit(session: Session, person_id: int, current: int | None, period: Period,
               ) -> tuple[bool, int | None]:
    """(in a group, unit) for one person in `period`: the unit whose people they count
    among, or (False, None) when their dated history changes (or ends) within the period."""
    rows = session.execute(select(col(H.org_unit_id), col(H.valid_from), col(H.valid_to))
                           .where(col(H.person_id) == person_id)).all()
    if not rows:
        return True, current
    for unit, frm, to in rows:
        if (frm is None or frm <= period.start) and (to is None or to >= period.end):
            return True, unit
    return False, None


T = TypeVar("T")


def inputs_version(session: Session) -> int | None:
    """The `costs` counter that triggers move with every change to an allocation input
    (migration 0012); None on a database without it."""
    return session.execute(select(col(InputVersion.n))
                           .where(col(InputVersion.topic) == "costs")).scalar_one_or_none()


class AllocationCache:
    """Figures computed from the cost inputs (whole allocations, usage summaries), each kept
    with the inputs version it was computed under, so a revisit costs one indexed read
    instead of a year's recomputation. Thread-safe (workers share it); the oldest entry
    goes beyond `size`. Callers treat what it returns as read-only, like any other result."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def lookup(self, key: tuple[Any, ...], version: int) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def store(self, key: tuple[Any, ...], version: int, value: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (version, value)
            while len(self._entries) > self.size:
                self._entries.pop(next(iter(self._entries)))


def cached(session: Session, cache: AllocationCache | None, key: tuple[Any, ...],
           make: Callable[[], T]) -> T:
    """`make()`, or what it gave before under the same inputs version. The version is read
    first: a change committed while `make` reads gives a newer version, so an entry is
    never older than its version says."""
    version = inputs_version(session) if cache is not None else None
    if cache is None or version is None:
        return make()
    hit = cache.lookup(key, version)
    if hit is not None:
        return cast(T, hit)
    value = make()
    cache.store(key, version, value)
    return value


def allocate(session: Session, period: Period, *, hourly_rate: Decimal,
             tz: ZoneInfo | str = "Europe/Oslo",
             service_ids: Sequence[int] | None = None,
             cache: AllocationCache | None = None) -> Allocation:
    """One period's allocation (see the module docstring for the rules). With `cache`, the
    whole allocation is computed (`service_ids` is then only what the caller reads) and
    kept until one of its inputs changes."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz

    def make() -> Allocation:
        inputs = load_inputs(session, period, hourly_rate=hourly_rate, tz=zone,
                             service_ids=None if cache is not None else service_ids)
        check_tree(inputs)
        return compute(inputs)

    return cached(session, cache, ("allocation", period.start, period.end, str(hourly_rate),
                                   zone.key), make)


def check_tree(inputs: Inputs) -> None:
    """A loop in the org tree drops its units from every rolled-up total: refuse it, naming
    the units (import and editing refuse loops; this catches data from elsewhere)."""
    from pob_tui.orgtree import cycle_text, find_cycle

    for unit in inputs.parents:
        loop = find_cycle(inputs.parents, unit)
        if loop:
            codes = [inputs.units.get(u, (str(u), ""))[0] for u in loop]
            raise InconsistentData(
                _("the org units form a cycle {cycle}; cost totals would leave them out. Fix "
                  "their parents (pob import org-units) and run the report again").format(
                    cycle=cycle_text(codes)))


def check_adds_up(alloc: Allocation, shown_cents: int, what: str) -> None:
    """allocated + unallocated must equal the total; a mismatch is an error, never a
    smaller figure."""
    total = sum(a.total_cents for a in alloc.services.values())
    if shown_cents != total:
        raise InconsistentData(
            _("{what} add up to {shown} NOK but the services cost {total} NOK; refusing to "
              "show a wrong total").format(what=what, shown=local_number(money(shown_cents)),
                                           total=local_number(money(total))))


def unit_members(session: Session, unit_ids: Iterable[int | None] | None = None,
                 period: Period | None = None) -> dict[int | None, list[int]]:
    """Each unit's people by id (for the per-person split), optionally for some units.

    With `period`, the people a group counts in that period: those without dated history
    by their current unit, and those whose history puts them in one unit all period; people
    who moved during the period are allocated one by one and are not members."""
    if period is None:
        q = (select(col(Person.org_unit_id), col(Person.id))
             .order_by(col(Person.org_unit_id), col(Person.username)))
        if unit_ids is not None:
            ids = [u for u in unit_ids if u is not None]
            q = q.where(col(Person.org_unit_id).in_(ids))
        out: dict[int | None, list[int]] = defaultdict(list)
        for unit, pid in session.execute(q):
            out[unit].append(pid)
        return dict(out)
    has_history, whole, _overlaps = _history_terms(period)
    plain = (select(col(Person.org_unit_id), col(Person.id), col(Person.username))
             .where(~has_history))
    dated = (select(col(H.org_unit_id), col(Person.id), col(Person.username))
             .join(Person, col(Person.id) == H.person_id).where(whole))
    if unit_ids is not None:
        ids = [u for u in unit_ids if u is not None]
        plain = plain.where(col(Person.org_unit_id).in_(ids))
        dated = dated.where(col(H.org_unit_id).in_(ids))
    rows = [*session.execute(plain), *session.execute(dated)]
    rows.sort(key=lambda r: (r[0] is None, r[0] or 0, r[2]))
    grouped: dict[int | None, list[int]] = defaultdict(list)
    for unit, pid, _name in rows:
        grouped[unit].append(pid)
    return dict(grouped)


# --------------------------------------------------------------------------- reports


def _unit_label(inputs: Inputs, unit: int | None) -> tuple[str, str]:
    if unit is None or unit == NO_UNIT:
        return "-", "(no org unit)"
    return inputs.units.get(unit, (str(unit), str(unit)))


def tree_order(parents: Mapping[int, int | None], units: Mapping[int, tuple[str, str]],
               ) -> list[tuple[int, int]]:
    """(unit, depth) in tree pre-order, siblings by code: reads like an org chart."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for u, p in parents.items():
        children[p if p in parents else None].append(u)
    for kids in children.values():
        kids.sort(key=lambda u: units.get(u, ("", ""))[0])
    out: list[tuple[int, int]] = []
    seen: set[int] = set()
    stack = [(u, 0) for u in reversed(children[None])]
    while stack:
        u, depth = stack.pop()
        if u in seen:
            continue
        seen.add(u)
        out.append((u, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(u, [])))
    return out


def costs_by_service(alloc: Allocation) -> list[dict[str, Any]]:
    """One row per service with its total, what was allocated and what was not."""
    rows: list[dict[str, Any]] = []
    for a in sorted(alloc.services.values(), key=lambda a: (-a.total_cents, a.code)):
        people = a.people
        rows.append({
            "code": a.code, "service": a.name, "lifecycle": a.lifecycle,
            "cost_rows": money(a.cost_cents), "agent_hours": round(a.minutes / 60, 1),
            "agent_time": money(a.time_cents), "total": money(a.total_cents),
            "allocated": money(a.allocated_cents), "unallocated": money(a.unallocated_cents),
            "people": people,
            "per_person": money(a.total_cents // people) if people else None,
        })
    return rows


def costs_by_org_unit(alloc: Allocation) -> list[dict[str, Any]]:
    """Org units in tree order; `total` rolls up everything below, `own` is the unit's own
    people. A last row carries the unallocated cost so the column adds up to the total."""
    inputs = alloc.inputs
    own = alloc.unit_own_cents()
    total = alloc.rolled_up(own)
    rows: list[dict[str, Any]] = []
    for unit, depth in tree_order(inputs.parents, inputs.units):
        code, name = inputs.units[unit]
        rows.append({"org_unit": code, "name": name, "depth": depth,
                     "parent": inputs.units[p][0] if (p := inputs.parents[unit]) in
                     inputs.units else None,
                     "own": money(own.get(unit, 0)), "total": money(total[unit])})
    if own.get(NO_UNIT):
        rows.append({"org_unit": "-", "name": "(no org unit)", "depth": 0, "parent": None,
                     "own": money(own[NO_UNIT]), "total": money(own[NO_UNIT])})
    unallocated = sum(a.unallocated_cents for a in alloc.services.values())
    rows.append({"org_unit": "", "name": "(unallocated)", "depth": 0, "parent": None,
                 "own": money(unallocated), "total": money(unallocated)})
    check_adds_up(alloc, sum(to_cents(r["total"]) for r in rows if r["depth"] == 0),
                  _("the org-unit totals"))
    return rows


def costs_by_person(session: Session, alloc: Allocation,
                    unit_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """What each person's access costs in the period (all services), most expensive first."""
    members = unit_members(session, period=alloc.period)
    per = alloc.person_cents(members)
    if unit_ids is not None:
        keep = set(unit_ids)
        allowed = {p for u, ps in members.items() if u in keep for p in ps}
        per = {p: v for p, v in per.items() if p in allowed}
    info = {r[0]: r[1:] for r in session.execute(
        select(col(Person.id), col(Person.username), col(Person.first_name), col(Person.last_name),
               col(Person.org_unit_id)))}
    rows: list[dict[str, Any]] = []
    for pid, services in per.items():
        username, first, last, unit = info[pid]
        cents = sum(c for _d, c in services.values())
        rows.append({"username": username, "name": f"{first} {last}",
                     "org_unit": _unit_label(alloc.inputs, unit)[0],
                     "services": len(services), "total": money(cents), "_c": cents})
    rows.sort(key=lambda r: (-r["_c"], r["username"]))
    for r in rows:
        del r["_c"]
    return rows


def person_detail(session: Session, alloc: Allocation, username: str) -> list[dict[str, Any]]:
    """One person's services: days of access and the share of each service's cost."""
    row = session.execute(select(col(Person.id), col(Person.org_unit_id))
                          .where(col(Person.username) == username)).first()
    if row is None:
        from pob_tui.errors import NotFound

        raise NotFound(_("no person with username {username}").format(username=repr(username)))
    pid, current = row
    in_group, unit = group_unit(session, pid, current, alloc.period)
    members = unit_members(session, [unit], alloc.period) \
        if in_group and unit is not None else {}
    sids = [sid for sid, a in alloc.services.items()
            if any(h.person_id == pid or (in_group and h.person_id is None
                                          and h.unit_id == unit)
                   for h in a.holders)]
    per = alloc.person_cents(members, sids,
                             only_units={unit} if in_group else set()).get(pid, {})
    rows: list[dict[str, Any]] = []
    for sid, (days, cents) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        a = alloc.services[sid]
        rows.append({"code": a.code, "service": a.name, "days": days, "total": money(cents)})
    return rows


def chargeback(session: Session, alloc: Allocation, customer: str | None = None,
               by: str = "service") -> list[dict[str, Any]]:
    """A statement per customer: by default the top-level units (sectors), or the unit
    `customer` (any level, with everything below it). `by` service or person."""
    inputs = alloc.inputs
    below = _descendants(inputs.parents)
    if customer:
        match = [u for u, (code, _n) in inputs.units.items() if code == customer]
        if not match:
            from pob_tui.errors import NotFound

            raise NotFound(_("no org unit with code {code}").format(code=repr(customer)))
        customers = match
    else:
        customers = [u for u, p in inputs.parents.items() if p is None]
    customers.sort(key=lambda u: inputs.units[u][0])
    rows: list[dict[str, Any]] = []
    if by == "person":
        for cust in customers:
            code, name = inputs.units[cust]
            for r in costs_by_person(session, alloc, below[cust]):
                rows.append({"customer": code, "customer_name": name, **r})
        return rows
    cells = alloc.unit_service_cents()
    for cust in customers:
        code, name = inputs.units[cust]
        subtree = set(below[cust])
        sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for (unit, sid), (people, cents) in cells.items():
            if unit in subtree:
                sums[sid][0] += people
                sums[sid][1] += cents
        for sid, (people, cents) in sorted(sums.items(), key=lambda kv: -kv[1][1]):
            a = alloc.services[sid]
            if not cents and not people:
                continue
            rows.append({"customer": code, "customer_name": name, "code": a.code,
                         "service": a.name, "people": people, "amount": money(cents)})
    if not customer:  # every sector: with people outside units and unallocated, the total
        outside = alloc.unit_own_cents().get(NO_UNIT, 0)
        unallocated = sum(a.unallocated_cents for a in alloc.services.values())
        check_adds_up(alloc, sum(to_cents(r["amount"]) for r in rows) + outside + unallocated,
                      _("the chargeback statements"))
    return rows


def _funding_cents(session: Session, period: Period) -> dict[int, int]:
    """What each unit pays today for the period (a year's funding, or its share by days)."""
    from pob_tui.models import Funding

    part = {y: (d, n) for y, d, n in period.year_shares()}
    out: dict[int, Decimal] = defaultdict(Decimal)
    for unit, year, amount in session.execute(
            select(col(Funding.org_unit_id), col(Funding.year), col(Funding.amount))
            .where(col(Funding.year).between(period.start.year, period.end.year))):
        d, n = part[year]
        out[unit] += Decimal(amount) if d == n else Decimal(amount) * d / n
    return {u: to_cents(a) for u, a in out.items()}


def subsidy(session: Session, alloc: Allocation, by: str = "org-unit") -> list[dict[str, Any]]:
    """Today's funding against what each funding unit's people use.

    Every person counts towards the nearest unit at or above their own that has funding.
    `difference` = funding - used: positive pays more than it uses (it subsidises others),
    negative pays less (it is subsidised). With `by="service"`, each service's cost is spread
    over the funding units by their share of all funding (what today's model implicitly
    charges), and set against what their people use of it: the services with the largest
    differences are the ones that carry the cross-subsidy.
    """
    inputs = alloc.inputs
    funding = _funding_cents(session, alloc.period)
    payer: dict[int, int | None] = {}
    for unit in inputs.parents:
        u: int | None = unit
        seen: set[int] = set()
        while u is not None and u not in funding and u not in seen:
            seen.add(u)
            u = inputs.parents.get(u)
        payer[unit] = u if u in funding else None
    cells = alloc.unit_service_cents()
    used: dict[int | None, int] = defaultdict(int)
    used_by_service: dict[tuple[int | None, int], int] = defaultdict(int)
    for (unit, sid), (_people, cents) in cells.items():
        f = payer.get(unit) if unit != NO_UNIT else None
        used[f] += cents
        used_by_service[(f, sid)] += cents
    funders = sorted(funding, key=lambda u: inputs.units.get(u, ("", ""))[0])
    total_funding = sum(funding.values())
    total_used = sum(used.values())

    def label(u: int | None) -> tuple[str, str]:
        return inputs.units.get(u, ("-", "(no funding)")) if u is not None else (
            "-", "(no funding)")

    rows: list[dict[str, Any]] = []
    if by == "service":
        weights = [funding[f] for f in funders]
        for sid, a in sorted(alloc.services.items(), key=lambda kv: kv[1].code):
            allocated = a.allocated_cents
            paid = largest_remainder(allocated, weights) if total_funding > 0 else [0] * len(
                funders)
            for f, p in zip([*funders, None], [*paid, 0], strict=True):
                use = used_by_service.get((f, sid), 0)
                if not use and not p:
                    continue
                code, name = label(f)
                rows.append({"org_unit": code, "name": name, "code": a.code,
                             "service": a.name, "paid": money(p), "used": money(use),
                             "difference": money(p - use), "_d": p - use})
        rows.sort(key=lambda r: (r["org_unit"], -abs(r["_d"]), r["code"]))
        for r in rows:
            del r["_d"]
        return rows
    rows = []
    for f in [*funders, None]:
        if f is None and not used.get(None):
            continue
        code, name = label(f)
        fund, use = funding.get(f, 0) if f is not None else 0, used.get(f, 0)
        diff = fund - use
        rows.append({
            "org_unit": code, "name": name, "funding": money(fund), "used": money(use),
            "difference": money(diff),
            "funding_share": round(fund / total_funding, 4) if total_funding else None,
            "use_share": round(use / total_used, 4) if total_used else None,
            "status": "pays more" if diff > 0 else "pays less" if diff < 0 else "even",
        })
    unallocated = sum(a.unallocated_cents for a in alloc.services.values())
    if unallocated:
        rows.append({"org_unit": "", "name": "(unallocated)", "funding": money(0),
                     "used": money(unallocated), "difference": money(-unallocated),
                     "funding_share": None, "use_share": None, "status": "unallocated"})
    return rows
