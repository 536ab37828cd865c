"""Cost allocation: invariants (hypothesis, pure core), a hand-computed case on both
databases, and the permission on cost reports."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pob_tui.cli import main
from pob_tui.models import Agent, AgentRole, OrgUnit, Person, Service, ServiceCost, Subscription
from pob_tui.reports.costs import (
    Inputs,
    Period,
    SubRow,
    allocate,
    compute,
    costs_by_org_unit,
    largest_remainder,
    union_days,
)
from pob_tui.services.identity import login_name

YEAR = Period.year(2025)
S0 = YEAR.start.toordinal()


@st.composite
def worlds(draw):  # type: ignore[no-untyped-def]
    n_units = draw(st.integers(1, 6))
    parents: dict[int, int | None] = {1: None}
    for u in range(2, n_units + 1):
        parents[u] = draw(st.sampled_from(list(range(1, u))))
    unit_people = {u: draw(st.integers(0, 4)) for u in parents}
    people = []  # (pid, unit)
    for u, n in unit_people.items():
        for _ in range(n):
            people.append((len(people) + 1, u))
    services = {s: (f"S{s}", f"svc {s}", "live") for s in range(1, draw(st.integers(1, 3)) + 1)}
    subs = []
    for _ in range(draw(st.integers(0, 8))):
        sid = draw(st.sampled_from(list(services)))
        lo = draw(st.integers(0, 364))
        hi = draw(st.integers(lo, 364))
        if people and draw(st.booleans()):
            pid, unit = draw(st.sampled_from(people))
            subs.append(SubRow(sid, None, pid, unit, S0 + lo, S0 + hi))
        else:
            subs.append(SubRow(sid, draw(st.sampled_from(list(parents))), None, None,
                               S0 + lo, S0 + hi))
    costs = {s: draw(st.integers(-10_000, 10_000_000)) for s in services}
    return Inputs(YEAR, services, costs, {}, Decimal(950), parents, unit_people, subs,
                  {u: (f"U{u}", f"unit {u}") for u in parents}), people


def brute_days(inputs: Inputs, sid: int, pid: int, unit: int) -> int:
    """Days of access by walking every day: the slow, obvious definition."""
    chain = [unit]
    while inputs.parents[chain[-1]] is not None:
        chain.append(inputs.parents[chain[-1]])  # type: ignore[arg-type]
    days = set()
    for r in inputs.subscriptions:
        if r.service_id == sid and (r.person_id == pid or r.unit_id in chain):
            days.update(range(r.lo, r.hi + 1))
    return len(days)


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_allocation_invariants(world) -> None:
    inputs, people = world
    alloc = compute(inputs)
    members: dict[int | None, list[int]] = {}
    for pid, unit in people:
        members.setdefault(unit, []).append(pid)
    per = alloc.person_cents(members)
    for sid, a in alloc.services.items():
        # nothing lost: allocated + unallocated == total, to the øre
        assert a.allocated_cents + a.unallocated_cents == a.total_cents
        days = {pid: brute_days(inputs, sid, pid, unit) for pid, unit in people}
        whole = sum(days.values())
        if whole == 0:
            assert a.allocated_cents == 0
        else:
            assert a.unallocated_cents == 0
        # nothing counted twice: days per person equal the day-by-day union
        got = {pid: v[sid][0] for pid, v in per.items() if sid in v}
        assert got == {p: d for p, d in days.items() if d}
        # proportional to days, within two øre of the exact share
        for pid, d in days.items():
            cents = per.get(pid, {}).get(sid, (0, 0))[1]
            exact = Decimal(a.total_cents) * d / whole if whole else 0
            assert abs(cents - exact) <= 2
        assert sum(v[sid][1] for v in per.values() if sid in v) == a.allocated_cents
    # org unit totals roll up: the roots add up to everything allocated
    rows = costs_by_org_unit(alloc)
    roots = sum(r["total"] for r in rows if r["depth"] == 0)
    total = sum(a.total_cents for a in alloc.services.values())
    assert roots == Decimal(total) / 100


@given(st.integers(-10**9, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_largest_remainder_exact(total: int, weights: list[int]) -> None:
    shares = largest_remainder(total, weights)
    if sum(weights):
        assert sum(shares) == total
        for s, w in zip(shares, weights, strict=True):
            assert abs(s - total * w / sum(weights)) < 1
    else:
        assert shares == [0] * len(weights)


def test_union_days() -> None:
    assert union_days([(1, 10), (5, 12), (14, 14)]) == 13
    assert union_days([]) == 0


def hand_world(db) -> None:  # type: ignore[no-untyped-def]
    """Sector OPP > school HOS (2 people) and office ADM (1 person); service LMS costs
    36,500.00 in 2025. OPP subscribes from 2025-07-02 (183 days), HOS the whole year, and
    Per (in ADM) personally for January (31 days). Service NONE (1,000.00) has nobody."""
    with db.session() as s:
        opp = OrgUnit(code="OPP", name="Oppvekst", kind="sector")
        s.add(opp)
        s.flush()
        hos = OrgUnit(code="HOS", name="Hosle skole", parent_id=opp.id)
        adm = OrgUnit(code="ADM", name="Stab", parent_id=opp.id)
        s.add_all([hos, adm])
        s.flush()
        people = [Person(username=u, first_name=u.title(), last_name="X", org_unit_id=unit.id)
                  for u, unit in (("ada", hos), ("bo", hos), ("per", adm))]
        s.add_all(people)
        lms = Service(code="LMS", name="Læringsplattform")
        none = Service(code="NONE", name="Ingen")
        s.add_all([lms, none])
        s.flush()
        s.add_all([ServiceCost(service_id=lms.id, year=2025, kind="licence",
                               amount=Decimal("36500.00")),
                   ServiceCost(service_id=none.id, year=2025, kind="licence",
                               amount=Decimal("1000.00")),
                   Subscription(service_id=lms.id, org_unit_id=opp.id,
                                valid_from=date(2025, 7, 2)),
                   Subscription(service_id=lms.id, org_unit_id=hos.id,
                                valid_from=date(2020, 1, 1), valid_to=date(2030, 1, 1)),
                   Subscription(service_id=lms.id, person_id=people[2].id,
                                valid_from=date(2025, 1, 1), valid_to=date(2025, 1, 31))])


def test_hand_computed(db) -> None:
    hand_world(db)
    with db.session() as s:
        alloc = allocate(s, YEAR, hourly_rate=Decimal(950))
    by_code = {a.code: a for a in alloc.services.values()}
    lms = by_code["LMS"]
    # ada and bo: 365 days each; per: January (31) + from July 2 (183) = 214 days.
    # 36,500.00 x 365/944 = 14,112.817.. ; x 214/944 = 8,274.364..
    days = sorted((h.days, h.people, h.cents) for h in lms.holders)
    assert days == [(214, 1, 827436), (365, 2, 2822564)]
    assert lms.allocated_cents == 3650000 and lms.unallocated_cents == 0
    assert by_code["NONE"].unallocated_cents == 100000
    rows = {r["org_unit"]: r for r in costs_by_org_unit(alloc)}
    assert rows["OPP"]["total"] == Decimal("36500.00")
    assert rows["HOS"]["total"] == Decimal("28225.64")
    assert rows[""]["total"] == Decimal("1000.00")


def _me(db, roles):  # type: ignore[no-untyped-def]
    with db.session() as s:
        me = login_name(s)
        p = Person(username=f"{me}-p", first_name="Me", last_name="Self")
        s.add(p)
        s.flush()
        a = Agent(username=me, person_id=p.id)
        s.add(a)
        s.flush()
        s.add_all([AgentRole(agent_id=a.id, role=r) for r in roles])


def test_cost_reports_need_costs_read(db, db_url, capsys) -> None:
    hand_world(db)
    _me(db, ["first_line"])
    code = main(["--db", db_url, "report", "costs", "--year", "2025", "--format", "json"])
    _out, err = capsys.readouterr()
    assert code == 5 and "costs.read" in err


def test_costs_json_contract(db, db_url, capsys) -> None:
    hand_world(db)
    _me(db, ["customer_manager"])
    assert main(["--db", db_url, "report", "costs", "--year", "2025", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    lms = next(r for r in rows if r["code"] == "LMS")
    assert {"service", "total", "allocated", "unallocated"} <= set(lms)
    assert lms["total"] == "36500.00" and lms["allocated"] == "36500.00"
    assert lms["unallocated"] == "0.00"
    for by in ("person", "org-unit"):
        assert main(["--db", db_url, "report", "costs", "--year", "2025", "--by", by,
                     "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows and all(isinstance(r["total"], str) for r in rows)
    assert main(["--db", db_url, "report", "costs", "--year", "2025", "--by", "person",
                 "--format", "json"]) == 0
    people = {r["username"]: r["total"] for r in json.loads(capsys.readouterr().out)}
    assert people == {"ada": "14112.82", "bo": "14112.82", "per": "8274.36"}


@pytest.mark.parametrize("report", ["chargeback", "subsidy", "retire", "kpi"])
def test_other_reports_run(db, db_url, capsys, report) -> None:
    hand_world(db)
    _me(db, ["administrator"])
    for fmt in ("table", "csv", "json", "md"):
        code = main(["--db", db_url, "report", report, "--from", "2025-01-01", "--to",
                     "2025-12-31", "--format", fmt])
        out, err = capsys.readouterr()
        assert code == 0, err
        if fmt == "json":
            json.loads(out)
