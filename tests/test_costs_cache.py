"""The cost figures' cache (`reports.costs.AllocationCache`, migration 0012): a revisit
reuses the year's allocation, and any change to one of its inputs, however it is written,
makes the next read compute it again. Hypothesis drives random changes and compares the
cached figures with a full computation after each; on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from pob_tui.models import OrgUnit, Person, Service, ServiceCost, Subscription
from pob_tui.reports.costs import Allocation, AllocationCache, Period, allocate
from pob_tui.services import catalog
from pob_tui.services import incidents as svc

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
YEAR = Period.year(2026)
RATE = Decimal(950)


def figures(alloc: Allocation) -> dict[str, Any]:
    """What a report shows from an allocation: per service its total, time and holders."""
    return {a.code: (a.total_cents, a.minutes,
                     sorted((h.unit_id or 0, h.person_id or 0, h.people, h.days, h.cents)
                            for h in a.holders))
            for a in alloc.services.values()}


def both(db, cache: AllocationCache) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        cached = figures(allocate(s, YEAR, hourly_rate=RATE, cache=cache))
    with db.session() as s:
        fresh = figures(allocate(s, YEAR, hourly_rate=RATE))
    return cached, fresh


def _setup(world) -> list[str]:  # type: ignore[no-untyped-def]
    with world.db.session() as s:
        for code, amount in (("M365", "120000.00"), ("PRINT", "36500.00")):
            sid = s.execute(select(Service.id).where(Service.code == code)).scalar_one()
            s.add(ServiceCost(service_id=sid, year=2026, kind="licence", amount=Decimal(amount)))
    numbers = []
    for service in ("PRINT", "M365"):
        with world.db.session() as s:
            numbers.append(svc.create_incident(s, world.anne, svc.NewIncident(
                caller="kari.n", service=service, summary=f"Feil i {service}"), now=NOW).number)
    return numbers


def test_a_revisit_reuses_the_allocation_and_a_change_recomputes_it(world) -> None:
    numbers = _setup(world)
    cache = AllocationCache()
    before, _ = both(world.db, cache)
    assert (cache.hits, cache.misses) == (0, 1)
    both(world.db, cache)
    assert cache.hits == 1  # nothing changed: the year is not allocated again
    with world.db.session() as s:  # a comment without minutes is not a cost input
        svc.comment(s, world.anne, numbers[0], "ringt tilbake", now=NOW)
    cached, fresh = both(world.db, cache)
    assert cache.hits == 2 and cached == fresh == before
    with world.db.session() as s:
        svc.comment(s, world.anne, numbers[0], "byttet toner", work_note=True, minutes=60,
                    now=NOW)
    cached, fresh = both(world.db, cache)
    assert cache.misses == 2 and cached == fresh
    assert cached["PRINT"][1] == before["PRINT"][1] + 60
    # a write pob did not make (a DBA's psql session) is seen too
    with world.db.session() as s:
        s.execute(text("UPDATE service_cost SET amount = amount + 1000"))
    cached, fresh = both(world.db, cache)
    assert cached == fresh and cached["PRINT"][0] == before["PRINT"][0] + 95000 + 100000


def test_the_catalog_reuses_its_figures_until_an_input_changes(world) -> None:
    _setup(world)
    cache = AllocationCache()

    def costs() -> dict[str, Decimal | None]:
        with world.db.session() as s:
            return {r.code: r.yearly_cost for r in catalog.list_services(
                s, year=2026, hourly_rate=RATE, as_of=date(2026, 3, 2), cache=cache)}

    first = costs()
    assert costs() == first and cache.hits == 2  # the allocation and the usage figures
    with world.db.session() as s:
        s.execute(text("UPDATE service_cost SET amount = amount * 2"))
    assert costs() == {code: None if v is None else v * 2 for code, v in first.items()}


OPS = st.lists(st.tuples(
    st.sampled_from(("minutes", "note", "service", "subscribe", "move", "cost", "unit")),
    st.integers(1, 300)), min_size=1, max_size=6)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_cached_and_full_figures_agree_after_random_changes(world, ops) -> None:  # type: ignore[no-untyped-def]
    db = world.db
    with db.session() as s:
        if s.execute(select(ServiceCost.id)).first() is None:
            numbers = None
        else:
            numbers = [n for (n,) in s.execute(text(
                "SELECT number FROM incident ORDER BY id")).all()]
    numbers = numbers or _setup(world)
    cache = AllocationCache()
    both(db, cache)
    for op, n in ops:
        number = numbers[n % len(numbers)]
        with db.session() as s:
            units = s.execute(select(OrgUnit.id).order_by(OrgUnit.id)).scalars().all()
            services = s.execute(select(Service.code).order_by(Service.id)).scalars().all()
            kari = s.get(Person, world.kari_id)
            assert kari is not None
            if op == "minutes":
                svc.comment(s, world.anne, number, "arbeid", work_note=True, minutes=n, now=NOW)
            elif op == "note":
                svc.comment(s, world.anne, number, "notat", now=NOW)
            elif op == "service":
                svc.update_fields(s, world.anne, number, {"service": services[n % 2]}, now=NOW)
            elif op == "subscribe":
                sid = s.execute(select(Service.id).where(
                    Service.code == services[n % 2])).scalar_one()
                start = date.fromordinal(YEAR.start.toordinal() + n)
                if n % 3:
                    s.add(Subscription(service_id=sid, person_id=kari.id, valid_from=start))
                else:
                    s.add(Subscription(service_id=sid, org_unit_id=units[n % len(units)],
                                       valid_from=start))
            elif op == "move":
                kari.org_unit_id = units[n % len(units)]
            elif op == "cost":
                cost = s.execute(select(ServiceCost).order_by(ServiceCost.id)).scalars().first()
                assert cost is not None
                cost.amount = Decimal(n * 100)
            else:
                s.add(OrgUnit(code=f"U{n}-{len(units)}", name="Ny enhet", parent_id=units[0]))
        cached, fresh = both(db, cache)
        assert cached == fresh, op
