"""Impact analysis (services/impact.py): the walk against a brute-force one over random
graphs (cycles included), and the lists with their reasons on a hand-made world."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from pob_tui.models import CiRelation, ConfigItem, Service, ServiceCi, Subscription
from pob_tui.services.impact import CONNECTED_FROM, analyse_impact, explain, walk

KINDS = ("depends_on", "runs_on", "connects_to")

graphs = st.integers(min_value=1, max_value=9).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(KINDS)),
             max_size=3 * n, unique=True),
    st.integers(0, n - 1),
    st.integers(0, 5),
))


def brute_force(n: int, edges: list[tuple[int, int, str]], root: int, depth: int
                ) -> dict[int, int]:
    """CI -> length of its shortest explaining path, by relaxing every edge depth times."""
    dist = {root: 0}
    for _ in range(depth):
        for src, dst, _kind in edges:
            if dst in dist and dist[dst] + 1 < dist.get(src, depth + 1):
                dist[src] = dist[dst] + 1
    if depth >= 1:
        for src, dst, kind in edges:
            if src == root and kind == "connects_to" and dst not in dist:
                dist[dst] = 1
    return dist


@pytest.fixture(scope="module")
def graph_db(tmp_path_factory):
    from pob_tui.db import Database

    path = tmp_path_factory.mktemp("impact") / "g.sqlite3"
    from pob_tui.config import Settings

    database = Database.open(Settings(database_url=f"sqlite:///{path}"))
    yield database
    database.dispose()


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=graphs)
def test_walk_matches_brute_force(graph_db, graph) -> None:
    n, edges, root, depth = graph
    edges = [(s, d, k) for s, d, k in edges if s != d]
    with graph_db.engine.connect() as conn:
        from sqlmodel import Session

        with Session(bind=conn) as s:
            s.execute(delete(ServiceCi))
            s.execute(delete(CiRelation))
            s.execute(delete(ConfigItem))
            cis = [ConfigItem(id=i + 1, name=f"ci-{i}", ci_class="server") for i in range(n)]
            s.add_all(cis)
            s.flush()
            s.add_all([CiRelation(source_id=a + 1, target_id=b + 1, kind=k)
                       for a, b, k in edges])
            s.flush()
            reached = walk(s, [root + 1], depth)
            imp = analyse_impact(s, [root + 1], date(2026, 11, 29), depth=depth)
            s.rollback()
    expected = brute_force(n, edges, root, depth)
    assert {cid - 1 for cid in reached} == set(expected)
    assert {c.name for c in imp.cis} == {f"ci-{i}" for i in expected}
    edge_set = {(f"ci-{a}", f"ci-{b}", k) for a, b, k in edges}
    for c in imp.cis:
        # the path explains it: a chain of real relations back to the root, a shortest one
        assert c.path[0] == c.name and c.path[-1] == f"ci-{root}"
        assert len(c.kinds) == len(c.path) - 1 == expected[int(c.name[3:])]
        for (here, there), kind in zip(zip(c.path, c.path[1:], strict=False), c.kinds,
                                       strict=True):
            if kind == CONNECTED_FROM:
                assert (there, here, "connects_to") in edge_set and there == f"ci-{root}"
            else:
                assert (here, there, kind) in edge_set


@pytest.fixture
def iw(world):
    """world + `add_cmdb`."""
    add_cmdb(world.db)
    return world


def add_cmdb(db) -> None:  # type: ignore[no-untyped-def]
    """storage <- server <- app (runs_on/depends_on), a switch with two PCs (one Kari's), a
    service on the app subscribed by the Oppvekst sector and by Lars directly."""
    from pob_tui.models import OrgUnit, Person

    with db.session() as s:
        names = {n: ConfigItem(name=n, ci_class=c) for n, c in (
            ("san-02", "storage"), ("esx-host-07", "server"), ("visma-app01", "application"),
            ("sw-01", "network"), ("pc-01", "client"), ("pc-02", "client"))}
        s.add_all(names.values())
        s.flush()
        ids = {n: c.id for n, c in names.items()}
        for src, kind, dst in (("esx-host-07", "depends_on", "san-02"),
                               ("visma-app01", "runs_on", "esx-host-07"),
                               ("pc-01", "connects_to", "sw-01"),
                               ("pc-02", "connects_to", "sw-01")):
            s.add(CiRelation(source_id=ids[src], target_id=ids[dst], kind=kind))
        svc = Service(code="VISMA", name="Visma lønn", search="visma")
        s.add(svc)
        s.flush()
        s.add(ServiceCi(service_id=svc.id, ci_id=ids["visma-app01"]))
        sector = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP")).scalar_one()
        lars = s.execute(select(Person.id).where(Person.username == "lars")).scalar_one()
        s.add(Subscription(service_id=svc.id, org_unit_id=sector, valid_from=date(2020, 1, 1)))
        s.add(Subscription(service_id=svc.id, person_id=lars, valid_from=date(2020, 1, 1)))
        kari = s.execute(select(Person.id).where(Person.username == "kari.n")).scalar_one()
        names["pc-01"].person_id = kari


def _id(s, name: str) -> int:
    return s.execute(select(ConfigItem.id).where(ConfigItem.name == name)).scalar_one()


def test_lists_with_reasons(iw, backend) -> None:
    from pob_tui.services.impact import people_page

    with iw.db.session() as s:
        imp = analyse_impact(s, [_id(s, "san-02")], date(2026, 11, 29))
        assert [c.name for c in imp.cis] == ["san-02", "esx-host-07", "visma-app01"]
        [svc] = imp.services
        assert svc.code == "VISMA"
        assert explain(svc.name, svc.path, svc.kinds) == (
            "Visma lønn <- visma-app01 runs on esx-host-07 <- depends on san-02")
        [unit] = imp.org_units
        # the sector: Mona in it, Kari and the mayor in its child unit
        assert (unit.code, unit.people, unit.services) == ("OPP", 3, ("VISMA",))
        assert imp.people == 4  # and Lars, subscribing himself
        people = {p.username: (p.reason, p.via) for p in people_page(s, imp)}
        assert people == {"mona.k": ("unit", "Oppvekst"), "kari.n": ("unit", "Oppvekst"),
                          "ordforer": ("unit", "Oppvekst"), "lars": ("subscriber", "VISMA")}
        assert [loc.code for loc in imp.locations] == ["HOSLE"]  # where Kari works
        data = imp.as_json()
        assert data["ci"] == "san-02" and data["services"] == ["VISMA"]
        assert data["org_units"] == ["OPP"] and data["people"] == 4
        assert data["paths"]["VISMA"] == ["visma-app01", "esx-host-07", "san-02"]
        # a PC reaches its switch only; the switch reaches both PCs and Kari, their owner
        pc = analyse_impact(s, [_id(s, "pc-01")])
        assert [(c.name, c.kinds) for c in pc.cis] == [("pc-01", ()),
                                                       ("sw-01", (CONNECTED_FROM,))]
        sw = analyse_impact(s, [_id(s, "sw-01")])
        assert sorted(c.name for c in sw.cis) == ["pc-01", "pc-02", "sw-01"]
        assert sw.people == 1 and [p.reason for p in people_page(s, sw)] == ["owner"]
