"""Issue 13: sub-items the first rounds left without a test (impact and urgency in the call
form, j/k in the CAB agenda, the OLA clock in the explain view, other stale dialogs, `n` on
an empty database)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.models import ChangeRequest
from tests.tui.conftest import screen_text, settle
from tests.tui.test_desk_flows import build_desk, incident, make, open_incident, type_text


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


def _levels_line(app) -> str:  # type: ignore[no-untyped-def]
    return next(line for line in screen_text(app).splitlines() if "Urgency" in line)


async def test_impact_and_urgency_show_their_values_while_and_after_editing(
        desk_url, make_app) -> None:
    from textual.widgets import Input

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")
        await type_text(pilot, "print")
        await pilot.press("enter")
        await type_text(pilot, "Skanner sender ikke")
        await settle(pilot)
        assert re.search(r"Impact\s+3\s+Urgency\s+3\s", _levels_line(app))
        await pilot.press("tab", "tab", "tab")  # details, CI, impact
        await settle(pilot)
        assert app.focused is app.screen.query_one("#call-impact", Input)
        assert re.search(r"Impact\s+3\s+Urgency", _levels_line(app))  # not hidden by focus
        await pilot.press("backspace", "1")
        await settle(pilot)
        assert re.search(r"Impact\s+1\s+Urgency", _levels_line(app)), _levels_line(app)
        await pilot.press("tab", "backspace", "2")
        await settle(pilot)
        assert re.search(r"Impact\s+1\s+Urgency\s+2\s+→ P\d", _levels_line(app)), \
            _levels_line(app)
        await pilot.press("tab")  # leaving the field keeps them shown
        await settle(pilot)
        assert re.search(r"Impact\s+1\s+Urgency\s+2\s+→ P\d", _levels_line(app)), \
            _levels_line(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await open_incident(pilot, "INC-000013")
        assert "impact 1, urgency 2" in screen_text(app)
    inc = incident(desk_url, "INC-000013")
    assert (inc["impact"], inc["urgency"]) == (1, 2)


@pytest.fixture
def cab_url(shell_url: str) -> str:
    from tests.tui.test_cab_screens import fill_changes

    fill_changes(shell_url)
    return shell_url


async def test_j_and_k_move_the_cursor_in_the_cab_agenda(cab_url, make_app) -> None:
    from pob_tui.models import CabDecision
    from pob_tui.tui.screens.cab import CabScreen

    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, CabScreen)
        table = app.screen.query_one("#cab-items")
        numbers = [item["number"] for item in app.screen.data["items"]]
        assert len(numbers) == 3 and table.cursor_row == 0

        def detail() -> str:
            return str(app.screen.query_one("#cab-detail").render())

        assert detail().startswith(numbers[0])
        await pilot.press("j")
        assert table.cursor_row == 1 and detail().startswith(numbers[1])
        await pilot.press("j", "j")  # stops at the last row
        assert table.cursor_row == 2 and detail().startswith(numbers[2])
        await pilot.press("k")
        assert table.cursor_row == 1 and detail().startswith(numbers[1])
        await pilot.press("a")  # a vote goes to the row j/k chose
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("k", "k")  # stops at the first row
        assert table.cursor_row == 0 and detail().startswith(numbers[0])
    database = Database(make_engine(cab_url))
    with database.session() as s:
        voted = s.execute(select(ChangeRequest.number).join(
            CabDecision, CabDecision.change_id == ChangeRequest.id)).scalars().all()
    database.dispose()
    assert voted == [numbers[1]]


async def test_explain_shows_the_ola_clock_of_the_team_with_dated_segments(desk_url,
                                                                          make_app) -> None:
    from pob_tui.models import OlaTarget, Team
    from pob_tui.services import sla
    from pob_tui.tui.screens.dialogs import ExplainDialog

    db = Database(make_engine(desk_url))
    with db.session() as s:  # Nettverk promises the desk one working day (465 min)
        net = s.execute(select(Team).where(Team.code == "NETT")).scalar_one()
        s.add_all([OlaTarget(team_id=net.id, priority=p, response_minutes=60,
                             resolution_minutes=465) for p in range(1, 6)])
    db.dispose()
    sla.invalidate()  # targets changed behind this process's back
    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        await pilot.press("x")  # escalate to Nettverk: its OLA clock starts now
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "Svitsj i kjelleren")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExplainDialog)
        await pilot.press("end")  # the OLA clock comes after response and resolution
        await settle(pilot)
        lines = [line.strip(" │") for line in screen_text(app).splitlines()]
        head = next(i for i, line in enumerate(lines) if line.startswith("OLA"))
        # NOW is Friday 27.11 10:30 in Oslo; 465 working minutes later is Monday 10:30
        assert lines[head] == "OLA · Nettverk  target 1 wd, due Mon 30.11 10:30"
        assert lines[head + 1:head + 4] == [
            "Fri 27.11.2026 10:30–15:45  counted",
            "Fri 27.11.2026 15:45–Mon 30.11 08:00  closed",
            "Mon 30.11.2026 08:00–10:30  counted",
        ]
        await pilot.press("home")  # the customer's clocks are still there
        await settle(pilot)
        text = screen_text(app)
        assert "Response  target" in text and "Resolution  target" in text


async def test_n_on_an_empty_database_says_how_to_become_the_first_agent(
        db_url, make_app, capsys) -> None:
    """No agents at all (a fresh database): `n` says how to become an agent, and doing
    what it says works, after which `n` opens the call form."""
    import asyncio
    import shlex

    from pob_tui import i18n
    from pob_tui.cli import main
    from pob_tui.services.identity import Actor
    from pob_tui.tui.screens.log_call import LogCallScreen
    from pob_tui.tui.screens.queue import QueueScreen
    from pob_tui.tui.screens.startup import WelcomeScreen

    app = make_app(db_url, actor=Actor("stranger"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("escape")  # start empty
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        said = [n.message for n in app.notes if "pob agent add stranger" in n.message]
        assert said, [n.message for n in app.notes]
    command = said[-1][said[-1].index("pob agent add"):]
    args = shlex.split(command)[1:]
    try:
        code = await asyncio.to_thread(main, ["--db", db_url, *args])
    finally:
        i18n.set_language("en")
    assert code == 0, capsys.readouterr().err
    app = make_app(db_url, actor=Actor("stranger"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, LogCallScreen)


async def test_n_with_an_administrator_says_to_ask_one(desk_url, make_app) -> None:
    """Once pob has an administrator, a newcomer cannot add themselves: the hint says an
    administrator adds them."""
    from pob_tui.models import Agent, AgentRole
    from pob_tui.services.identity import Actor

    db = Database(make_engine(desk_url))
    with db.session() as s:
        anne = s.execute(select(Agent).where(Agent.username == "anne")).scalar_one()
        s.add(AgentRole(agent_id=anne.id, role="administrator"))
    db.dispose()
    app = make_app(desk_url, actor=Actor("stranger"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
    said = [n.message for n in app.notes if "pob agent add stranger" in n.message]
    assert said and "An administrator adds you" in said[-1]
    assert "--role first_line" in said[-1] and "--role administrator" not in said[-1]
