"""Cost allocation follows a person's dated org unit (person_unit_history): the old unit until
the move day, the new one from it; a leaver is charged until the day they left."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pob_tui.models import (
    OrgUnit,
    Person,
    PersonUnitHistory,
    Service,
    ServiceCost,
    Subscription,
)
from pob_tui.reports.costs import (
    Inputs,
    Period,
    Segment,
    SubRow,
    allocate,
    compute,
    costs_by_person,
    person_detail,
)

YEAR = Period.year(2025)
S0 = YEAR.start.toordinal()


@st.composite
def worlds(draw):  # type: ignore[no-untyped-def]
    """Units in a tree, people who stay, and people who move (disjoint dated segments)."""
    parents: dict[int, int | None] = {1: None}
    for u in range(2, draw(st.integers(1, 5)) + 1):
        parents[u] = draw(st.sampled_from(list(range(1, u))))
    unit_people = {u: draw(st.integers(0, 3)) for u in parents}
    stayers = []
    for u, n in unit_people.items():
        stayers.extend((len(stayers) + 1, u) for _ in range(n))
    movers: dict[int, list[tuple[int, int, int]]] = {}
    for m in range(draw(st.integers(0, 3))):
        pid = 100 + m
        cuts = sorted(set(draw(st.lists(st.integers(0, 364), min_size=1, max_size=4))))
        segs, lo = [], 0
        for cut in [*cuts[1:], 365]:
            if draw(st.booleans()) or not segs:  # some gaps: left and came back
                segs.append((draw(st.sampled_from(list(parents))), lo, cut - 1))
            lo = cut
        movers[pid] = [(u, a, b) for u, a, b in segs if a <= b]
    services = {s: (f"S{s}", f"svc {s}", "live") for s in range(1, draw(st.integers(1, 2)) + 1)}
    everyone = [*(p for p, _u in stayers), *movers]
    subs = []
    for _ in range(draw(st.integers(0, 6))):
        sid = draw(st.sampled_from(list(services)))
        lo = draw(st.integers(0, 364))
        hi = draw(st.integers(lo, 364))
        if everyone and draw(st.booleans()):
            pid = draw(st.sampled_from(everyone))
            unit = dict(stayers).get(pid, movers.get(pid, [(1, 0, 0)])[-1][0] if pid in movers
                                     else 1)
            subs.append(SubRow(sid, None, pid, unit, S0 + lo, S0 + hi, f"p{pid:04d}"))
        else:
            subs.append(SubRow(sid, draw(st.sampled_from(list(parents))), None, None,
                               S0 + lo, S0 + hi))
    segments = [Segment(pid, u, S0 + a, S0 + b, f"p{pid:04d}")
                for pid, segs in movers.items() for u, a, b in segs]
    costs = {s: draw(st.integers(0, 10_000_000)) for s in services}
    inputs = Inputs(YEAR, services, costs, {}, Decimal(950), parents, unit_people, subs,
                    {u: (f"U{u}", f"unit {u}") for u in parents}, segments)
    return inputs, stayers, movers


def chain(parents: dict[int, int | None], unit: int) -> list[int]:
    out = [unit]
    while parents[out[-1]] is not None:
        out.append(parents[out[-1]])  # type: ignore[arg-type]
    return out


def brute(inputs: Inputs, sid: int, pid: int, unit_on) -> dict[int | None, int]:  # type: ignore[no-untyped-def]
    """Unit -> days of access charged there, walking every day of the year."""
    out: dict[int | None, int] = {}
    for day in range(S0, S0 + 365):
        unit = unit_on(day)
        ok = any(r.service_id == sid and r.lo <= day <= r.hi and (
            r.person_id == pid or (unit is not None and r.unit_id is not None
                                   and r.unit_id in chain(inputs.parents, unit)))
            for r in inputs.subscriptions)
        if ok:
            key = unit if unit is not None else next(
                (r.person_unit_id for r in inputs.subscriptions if r.person_id == pid), None)
            out[key] = out.get(key, 0) + 1
    return out


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_dated_allocation_invariants(world) -> None:  # type: ignore[no-untyped-def]
    inputs, stayers, movers = world
    alloc = compute(inputs)
    members: dict[int | None, list[int]] = {}
    for pid, unit in stayers:
        members.setdefault(unit, []).append(pid)
    per = alloc.person_cents(members)
    for sid, a in alloc.services.items():
        assert a.allocated_cents + a.unallocated_cents == a.total_cents
        # each mover's days, unit by unit, equal the day-by-day walk
        for pid, segs in movers.items():
            def unit_on(day: int, segs=segs) -> int | None:
                return next((u for u, lo, hi in segs if S0 + lo <= day <= S0 + hi), None)
            want = {u: d for u, d in brute(inputs, sid, pid, unit_on).items() if d}
            got: dict[int | None, int] = {}
            for h in a.holders:
                if h.person_id == pid:
                    got[h.unit_id] = got.get(h.unit_id, 0) + h.days
            assert got == want
        assert sum(v[sid][1] for v in per.values() if sid in v) == a.allocated_cents


def test_mid_year_move_and_leaver_on_both_databases(db) -> None:  # type: ignore[no-untyped-def]
    """A and B each subscribe all of 2025 to a service of 36,500.00. Ada stays in A, Bo in
    B; Mo moves from A to B on 2025-07-01 (181 days in A, 184 in B); Lea leaves A on
    2025-03-31 (90 days). Person-days: A 365+181+90 = 636, B 365+184 = 549, of 1,185."""
    with db.session() as s:
        a, b = OrgUnit(code="A", name="Enhet A"), OrgUnit(code="B", name="Enhet B")
        s.add_all([a, b])
        s.flush()
        ada = Person(username="ada", first_name="Ada", last_name="A", org_unit_id=a.id)
        bo = Person(username="bo", first_name="Bo", last_name="B", org_unit_id=b.id)
        mo = Person(username="mo", first_name="Mo", last_name="M", org_unit_id=b.id)
        lea = Person(username="lea", first_name="Lea", last_name="L", org_unit_id=a.id,
                     active=False)
        s.add_all([ada, bo, mo, lea])
        s.flush()
        s.add_all([
            PersonUnitHistory(person_id=ada.id, org_unit_id=a.id),
            PersonUnitHistory(person_id=mo.id, org_unit_id=a.id, valid_to=date(2025, 6, 30)),
            PersonUnitHistory(person_id=mo.id, org_unit_id=b.id, valid_from=date(2025, 7, 1)),
            PersonUnitHistory(person_id=lea.id, org_unit_id=a.id, valid_to=date(2025, 3, 31)),
        ])  # Bo has no history: his current unit all year, as before dated history
        svc = Service(code="SVC", name="Fagsystem")
        s.add(svc)
        s.flush()
        s.add_all([ServiceCost(service_id=svc.id, year=2025, kind="licence",
                               amount=Decimal("36500.00")),
                   Subscription(service_id=svc.id, org_unit_id=a.id,
                                valid_from=date(2025, 1, 1)),
                   Subscription(service_id=svc.id, org_unit_id=b.id,
                                valid_from=date(2025, 1, 1))])
    with db.session() as s:
        alloc = allocate(s, YEAR, hourly_rate=Decimal(950))
        ids = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        svc_alloc = next(iter(alloc.services.values()))
        assert svc_alloc.allocated_cents == 3_650_000 and svc_alloc.unallocated_cents == 0
        own = alloc.unit_own_cents()
        assert own[ids["A"]] + own[ids["B"]] == 3_650_000
        assert abs(own[ids["A"]] - 3_650_000 * 636 / 1185) <= 2
        assert abs(own[ids["B"]] - 3_650_000 * 549 / 1185) <= 2
        people = {r["username"]: Decimal(r["total"]) for r in costs_by_person(s, alloc)}
        assert sum(people.values()) == Decimal("36500.00")
        assert abs(people["mo"] - Decimal(36500) * 365 / 1185) <= Decimal("0.02")
        assert abs(people["lea"] - Decimal(36500) * 90 / 1185) <= Decimal("0.02")
        assert people["ada"] == people["bo"]
        assert person_detail(s, alloc, "mo")[0]["days"] == 365
        assert person_detail(s, alloc, "lea")[0]["days"] == 90
        assert person_detail(s, alloc, "ada")[0]["days"] == 365
        # In 2026 Mo is in B all year and Lea is gone: B's people are Bo and Mo.
        later = allocate(s, Period.year(2026), hourly_rate=Decimal(950))
        assert later.inputs.unit_people.get(ids["B"]) == 2
        assert later.inputs.unit_people.get(ids["A"]) == 1
        assert not later.inputs.segments
