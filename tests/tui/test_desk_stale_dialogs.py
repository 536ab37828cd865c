"""Issue 13 item 6: a dialog saves on the version it was opened on. Another agent's pob or
the CLI changing the incident while the dialog is open leads to the conflict view, never to
a silent overwrite; also after the live update refreshed the screen. Both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.services.identity import Actor
from tests.tui.conftest import screen_text, settle
from tests.tui.desk_helpers import recorded
from tests.tui.test_desk_flows import (
    build_desk,
    incident,
    open_incident,
)

pytestmark = pytest.mark.usefixtures("quick_live")


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


async def wait_until(pilot, check, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll `check` while the app runs (workers, live updates), at most ~10 s."""
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.1)
        await pilot.pause()
    raise AssertionError(f"timed out waiting for {what}")


async def wait_for_version(pilot, screen, version: int) -> None:  # type: ignore[no-untyped-def]
    """Until the live update brought the other change onto `screen` (at most ~8 s)."""
    for _ in range(80):
        if screen.data and screen.data["version"] > version:
            return
        await asyncio.sleep(0.1)
        await pilot.pause()
    raise AssertionError("the live update did not arrive")


@pytest.mark.both_backends
async def test_two_agents_stale_assign_dialog_meets_the_conflict(desk_url, make_app) -> None:
    from pob_tui.tui.screens.dialogs import ConflictDialog, FormDialog
    from pob_tui.tui.screens.incident import IncidentScreen

    anne = make_app(desk_url, actor=Actor("anne"))
    lars = make_app(desk_url, actor=Actor("lars"))
    said_lars = recorded(lars)
    async with anne.run_test(size=(80, 24)) as pa, lars.run_test(size=(80, 24)) as pb:
        await settle(pa)
        await settle(pb)
        await open_incident(pa, "INC-000004")
        screen = anne.screen
        assert isinstance(screen, IncidentScreen)
        version = screen.data["version"]
        await pa.press("a")  # anne opens the assign dialog...
        await settle(pa)
        assert isinstance(anne.screen, FormDialog)
        await open_incident(pb, "INC-000004")
        await wait_until(pb, lambda: isinstance(lars.screen, IncidentScreen)
                         and lars.screen.data is not None, "lars's incident screen")
        await pb.press("m")  # ...lars takes the incident meanwhile in his own pob
        await wait_until(pb, lambda: "INC-000004 saved" in said_lars, "lars's save")
        await wait_for_version(pa, screen, version)  # anne's screen refreshed under it
        await pa.press("enter", "enter")  # "Me", no person: save
        await settle(pa)
        assert isinstance(anne.screen, ConflictDialog)
        text = screen_text(anne)
        assert "changed by lars" in text and "assignee" in text
        await pa.press("r")
        await settle(pa)
    assert incident(desk_url, "INC-000004")["assignee"] == "lars"


