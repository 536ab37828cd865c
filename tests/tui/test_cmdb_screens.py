"""The CMDB area, impact lists and outages on screen (Pilot and snapshots, SQLite)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pob_tui.db import Database, make_engine
from pob_tui.services import incidents as svc
from pob_tui.services import outages
from pob_tui.services.identity import Actor
from pob_tui.tui.screens.cmdb import CiScreen, CmdbScreen, ImpactScreen
from tests.test_impact import add_cmdb
from tests.tui.conftest import NOW, screen_text, settle
from tests.tui.test_desk_flows import build_desk, type_text

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture
def sqlite_url(tmp_path, templates) -> str:  # type: ignore[no-untyped-def]
    """Pure UI flows run on SQLite only: a fresh migrated database file."""
    import shutil

    dst = tmp_path / "pob-cmdb.sqlite3"
    shutil.copyfile(templates.sqlite_template("empty", None), dst)
    return f"sqlite:///{dst}"


def _build(url: str, *, outage: bool) -> None:
    world = build_desk(url)
    db = Database(make_engine(url))
    add_cmdb(db)
    if outage:
        with db.session() as s:
            parent = outages.declare(s, world.lars, ci="san-02", summary="SAN-02 nede",
                                     now=NOW - timedelta(minutes=20))
            child = svc.create_incident(s, world.anne, svc.NewIncident(
                caller="ordforer", service="VISMA", summary="Lønn svarer ikke"),
                now=NOW - timedelta(minutes=10))
            outages.link_child(s, world.anne, parent.number, child.number,
                               now=NOW - timedelta(minutes=5))
    db.dispose()


@pytest.fixture
def cmdb_url(sqlite_url: str) -> str:
    _build(sqlite_url, outage=False)
    return sqlite_url


@pytest.fixture
def outage_url(sqlite_url: str) -> str:
    _build(sqlite_url, outage=True)
    return sqlite_url


async def test_list_filter_views_and_tree(cmdb_url, make_app) -> None:
    app = make_app(cmdb_url, actor=Actor("lars"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CmdbScreen)
        assert screen.table.row_count == 8
        await pilot.press("slash")
        await settle(pilot)
        await type_text(pilot, "esx")  # digits typed in the filter stay there
        await settle(pilot)
        assert screen.table.row_count == 1 and "esx-host-07" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("right_square_bracket")  # class view: clients
        await settle(pilot)
        assert "Clients" in screen_text(app) and screen.table.row_count == 4
        await pilot.press("left_square_bracket", "slash")
        await settle(pilot)  # the box takes the focus after a frame; typed sooner, `s` is a view
        await type_text(pilot, "esx")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        ci = app.screen
        assert isinstance(ci, CiScreen) and ci.ci_name == "esx-host-07"
        text = screen_text(app)
        assert "depends on san-02" in text and "runs visma-app01" in text
        # walk down: visma-app01, then expand it (its own relations, both directions)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        node = ci.ci_tree.cursor_node
        assert node is not None and node.data["ci"] == "visma-app01"
        assert [c.data["ci"] for c in node.children] == ["esx-host-07"]
        await pilot.press("down", "enter")  # and one level further, back to the host
        await settle(pilot)
        assert len(ci.ci_tree.cursor_node.children) == 2
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, CiScreen) and app.screen.ci_name == "esx-host-07"


async def test_impact_lists_open(cmdb_url, make_app) -> None:
    app = make_app(cmdb_url, actor=Actor("lars"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "san")
        await settle(pilot)
        await pilot.press("enter", "i")
        await settle(pilot)
        imp = app.screen
        assert isinstance(imp, ImpactScreen)
        assert "visma-app01 runs on esx-host-07 <- depends on san-02" in screen_text(app)
        await pilot.press("right_square_bracket")
        text = screen_text(app)
        assert "Visma lønn <- visma-app01" in text
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert imp.table.row_count == 4  # Mona, Kari, the mayor, Lars
        await pilot.press("left_square_bracket", "left_square_bracket",
                          "left_square_bracket", "G", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CiScreen) and app.screen.ci_name == "visma-app01"


async def test_declare_outage_from_the_cmdb(cmdb_url, make_app) -> None:
    app = make_app(cmdb_url, actor=Actor("lars"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "san")
        await settle(pilot)
        await pilot.press("enter", "o")
        await settle(pilot)
        await pilot.press("enter", "enter")  # the CI is filled in; no service
        await type_text(pilot, "SAN nede")
        await pilot.press("enter")
        await settle(pilot)
    db = Database(make_engine(cmdb_url))
    with db.session() as s:
        [row] = outages.list_outages(s)
    db.dispose()
    assert row.ci == "san-02" and row.summary == "SAN nede" and row.services == ("VISMA",)


async def test_call_form_banner_links_the_call(outage_url, make_app) -> None:
    app = make_app(outage_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "SAN-02 nede" in screen_text(app)  # on top of the queue
        await pilot.press("n")
        await type_text(pilot, "kari")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "OUTAGE" in screen_text(app)
        await pilot.press("tab")
        await type_text(pilot, "Lønn virker ikke")
        await pilot.press("ctrl+l")
        await settle(pilot)
    db = Database(make_engine(outage_url))
    with db.session() as s:
        [row] = outages.list_outages(s)
    db.dispose()
    assert row.children == 2


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_cmdb_list(snap_compare, cmdb_url, make_app, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)

    assert snap_compare(make_app(cmdb_url, actor=Actor("lars")), terminal_size=size,
                        run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_ci_detail_tree(snap_compare, cmdb_url, make_app, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "esx")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(make_app(cmdb_url, actor=Actor("lars")), terminal_size=size,
                        run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_impact_lists(snap_compare, cmdb_url, make_app, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "san")
        await settle(pilot)
        await pilot.press("enter", "i")
        await settle(pilot)
        await pilot.press("right_square_bracket")

    assert snap_compare(make_app(cmdb_url, actor=Actor("lars")), terminal_size=size,
                        run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_queue_with_outage(snap_compare, outage_url, make_app, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(make_app(outage_url, actor=Actor("anne")), terminal_size=size,
                        run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_call_form_banner(snap_compare, outage_url, make_app, size) -> None:
    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(outage_url, actor=Actor("anne")), terminal_size=size,
                        run_before=run)


async def test_create_relate_and_retire_with_live_dependants_by_keys(cmdb_url, make_app
                                                                    ) -> None:
    """A second-line agent registers a CI, relates it, and is asked (naming them) before
    retiring a CI that live CIs rest on; every change is audited."""
    from sqlalchemy import select

    from pob_tui.models import Agent, CiRelation, ConfigItem, TicketEvent

    app = make_app(cmdb_url, actor=Actor("lars"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "fw-09")
        await pilot.press("enter", "enter", "enter", "enter", "enter", "enter")  # class, status
        await type_text(pilot, "SN-0009")
        await pilot.press("enter")
        await settle(pilot)
        assert any("fw-09" in n.message for n in app.notes), [n.message for n in app.notes]

        await pilot.press("slash")
        await type_text(pilot, "esx")
        await settle(pilot)
        await pilot.press("enter", "enter")  # leave the filter, open the CI
        await settle(pilot)
        assert isinstance(app.screen, CiScreen)
        await pilot.press("x")
        await settle(pilot)
        text = screen_text(app)
        assert "visma-app01" in text, text  # the live dependant is named before anything
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("plus")
        await settle(pilot)
        await pilot.press("enter")  # the first relation kind
        await type_text(pilot, "fw-09")
        await pilot.press("enter")
        await settle(pilot)

    db = Database(make_engine(cmdb_url))
    with db.session() as s:
        ci = s.execute(select(ConfigItem).where(ConfigItem.name == "fw-09")).scalar_one()
        assert ci.serial == "SN-0009"
        esx = s.execute(select(ConfigItem).where(ConfigItem.name == "esx-host-07")).scalar_one()
        assert esx.status == "in_use"  # asked, and the answer was no
        assert s.execute(select(CiRelation).where(CiRelation.source_id == esx.id,
                                                  CiRelation.target_id == ci.id)).first()
        kinds = set(s.execute(
            select(TicketEvent.kind).join(Agent, Agent.id == TicketEvent.actor_id)
            .where(TicketEvent.ticket_type == "ci", Agent.username == "lars")).scalars())
    db.dispose()
    assert {"created", "related"} <= kinds, kinds


@pytest.mark.usefixtures("quick_live")
async def test_an_outage_reaches_another_agents_queue_live(cmdb_url, make_app) -> None:
    """Lars declares an outage in his own pob; Anne's open queue shows it on top without a
    key (the live-update channel), and then the child count as calls are linked."""
    import contextlib
    import time

    from textual.worker import WorkerCancelled

    from pob_tui.services.identity import load_actor

    async def until(pilot, cond) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 8
        while not cond():
            assert time.monotonic() < deadline, screen_text(app)
            await pilot.pause(0.05)
            with contextlib.suppress(WorkerCancelled):
                await pilot.app.workers.wait_for_complete()

    app = make_app(cmdb_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "OUTAGE" not in screen_text(app)
        other = Database(make_engine(cmdb_url))  # Lars's own session
        with other.session() as s:
            parent = outages.declare(s, load_actor(s, "lars"), ci="san-02",
                                     summary="SAN-02 nede")
            number = parent.number
        await until(pilot, lambda: "OUTAGE" in screen_text(app)
                    and "SAN-02 nede" in screen_text(app))
        with other.session() as s:
            child = svc.create_incident(s, load_actor(s, "lars"), svc.NewIncident(
                caller="ordforer", service="VISMA", summary="Lønn svarer ikke"))
            outages.link_child(s, load_actor(s, "lars"), number, child.number)
        other.dispose()
        await until(pilot, lambda: "linked: 1" in screen_text(app))


async def test_declare_an_outage_from_an_incident_through_the_palette(cmdb_url, make_app
                                                                      ) -> None:
    """On an incident, the palette's "Declare an outage" starts from that incident: its
    service is the outage's, and the open calls on it (this one too) become its children."""
    from sqlalchemy import select

    from pob_tui.models import Incident
    from pob_tui.services.identity import load_actor
    from pob_tui.tui.screens.incident import IncidentScreen

    db = Database(make_engine(cmdb_url))
    with db.session() as s:
        first = svc.create_incident(s, load_actor(s, "anne"), svc.NewIncident(
            caller="ordforer", service="VISMA", summary="Lønn svarer ikke"), now=NOW)
        number = first.number
    app = make_app(cmdb_url, actor=Actor("lars"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_ticket(number)
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        await pilot.press("ctrl+p")
        await type_text(pilot, "declare an outage")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter", "enter")  # no CI, no service: the incident's
        await type_text(pilot, "Visma nede")
        await pilot.press("enter")
        await settle(pilot)
        assert any("declared" in n.message for n in app.notes), [n.message for n in app.notes]
    with db.session() as s:
        [row] = outages.list_outages(s)
        parent_id = s.execute(select(Incident.parent_id).where(Incident.number == number)
                              ).scalar_one()
        parent = s.execute(select(Incident.number).where(Incident.id == parent_id)
                           ).scalar_one_or_none()
    db.dispose()
    assert row.summary == "Visma nede" and row.services == ("VISMA",)
    assert parent == row.number and row.children == 1
