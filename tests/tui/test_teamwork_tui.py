"""Team work in the TUI: live queue rows, a detail that follows another agent's change and
shows who else has it open, merging after a conflict, roles greying keys, the audit log,
notifications from the SLA timer, and a save through a killed connection. SQLite and
PostgreSQL (SQLite changes arrive by polling, so waits allow a few seconds)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from textual.worker import WorkerCancelled

from pob_tui.db import Database, make_engine
from pob_tui.models import Agent, AgentRole, Notification, Person, TicketEvent
from pob_tui.services import incidents as svc
from pob_tui.services import presence
from pob_tui.services.identity import Actor, load_actor
from tests.tui.conftest import screen_text, settle
from tests.tui.test_desk_flows import build_desk

pytestmark = [pytest.mark.both_backends, pytest.mark.usefixtures("quick_live")]


@pytest.fixture
def team_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


def change(url: str, fn: Callable) -> None:  # type: ignore[type-arg]
    """Another agent's session: its own engine, like another terminal."""
    db = Database(make_engine(url))
    with db.session() as s:
        fn(s)
    db.dispose()


async def wait_until(pilot, cond: Callable[[], bool], timeout: float = 6.0) -> None:  # type: ignore[no-untyped-def]
    """Live changes come from another connection: wait for them, bounded."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a live change")
        await pilot.pause(0.05)
        with contextlib.suppress(WorkerCancelled):  # a newer change replaced a load
            await pilot.app.workers.wait_for_complete()


def row_text(app, number: str) -> str:  # type: ignore[no-untyped-def]
    table = app.screen.table
    index = table.index_of(number)
    if index is None:
        return ""
    return " ".join(str(v) for v in table._rows[index][1].values())


def grant(url: str, username: str, *roles: str) -> None:
    def add(s) -> None:  # type: ignore[no-untyped-def]
        agent = s.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
        if agent is None:
            p = Person(username=username, first_name=username.title(), last_name="Test")
            s.add(p)
            s.flush()
            agent = Agent(username=username, person_id=p.id)
            s.add(agent)
            s.flush()
        for role in roles:
            s.add(AgentRole(agent_id=agent.id, role=role))

    change(url, add)


async def test_queue_updates_only_the_changed_row(team_url, make_app) -> None:
    app = make_app(team_url, actor=Actor("anne"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        queue = app.screen
        generation, loaded = queue._generation, queue.table.loaded
        assert "INC-000004" in row_text(app, "INC-000004")
        change(team_url, lambda s: svc.update_fields(
            s, load_actor(s, "lars"), "INC-000004", {"summary": "Endret av Lars"}))
        await wait_until(pilot, lambda: "Endret av Lars" in row_text(app, "INC-000004"))
        assert queue._generation == generation  # no full reload for one row
        # Leaving the view ("All open"): the row goes, the others stay.
        change(team_url, lambda s: svc.resolve(s, load_actor(s, "lars"), "INC-000004",
                                               code="solved", note="fikset"))
        await wait_until(pilot, lambda: queue.table.index_of("INC-000004") is None)
        assert queue.table.loaded == loaded - 1 and queue._generation == generation
        # Entering it: a new call appears without a reload.
        change(team_url, lambda s: svc.create_incident(s, load_actor(s, "lars"),
                                                       svc.NewIncident(
            caller="kari.n", service="PRINT", summary="Ny sak fra Lars")))
        await wait_until(pilot, lambda: any(
            "Ny sak fra Lars" in row_text(app, str(k)) for k, _v in queue.table._rows))
        assert queue._generation == generation


async def test_detail_follows_another_agents_change_and_shows_presence(team_url,
                                                                      make_app) -> None:
    from pob_tui.tui.screens.incident import IncidentScreen

    def lars_opens(s) -> None:  # type: ignore[no-untyped-def]
        inc = svc.get_incident(s, "INC-000004")
        presence.open_ticket(s, "incident", inc.id, load_actor(s, "lars").agent_id)

    change(team_url, lars_opens)
    app = make_app(team_url, actor=Actor("anne"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.open_ticket("INC-000004")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        assert "Also open by: lars" in screen_text(app)
        change(team_url, lambda s: svc.comment(s, load_actor(s, "lars"), "INC-000004",
                                               "Sjekket svitsjen"))
        await wait_until(pilot, lambda: "Sjekket svitsjen" in screen_text(app))
        assert "changed by lars" in screen_text(app)
        assert any("changed by lars" in str(n.message) for n in app.notes)
        app.pop_screen()  # leaving the incident removes anne's presence row (a worker)
        await settle(pilot)

    def present(s) -> list[str]:  # type: ignore[no-untyped-def]
        inc = svc.get_incident(s, "INC-000004")
        return presence.who_else(s, "incident", inc.id, None)

    db = Database(make_engine(team_url))
    with db.session() as s:
        assert present(s) == ["lars"]
    db.dispose()


async def test_conflict_merge_field_by_field(team_url, make_app) -> None:
    from pob_tui.tui.screens.dialogs import ConflictDialog

    app = make_app(team_url, actor=Actor("anne"), live_updates=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.open_ticket("INC-000004")
        await settle(pilot)
        original = app.screen.data["summary"]
        change(team_url, lambda s: svc.update_fields(
            s, load_actor(s, "lars"), "INC-000004", {"summary": "Lars sin", "urgency": 1}))
        await pilot.press("m")  # take it, based on what the screen showed
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConflictDialog)
        assert next(iter(dialog.changes)) == "summary"
        await pilot.press("space")  # summary: keep mine
        assert "keep mine" in screen_text(app) and "take theirs" in screen_text(app)
        await pilot.press("m")
        await settle(pilot)
    db = Database(make_engine(team_url))
    with db.session() as s:
        inc = svc.get_incident(s, "INC-000004")
        anne = load_actor(s, "anne")
        assert (inc.summary, inc.urgency) == (original, 1)  # mine kept, theirs taken
        assert inc.assignee_id == anne.agent_id  # and the action itself applied
    db.dispose()


async def test_roles_grey_what_they_cannot_do(team_url, make_app) -> None:
    grant(team_url, "carl", "cab_member")
    for username, vote, chair, log_call in (("anne", None, None, True),
                                            ("carl", True, None, None)):
        app = make_app(team_url, actor=Actor(username), live_updates=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            assert app.screen.check_action("log_call", ()) is log_call
            bindings = {b.binding.action: b.enabled for b in app.screen.active_bindings.values()}
            assert bindings["log_call"] is bool(log_call)
            await pilot.press("4")  # CAB
            await settle(pilot)
            assert app.screen.check_action("vote", ("approve",)) is vote
            assert app.screen.check_action("decide", ()) is chair
            bindings = {b.binding.action: b.enabled for b in app.screen.active_bindings.values()}
            assert bindings["vote('approve')"] is bool(vote)


async def test_audit_screen_filters_and_exports(team_url, make_app, tmp_path: Path,
                                                monkeypatch) -> None:
    from pob_tui.tui.screens.audit import AuditScreen

    grant(team_url, "anne", "administrator")
    app = make_app(team_url, actor=Actor("anne"), live_updates=False, export_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.action_audit_log()
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert app.screen.table.loaded > 10
        await pilot.press("ctrl+f")
        for key in "anne":
            await pilot.press(key)
        await pilot.press("tab")
        for key in "INC-000002":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "INC-000002" in shown and "INC-000001 " not in shown
        await pilot.press("ctrl+e")
        await settle(pilot)
    files = list(tmp_path.glob("pob-audit-*.csv"))
    assert len(files) == 1
    lines = files[0].read_text().splitlines()
    assert lines[0].startswith("at,source,actor,ticket") and len(lines) >= 3
    assert all(",INC-000002," in line for line in lines[1:])


async def test_sla_notifications_are_shown_once(team_url, make_app) -> None:
    def notify_anne(s) -> None:  # type: ignore[no-untyped-def]
        s.add(Notification(agent_id=load_actor(s, "anne").agent_id,
                           text="INC-000001: resolution deadline passed [bold]x"))

    change(team_url, notify_anne)
    app = make_app(team_url, actor=Actor("anne"), live_updates=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        messages = [str(n.message) for n in app.notes]
        assert "INC-000001: resolution deadline passed [bold]x" in messages
        assert app._sla_timer is not None
    db = Database(make_engine(team_url))
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(Notification)
                         .where(Notification.read_at.is_(None))).scalar_one() == 0
    db.dispose()


@pytest.mark.pg_only
async def test_save_through_a_killed_connection_happens_once(team_url, make_app,
                                                             backend: str) -> None:
    app = make_app(team_url, actor=Actor("anne"), live_updates=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.open_ticket("INC-000004")
        await settle(pilot)
        await pilot.press("c")
        for key in "hei":
            await pilot.press(key)
        killer = make_engine(team_url)
        with killer.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            conn.commit()
        killer.dispose()
        await pilot.press("enter")
        await settle(pilot)
        assert any("INC-000004 saved" in str(n.message) for n in app.notes)
    db = Database(make_engine(team_url))
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(TicketEvent)
                         .where(TicketEvent.comment == "hei")).scalar_one() == 1
    db.dispose()