@pytest.mark.both_backends
async def test_cli_change_while_the_dialog_is_open_meets_the_conflict(desk_url,
                                                                     make_app) -> None:
    from pob_tui.cli import main
    from pob_tui.models import Agent, AgentRole, Person
    from pob_tui.services.identity import login_name
    from pob_tui.tui.screens.dialogs import ConflictDialog, FormDialog

    db = Database(make_engine(desk_url))
    with db.session() as s:  # whoever runs the CLI is a second-line agent
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Cli", last_name="Agent")
        s.add(p)
        s.flush()
        team = s.execute(select(Agent.team_id).where(Agent.username == "lars")).scalar()
        agent = Agent(username=me, person_id=p.id, team_id=team)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="first_line"))
    db.dispose()
    app = make_app(desk_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        code = await asyncio.to_thread(main, ["--db", desk_url, "incident", "update",
                                              "INC-000004", "--team", "NETT"])
        assert code == 0
        await pilot.press("down", "enter", "enter")  # Servicedesk's neighbour... any team
        await settle(pilot)
        assert isinstance(app.screen, ConflictDialog)
        assert "team" in screen_text(app)
    assert incident(desk_url, "INC-000004")["team"] == "Nettverk"


@pytest.mark.both_backends
async def test_two_agents_stale_resolve_dialog_meets_the_conflict(desk_url,
                                                                 make_app) -> None:
    """Not only the assign dialog: the resolve dialog too saves on the version it was
    opened on (every incident dialog goes through the same `_ask`)."""
    from pob_tui.tui.screens.dialogs import ConflictDialog, FormDialog
    from pob_tui.tui.screens.incident import IncidentScreen

    anne = make_app(desk_url, actor=Actor("anne"))
    lars = make_app(desk_url, actor=Actor("lars"))
    said_lars = recorded(lars)
    async with anne.run_test(size=(80, 24)) as pa, lars.run_test(size=(80, 24)) as pb:
        await settle(pa)
        await settle(pb)
        await open_incident(pa, "INC-000004")
        screen = anne.screen
        assert isinstance(screen, IncidentScreen)
        version = screen.data["version"]
        await pa.press("r")  # anne opens the resolve dialog...
        await settle(pa)
        assert isinstance(anne.screen, FormDialog)
        await open_incident(pb, "INC-000004")
        await wait_until(pb, lambda: isinstance(lars.screen, IncidentScreen)
                         and lars.screen.data is not None, "lars's incident screen")
        await pb.press("m")  # ...lars takes the incident meanwhile
        await wait_until(pb, lambda: "INC-000004 saved" in said_lars, "lars's save")
        await wait_for_version(pa, screen, version)
        await pa.press("enter")  # code: solved
        await pa.press(*"Byttet")
        await pa.press("enter")
        await settle(pa)
        assert isinstance(anne.screen, ConflictDialog)
        text = screen_text(anne)
        assert "changed by lars" in text and "assignee" in text
        await pa.press("escape")  # close: nothing of anne's was written
        await settle(pa)
    inc = incident(desk_url, "INC-000004")
    assert inc["assignee"] == "lars" and inc["status"] != "resolved"
    assert inc["resolution_note"] is None


@pytest.mark.both_backends
async def test_cli_change_while_the_escalate_dialog_is_open_then_merge(desk_url,
                                                                      make_app) -> None:
    """The escalate dialog opened before the CLI changed the urgency: the conflict view,
    and `m` takes the CLI's urgency and escalates on top of it."""
    from pob_tui.cli import main
    from pob_tui.models import Agent, AgentRole, Person
    from pob_tui.services.identity import login_name
    from pob_tui.tui.screens.dialogs import ConflictDialog, FormDialog
    from pob_tui.tui.screens.incident import IncidentScreen

    db = Database(make_engine(desk_url))
    with db.session() as s:  # whoever runs the CLI is a first-line agent
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Cli", last_name="Agent")
        s.add(p)
        s.flush()
        team = s.execute(select(Agent.team_id).where(Agent.username == "anne")).scalar()
        agent = Agent(username=me, person_id=p.id, team_id=team)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="first_line"))
    db.dispose()
    before = incident(desk_url, "INC-000004")
    assert (before["urgency"], before["escalation_level"]) == (3, 0)
    app = make_app(desk_url, actor=Actor("anne"))
    said = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        version = screen.data["version"]
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        code = await asyncio.to_thread(main, ["--db", desk_url, "incident", "update",
                                              "INC-000004", "--urgency", "1"])
        assert code == 0
        await wait_for_version(pilot, screen, version)  # the screen refreshed under it
        await pilot.press("enter")  # Nettverk, the only second-line team
        await pilot.press(*"Svitsj")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConflictDialog)
        assert "urgency: 3 -> 1" in screen_text(app)
        assert incident(desk_url, "INC-000004")["escalation_level"] == 0  # nothing yet
        await pilot.press("m")  # take theirs, then escalate on top
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert "INC-000004 escalated" in said
    inc = incident(desk_url, "INC-000004")
    assert (inc["team"], inc["escalation_level"], inc["urgency"]) == ("Nettverk", 1, 1)
