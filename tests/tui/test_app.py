"""Pilot tests: the real app, driven with keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import types
from dataclasses import replace

import pytest

from pob_tui.config import Settings
from pob_tui.db import Database, make_engine
from pob_tui.services.identity import Actor
from pob_tui.tui.screens.cab import CabScreen
from pob_tui.tui.screens.catalog import CatalogScreen
from pob_tui.tui.screens.changes import ChangesScreen
from pob_tui.tui.screens.cmdb import CmdbScreen
from pob_tui.tui.screens.help import HelpScreen
from pob_tui.tui.screens.incident import IncidentScreen
from pob_tui.tui.screens.problems import ProblemsScreen
from pob_tui.tui.screens.queue import QueueScreen
from pob_tui.tui.screens.reports import ReportsScreen
from pob_tui.tui.screens.startup import DatabaseErrorScreen, WelcomeScreen
from pob_tui.tui.widgets.paged_table import PagedTable
from tests.tui.conftest import MARKUP_SUMMARIES, fill, screen_text, settle


def notifications(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app.notes]


async def test_queue_lists_open_incidents_newest_first(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.screen.view == "open" and app.screen.sort == "newest"
        table = app.screen.query_one(PagedTable)
        assert table.row_count == 40
        assert table.row_key_at_cursor() == "INC-000040"
        assert app.agent_label == "Kari Nordmann (agent1) · Service desk"
        assert app.database_label == "sqlite test.sqlite3"
        text = screen_text(app)
        assert "40 all open" in text and "INC-000040" in text
        assert "All open" in text  # the view tabs


async def test_user_text_with_markup_shows_literally(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PagedTable)
        summaries = {
            table.get_row(f"INC-{i + 1:06d}")[table.get_column_index("summary")].plain
            for i in range(len(MARKUP_SUMMARIES))
        }
        shown = {s.replace("\x1b", "␛") for s in MARKUP_SUMMARIES}
        assert summaries == shown
        text = screen_text(app)
        for summary in shown:
            assert summary in text
        assert "\x1b" not in text
        assert app.is_running  # the [@click=app.quit] cell did not quit


async def test_digits_switch_areas_and_escape_goes_back(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ProblemsScreen)
        assert "0 open problems" in screen_text(app)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, ChangesScreen)
        text = screen_text(app)
        assert "All changes, newest first" in text and "0 shown" in text
        await pilot.press("4")
        assert isinstance(app.screen, CabScreen)
        await pilot.press("5")
        assert isinstance(app.screen, CatalogScreen)
        await pilot.press("7")
        assert isinstance(app.screen, ReportsScreen)
        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, CmdbScreen)
        assert app.screen.query_one("#cmdb-table").row_count == 15
        assert "15 items" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_palette_reaches_every_area(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"go to cmdb")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CmdbScreen)


async def test_palette_jumps_to_ticket_by_number(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"inc-000003")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.number == "INC-000003"
        text = screen_text(app)
        assert "INC-000003  [bold" in text
        assert "Line two [bold] ␛[31m" in text
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_enter_in_queue_opens_the_incident(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.number == "INC-000038"
        assert "Shared drive K: is missing" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_queue_pages_in_more_rows_at_the_end(shell_url, make_app, monkeypatch) -> None:
    monkeypatch.setattr("pob_tui.tui.screens.queue.PAGE_SIZE", 15)
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PagedTable)
        assert table.row_count == 15
        assert "15/40 all open" in screen_text(app)
        await pilot.press("G")
        await settle(pilot)
        assert table.row_count == 30
        await pilot.press("G")
        await settle(pilot)
        assert table.row_count == 40
        assert not table.has_more
        assert "40 all open" in screen_text(app)
        await pilot.press("g")
        assert table.cursor_row == 0


async def test_help_lists_active_bindings_by_group(shell_url, make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        groups = {g.title: dict((d, k) for k, d in g.rows) for g in app.screen.groups}
        assert groups["Everywhere"]["Quit"].endswith("q")
        assert groups["Everywhere"]["Help"] == "?"
        assert groups["Queue"]["Open"] == "⏎"
        assert groups["List"]["Half page down"] == "^d"
        text = screen_text(app)
        assert "Half page down" in text and "Refresh" in text
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_keymap_from_settings_rebinds_keys(shell_url, make_app) -> None:
    settings = Settings(database_url=shell_url, keymap={"pob.help": "h", "table.down": "n"})
    app = make_app(shell_url, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PagedTable)
        await pilot.press("n")
        assert table.cursor_row == 1
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("h")
        assert isinstance(app.screen, HelpScreen)
        everywhere = next(g for g in app.screen.groups if g.title == "Everywhere")
        assert ("h", "Help") in everywhere.rows


async def test_theme_from_settings_and_toggle(shell_url, make_app) -> None:
    settings = Settings(database_url=shell_url, theme="textual-light")
    app = make_app(shell_url, settings=settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"


async def test_unknown_agent_is_named_in_header(shell_url, make_app) -> None:
    app = make_app(shell_url, actor=Actor("nobody"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.agent_label == "unknown agent nobody"
        assert "unknown agent nobody" in screen_text(app)


async def test_worker_failures_become_one_line_notifications(
    shell_url, make_app, monkeypatch
) -> None:
    from pob_tui.errors import PobError
    from pob_tui.services import desk_views

    def pob_error(*_a, **_k):
        raise PobError("the queue is [bold]broken")

    def crash(*_a, **_k):
        raise RuntimeError("secret internals\nTraceback ...")

    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(desk_views, "queue_page", pob_error)
        await pilot.press("r")
        await settle(pilot)
        assert "the queue is [bold]broken" in notifications(app)
        monkeypatch.setattr(desk_views, "queue_page", crash)
        await pilot.press("r")
        await settle(pilot)
        last = notifications(app)[-1]
        assert "RuntimeError" in last and "secret" not in last and "\n" not in last
        assert app.is_running


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u@h/db", "pob supports sqlite and postgresql"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot open database"),
    ],
)
async def test_bad_database_shows_error_screen_and_q_quits(make_app, url, expected) -> None:
    app = make_app(url, database_label=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DatabaseErrorScreen)
        text = screen_text(app)
        assert "pob cannot open its database" in text
        assert expected in text
        assert "POB_DATABASE_URL" in text
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_unreachable_database_exits_with_one_line_when_asked(make_app) -> None:
    """`pob` (the CLI) asks the app to exit on a database error and prints `failure`."""
    url = "postgresql+psycopg://u:s3cret-pw@127.0.0.1:1/x"
    app = make_app(url, database_label=None, exit_on_database_error=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert app.return_code == 3
    assert app.failure is not None
    assert "\n" not in app.failure and app.failure.strip() == app.failure
    assert app.failure.startswith("cannot open database postgresql+psycopg://u:***@127.0.0.1:1/x")
    assert "s3cret-pw" not in app.failure


async def test_unreachable_database_shows_error_screen_with_password_hidden(make_app) -> None:
    url = "postgresql+psycopg://u:s3cret-pw@127.0.0.1:1/x"
    app = make_app(url, database_label=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DatabaseErrorScreen)
        assert app.is_running and app.failure is None
        text = screen_text(app)
        assert "pob cannot open its database" in text
        assert "u:***@127.0.0.1:1/x" in text and "s3cret-pw" not in text
        assert app.database_label == "no database"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_empty_database_offers_demo_and_loads_it_with_a_key(
    db_url, make_app, monkeypatch
) -> None:
    calls: list[tuple[str, dict[str, object]]] = []

    def generate(url: str, **kwargs: object) -> None:
        calls.append((url, kwargs))
        progress = kwargs.get("progress")
        if callable(progress):
            progress("people", 1, 2)
        database = Database(make_engine(url))
        fill(database, incidents=12, with_markup=False)
        database.dispose()

    monkeypatch.setitem(sys.modules, "pob_tui.demo", types.SimpleNamespace(generate=generate))
    app = make_app(db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert "pob demo --scale small" in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert calls and calls[0][0] == db_url
        assert calls[0][1]["scale"] == "small" and calls[0][1]["seed"] == 1
        assert isinstance(app.screen, QueueScreen)
        assert app.screen.query_one(PagedTable).row_count == 12
        assert "Demo data loaded" in notifications(app)


async def test_empty_database_notice_can_be_dismissed(db_url, make_app) -> None:
    app = make_app(db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)
        assert "0 all open" in screen_text(app)


@pytest.mark.slow
@pytest.mark.sqlite_only  # the demo generator is exercised on PostgreSQL by its own tests
async def test_real_demo_loads_from_the_welcome_screen(db_url, make_app) -> None:
    app = make_app(db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.screen.query_one(PagedTable).row_count > 0


async def test_queue_on_the_demo_data(demo_app_url, make_app) -> None:
    app = make_app(demo_app_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        table = app.screen.query_one(PagedTable)
        assert 0 < table.row_count <= 200
        first = table.row_key_at_cursor()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.number == first and app.screen.data is not None


def test_settings_url_is_overridden_by_database_url(tmp_path) -> None:
    from pob_tui import PobApp

    settings = Settings(database_url="sqlite:///elsewhere.sqlite3")
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    app = PobApp(url, settings=settings)
    assert app.settings == replace(settings, database_url=url)


def test_importing_the_app_does_not_load_the_database_stack() -> None:
    """Startup speed: SQLAlchemy, SQLModel and Alembic load in the worker, not on import."""
    import subprocess

    code = (
        "import sys, pob_tui.tui.app\n"
        "bad = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'pob_tui.db') "
        "if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
