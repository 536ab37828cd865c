"""Issue 13 items 12 and 13 in the TUI: a quick call from a template in a few keys, and the
phone ring opening the call form in the answering agent's pob only. Both databases."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from pob_tui.config import Settings
from pob_tui.db import Database, make_engine
from pob_tui.services import ring, templates
from pob_tui.services.identity import SYSTEM_ACTOR, Actor
from tests.tui.conftest import screen_text, settle
from tests.tui.desk_helpers import recorded
from tests.tui.test_desk_flows import build_desk, incident, type_text
from tests.tui.test_desk_stale_dialogs import wait_until

pytestmark = pytest.mark.usefixtures("quick_live")


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    db = Database(make_engine(db_url))
    with db.session() as s:
        templates.add_template(s, SYSTEM_ACTOR, "Passord utløpt", service="M365",
                               summary="Passordet er utløpt", urgency=2, code="solved",
                               resolution="Passord tilbakestilt")
        templates.add_template(s, SYSTEM_ACTOR, "Skriver frakoblet", service="PRINT",
                               summary="Skriveren vises som frakoblet")
    db.dispose()
    return db_url


async def test_quick_call_with_a_template_resolves_in_one_more_key(desk_url,
                                                                  make_app) -> None:
    from pob_tui.tui.screens.queue import QueueScreen
    from pob_tui.tui.screens.templates import TemplatePicker

    app = make_app(desk_url, actor=Actor("anne"))

    said = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # the README's quick call: n kari enter ctrl+g pass enter ctrl+r
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter", "ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, TemplatePicker)
        await type_text(pilot, "pass")
        await settle(pilot)
        assert "Passord utløpt" in screen_text(app) and "Skriver" not in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert "Passordet er utløpt" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "Logged INC-000013, resolved at first line" in said
    inc = incident(desk_url, "INC-000013")
    assert (inc["service"], inc["summary"], inc["status"]) == ("M365", "Passordet er utløpt",
                                                              "resolved")
    assert inc["resolution_code"] == "solved" and inc["first_line"]
    assert (inc["impact"], inc["urgency"]) == (3, 2)


@pytest.mark.both_backends
async def test_ring_opens_the_call_form_in_the_answering_agents_pob_only(desk_url,
                                                                         make_app) -> None:
    from pob_tui.tui.screens.log_call import LogCallScreen
    from pob_tui.tui.screens.queue import QueueScreen
    from pob_tui.tui.widgets.pickers import CallerPicker

    anne = make_app(desk_url, actor=Actor("anne"))
    lars = make_app(desk_url, actor=Actor("lars"))
    settings = Settings(database_url=desk_url)

    def phone_rings(number: str):  # type: ignore[no-untyped-def]
        db = Database(make_engine(desk_url))
        try:
            with db.session() as s:
                return ring.ring(s, SYSTEM_ACTOR, "anne", number, settings=settings, wait=10)
        finally:
            db.dispose()

    async with anne.run_test(size=(120, 30)) as pa, lars.run_test(size=(80, 24)) as pb:
        await settle(pa)
        await settle(pb)
        task = asyncio.create_task(asyncio.to_thread(phone_rings, "+47 912 34 567"))
        await wait_until(pa, lambda: task.done(), "the ring's answer")
        assert task.result().taken and task.result().caller == "kari.n"
        await wait_until(pa, lambda: isinstance(anne.screen, LogCallScreen)
                         and anne.screen.context is not None, "the call form with the caller")
        caller = anne.screen.query_one("#call-caller", CallerPicker)
        assert caller.selected["username"] == "kari.n"
        assert [i["number"] for i in anne.screen.context["open"]][-1] == "INC-000001"
        await settle(pa)
        panel = str(anne.screen.query_one("#call-caller-info", Static).render())
        assert "Kari Nordmann" in panel and "INC-000001" in panel  # her open incidents
        assert "Kari Nordmann (kari.n)" in caller.input.value
        await settle(pb)
        assert isinstance(lars.screen, QueueScreen)  # no effect on another agent
        await pa.press("escape", "d")  # leave the form, discarding it
        await settle(pa)
        task = asyncio.create_task(asyncio.to_thread(phone_rings, "22 33 44 55"))
        await wait_until(pa, lambda: task.done(), "the second ring's answer")
        assert task.result().taken and task.result().caller is None
        await wait_until(pa, lambda: isinstance(anne.screen, LogCallScreen)
                         and anne.screen.query("#call-caller")
                         and anne.screen.query_one("#call-caller", CallerPicker).input.value
                         == "22 33 44 55", "the form with the number to search on")
        assert any("No caller has the number 22 33 44 55" in str(n.message)
                   for n in anne.notes)


async def test_administrator_adds_and_removes_a_template_in_the_tui(desk_url,
                                                                    make_app) -> None:
    from pob_tui.models import Agent, AgentRole, Person
    from pob_tui.tui.screens.templates import TemplatesScreen

    db = Database(make_engine(desk_url))
    with db.session() as s:
        p = Person(username="ada", first_name="Ada", last_name="Admin")
        s.add(p)
        s.flush()
        a = Agent(username="ada", person_id=p.id)
        s.add(a)
        s.flush()
        s.add(AgentRole(agent_id=a.id, role="administrator"))
    app = make_app(desk_url, actor=Actor("ada"))
    said = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "quick-call templates")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TemplatesScreen)
        assert "Passord utløpt" in screen_text(app)
        await pilot.press("a")
        await type_text(pilot, "Konto låst")
        await pilot.press("enter")
        await type_text(pilot, "M365")
        await pilot.press("enter")
        await type_text(pilot, "Kontoen er låst")
        await pilot.press("enter", "enter", "enter")  # no impact, no urgency
        await pilot.press("down", "enter")  # resolution code: solved
        await type_text(pilot, "Låst opp")
        await pilot.press("enter")
        await settle(pilot)
        assert "Template Konto låst saved" in said
        assert "Konto låst" in screen_text(app)
        await pilot.press("x", "y")  # the first row (Konto låst, by name) after asking
        await settle(pilot)
        assert "Template Konto låst removed" in said
    with db.session() as s:
        assert [t.name for t in templates.list_templates(s)] == ["Passord utløpt",
                                                                 "Skriver frakoblet"]
    db.dispose()


@pytest.mark.both_backends
async def test_ring_cli_prints_taken_when_the_agents_pob_takes_it(desk_url, make_app,
                                                                  capfd) -> None:
    """`pob call ringing` run by an administrator while anne's pob runs: her pob takes the
    ring, and the command says so (exit 0) instead of "not taken". (While an app runs,
    Textual routes the process's prints to the real stdout: captured at the fd.)"""
    from pob_tui import i18n
    from pob_tui.cli import main
    from pob_tui.models import Agent, AgentRole, Person
    from pob_tui.services.identity import login_name
    from pob_tui.tui.screens.log_call import LogCallScreen
    from pob_tui.tui.widgets.pickers import CallerPicker

    db = Database(make_engine(desk_url))
    with db.session() as s:  # whoever runs the CLI is an administrator
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Ada", last_name="Admin")
        s.add(p)
        s.flush()
        agent = Agent(username=me, person_id=p.id)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="administrator"))
    db.dispose()
    anne = make_app(desk_url, actor=Actor("anne"))
    capfd.readouterr()
    async with anne.run_test(size=(120, 30)) as pa:
        await settle(pa)
        task = asyncio.create_task(asyncio.to_thread(
            main, ["--db", desk_url, "call", "ringing", "--agent", "anne",
                   "--number", "+47 912 34 567"]))
        await wait_until(pa, lambda: task.done(), "the command's answer")
        i18n.set_language("en")
        assert task.result() == 0
        await wait_until(pa, lambda: isinstance(anne.screen, LogCallScreen)
                         and anne.screen.query("#call-caller")
                         and anne.screen.query_one("#call-caller", CallerPicker).selected
                         is not None, "the call form with the caller")
        assert anne.screen.query_one("#call-caller", CallerPicker).selected[
            "username"] == "kari.n"
    out, err = capfd.readouterr()
    assert out.splitlines() == [
        "taken: anne's pob shows the call from +47 912 34 567 (kari.n)"], (out, err)
