"""Issue 13, items 8 and 9: what was left after the first rounds (reports at 80 columns,
pastes into the summary, names in the timeline, confirmations, theme, export folder)."""

from __future__ import annotations

import re

import pytest

from pob_tui.services.identity import Actor
from tests.tui.conftest import screen_text, settle
from tests.tui.test_catalog_screens import _admin
from tests.tui.test_desk_flows import build_desk, make, type_text


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


async def test_chargeback_at_80_columns_shows_the_amounts_first(demo_app_url,
                                                                make_app) -> None:
    from textual.widgets import DataTable

    _admin(demo_app_url)
    app = make_app(demo_app_url, actor=Actor("boss"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        rows = screen._rows
        assert rows
        table = screen.query_one("#reports-table", DataTable)
        assert str(next(iter(table.columns.values())).label) == "Amount"
        first = rows[0]["amount"]
        grouped = f"{first:,.0f}".replace(",", " ")
        text = screen_text(app)
        assert grouped in text, text
        assert re.search(r"\d{1,3} \d{3}", text)  # grouped like the catalog
        assert str(first) not in text  # not the raw "14589434.00"
        await pilot.press("s")  # the subsidy view: shares as percent
        await settle(pilot)
        cells = [str(c) for r in range(table.row_count) for c in table.get_row_at(r)]
        assert any(re.fullmatch(r"\d+\.\d %", c) for c in cells), cells


async def test_a_long_paste_into_the_summary_is_cut_and_the_rest_kept(desk_url,
                                                                     make_app) -> None:
    from textual import events
    from textual.widgets import Input, TextArea

    from tests.tui.desk_helpers import recorded

    long = " ".join(f"word{i:03d}" for i in range(60))  # 479 characters
    app = make(make_app, desk_url)
    said = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")
        await type_text(pilot, "print")
        await pilot.press("enter")
        await settle(pilot)
        summary = app.screen.query_one("#call-summary", Input)
        assert summary.has_focus
        summary.post_message(events.Paste(long))
        await settle(pilot)
        details = app.screen.query_one("#call-description", TextArea)
        assert 150 < len(summary.value) <= 200 and long.startswith(summary.value)
        assert f"{summary.value} {details.text}" == long  # nothing lost, nothing moved
        assert any("the rest of the paste is in Details" in s for s in said), said
        await pilot.press("ctrl+s")
        await settle(pilot)
    from tests.tui.test_desk_flows import incident

    inc = incident(desk_url, "INC-000013")
    assert inc["summary"] == summary.value


async def test_a_paste_with_control_sequences_keeps_its_order(desk_url, make_app) -> None:
    from textual import events
    from textual.widgets import Input

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")
        await type_text(pilot, "print")
        await pilot.press("enter")
        await type_text(pilot, "Feil: ")
        summary = app.screen.query_one("#call-summary", Input)
        summary.post_message(events.Paste(
            "\x1b[31mrød\x1b[0m skjerm\x1b]0;title\x07 etter\x07 \x1b[2Joppdatering\x08"))
        await settle(pilot)
        await type_text(pilot, " nå")
        assert summary.value == "Feil: rød skjerm etter␇ oppdatering␈ nå"
        assert "\x1b" not in summary.value


async def test_catalog_x_asks_before_retiring(demo_app_url, make_app) -> None:
    from sqlalchemy import select

    from pob_tui.db import Database, make_engine
    from pob_tui.models import Service
    from pob_tui.tui.screens.catalog import CatalogScreen
    from pob_tui.tui.screens.dialogs import ConfirmDialog

    def lifecycle(code: str) -> str:
        db = Database(make_engine(demo_app_url))
        with db.session() as s:
            value = s.execute(select(Service.lifecycle).where(Service.code == code)).scalar_one()
        db.dispose()
        return value

    _admin(demo_app_url)
    app = make_app(demo_app_url, actor=Actor("boss"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        code = app.screen.table.row_key_at_cursor()
        before = lifecycle(code)
        assert before != "retiring"
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "draft a change" in screen_text(app)
        await pilot.press("n")  # no: nothing happens
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen) and lifecycle(code) == before
        await pilot.press("x", "escape")
        await settle(pilot)
        assert lifecycle(code) == before
        await pilot.press("x", "y")
        await settle(pilot)
        assert lifecycle(code) == "retiring"


async def test_change_list_s_asks_before_submitting(shell_url, make_app) -> None:
    from sqlalchemy import select

    from pob_tui.db import Database, make_engine
    from pob_tui.models import Agent, AgentRole, ChangeRequest
    from pob_tui.services.changes import lifecycle
    from pob_tui.services.identity import load_actor
    from pob_tui.tui.screens.dialogs import ConfirmDialog
    from tests.tui.conftest import NOW

    db = Database(make_engine(shell_url))
    with db.session() as s:
        agent = s.execute(select(Agent).where(Agent.username == "agent1")).scalar_one()
        s.add(AgentRole(agent_id=agent.id, role="change_manager"))
    with db.session() as s:
        number = lifecycle.create_change(s, load_actor(s, "agent1"), lifecycle.NewChange(
            title="Move printer", cis=["prn-01"], planned_start="2026-12-08 18:00",
            planned_end="2026-12-08 19:00", implementation_plan="plan",
            backout_plan="back"), now=NOW).number

    def status() -> str:
        with db.session() as s:
            return s.execute(select(ChangeRequest.status)
                             .where(ChangeRequest.number == number)).scalar_one()

    app = make_app(shell_url)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert number in screen_text(app)
            await pilot.press("n")
            await settle(pilot)
            assert status() == "draft"
            await pilot.press("s", "enter")
            await settle(pilot)
            assert status() != "draft"  # submitted (on to the CAB)
    finally:
        db.dispose()


async def test_timeline_names_teams_and_agents_not_ids(desk_url, make_app) -> None:
    from datetime import timedelta

    from pob_tui.db import Database, make_engine
    from pob_tui.services import incidents as svc
    from pob_tui.services.identity import load_actor
    from tests.tui.conftest import NOW
    from tests.tui.test_desk_flows import open_incident

    db = Database(make_engine(desk_url))
    with db.session() as s:
        svc.assign(s, load_actor(s, "anne"), "INC-000001", team="NETT",
                   now=NOW - timedelta(hours=1))
    db.dispose()
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000001")
        await settle(pilot)
        text = screen_text(app)
    assert "assignee: – -> " in text, text
    assert not re.search(r"(assignee|team|service): [\d–]+ -> \d", text), text
    assert re.search(r"team: Servicedesk -> Nettverk", text), text


async def test_light_theme_is_remembered_and_at_risk_reads(desk_url, make_app) -> None:
    import json
    import stat

    from rich.style import Style

    from pob_tui.config import state_path
    from pob_tui.tui.widgets.sla_badge import MIN_CONTRAST, contrast

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.theme == "textual-light"
    path = state_path()
    assert json.loads(path.read_text())["theme"] == "textual-light"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "theme" not in (app.settings.config_path.read_text()
                           if app.settings.config_path else "")
    again = make(make_app, desk_url)  # the next run starts light
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "textual-light"
        styles = again.screen._styles
        at_risk: Style = styles["at_risk"]
        surface = again.theme_variables["surface"]
        assert at_risk.color is not None
        assert contrast(at_risk.color.get_truecolor().hex, surface) >= MIN_CONTRAST


async def test_exports_go_to_the_export_dir_created_private(demo_app_url, make_app,
                                                            tmp_path, monkeypatch) -> None:
    import stat

    _admin(demo_app_url)
    started_in = tmp_path / "cwd"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    folder = tmp_path / "home" / "Dokumenter" / "pob"  # missing: created 0700
    app = make_app(demo_app_url, actor=Actor("boss"), export_dir=folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)  # an export is of the report on screen
        await pilot.press("e")
        await settle(pilot)
    written = list(folder.glob("pob-chargeback-*.csv"))
    assert len(written) == 1, [n.message for n in app.notes]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
    assert list(started_in.iterdir()) == []  # nothing in the folder pob was started in


def test_export_dir_defaults_to_the_documents_folder(monkeypatch, tmp_path) -> None:
    import platformdirs

    from pob_tui.config import Settings, load_settings

    monkeypatch.setattr(platformdirs, "user_documents_dir", lambda: str(tmp_path / "Docs"))
    assert Settings().export_path == tmp_path / "Docs"
    config = tmp_path / "config.toml"
    config.write_text('[general]\nexport_dir = "~/eksport"\n')
    settings = load_settings(config_path=config)
    assert settings.export_path == __import__("pathlib").Path("~/eksport").expanduser()


async def test_export_in_a_serve_session_shows_the_ssh_command(demo_app_url, make_app,
                                                               tmp_path) -> None:
    from dataclasses import replace

    from pob_tui.config import Settings

    _admin(demo_app_url)
    server_folder = tmp_path / "server-exports"
    settings = replace(Settings(database_url=demo_app_url, export_dir=str(server_folder)),
                       serve_listen="pob.kommune.example:2222")
    app = make_app(demo_app_url, actor=Actor("boss"), settings=settings,
                   serve_record="serve-session-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)  # an export is of the report on screen (next test)
        await pilot.press("e")
        await settle(pilot)
        start, end = app.screen._period.start, app.screen._period.end
        said = " ".join(n.message for n in app.notes)
    assert (f"ssh -p 2222 pob.kommune.example report chargeback --by service --from {start} "
            f"--to {end} --format csv > pob-chargeback-{start}-{end}.csv") in said, said
    assert not server_folder.exists()  # nothing written on the server


async def test_export_while_another_report_loads_writes_nothing(demo_app_url, make_app,
                                                                tmp_path, monkeypatch) -> None:
    """`b` then `e` before the chargeback has loaded: the dashboard's rows are still on
    screen. The export once wrote them under the chargeback's name and the dashboard's
    period (found by a full run: a typed-ahead `e`); now it says to wait and writes nothing,
    and once the report shows, `e` exports it."""
    from pob_tui.config import Settings
    from pob_tui.services import reporting
    from tests.tui.test_keystrokes import record, until

    _admin(demo_app_url)
    folder = tmp_path / "exports"
    reports = record(monkeypatch, "build_report", module=reporting)
    app = make_app(demo_app_url, actor=Actor("boss"),
                   settings=Settings(database_url=demo_app_url, export_dir=str(folder)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        reports.hold_when = lambda _kw: True
        try:
            await pilot.press("b")
            await until(pilot, lambda: len(reports.held) == 1, "the chargeback to load")
            await pilot.press("e")
            await pilot.pause()
            assert any("still loading" in n.message for n in app.notes), app.notes
        finally:
            reports.release.set()
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        start, end = app.screen._period.start, app.screen._period.end
    files = sorted(p.name for p in folder.glob("*.csv"))
    assert files == [f"pob-chargeback-{start}-{end}.csv"], files


async def test_cab_and_audit_exports_in_a_serve_session_show_ssh_commands(shell_url, make_app,
                                                                         tmp_path) -> None:
    from dataclasses import replace

    from pob_tui.config import Settings
    from tests.tui.test_cab_screens import fill_changes

    fill_changes(shell_url)
    server_folder = tmp_path / "server-exports"
    settings = replace(Settings(database_url=shell_url, export_dir=str(server_folder)),
                       serve_listen="pob.kommune.example:2222")
    app = make_app(shell_url, settings=settings, serve_record="serve-session-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.action_audit_log()
        await settle(pilot)
        await pilot.press("ctrl+f", *"agent1", "enter")
        await settle(pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)
        said = " ".join(n.message for n in app.notes)
    assert ("ssh -p 2222 pob.kommune.example cab agenda --meeting 2026-12-01 --format md "
            "> cab-agenda-2026-12-01.md") in said, said
    assert re.search(r"ssh -p 2222 pob\.kommune\.example audit --actor agent1 --limit 10000 "
                     r"--format csv > pob-audit-\d{8}-\d{6}\.csv", said), said
    assert not server_folder.exists()


async def test_change_timeline_reads_as_words_not_column_names(shell_url, make_app) -> None:
    from pob_tui.tui.screens.changes import ChangeDetailScreen
    from tests.tui.test_cab_screens import fill_changes

    fill_changes(shell_url)
    app = make_app(shell_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        text = screen_text(app)
    assert "agent1 status: draft → submitted" in text, text
    assert "submitted: – → 2026-11-27 09:30" in text  # a time in the calendar's zone
    assert "submitted_at" not in text and "T08:30:00" not in text


async def test_problem_timeline_reads_as_words_not_column_names(desk_url, make_app) -> None:
    from pob_tui.db import Database, make_engine
    from pob_tui.services import problems
    from pob_tui.services.identity import load_actor
    from pob_tui.tui.screens.problems import ProblemScreen
    from tests.tui.conftest import NOW

    db = Database(make_engine(desk_url))
    with db.session() as s:
        number = problems.create_problem(s, load_actor(s, "anne"), title="Utskrift henger",
                                         now=NOW).number
    with db.session() as s:
        problems.update_problem(s, load_actor(s, "anne"), number,
                                root_cause="Driver", now=NOW)
    db.dispose()
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemScreen(number))
        await settle(pilot)
        text = screen_text(app)
    assert "root cause: – -> Driver" in text, text
    assert "root_cause" not in text
