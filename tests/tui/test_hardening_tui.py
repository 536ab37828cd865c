"""Issue 12 in the TUI: a 60,000-character paste into a filter stops at the limit and says
so (the app stays responsive); bidi override characters are shown, not obeyed. Pure UI
behaviour: SQLite only, like every Pilot test not marked both_backends."""

from __future__ import annotations

import time

import pytest
from textual import events

from pob_tui.db import Database, make_engine
from pob_tui.services import incidents as svc
from pob_tui.textsafe import MAX_SEARCH_CHARS
from tests.tui.conftest import NOW, screen_text, settle
from tests.tui.test_desk_flows import build_desk, make, notes


@pytest.fixture
def small_desk(db_url: str) -> str:
    world = build_desk(db_url)
    db = Database(make_engine(db_url))
    with db.session() as s:
        svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="PRINT", summary="faktura \u202egpj.exe bidi"), now=NOW)
    db.dispose()
    return db_url


async def test_a_huge_paste_into_the_filter_stops_at_the_limit(small_desk, make_app) -> None:
    from textual.widgets import Input

    app = make(make_app, small_desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        field = app.screen.query_one("#queue-filter", Input)
        started = time.perf_counter()
        field.post_message(events.Paste("x" * 60_000))
        await settle(pilot)
        await pilot.press("y", "y")  # typing on at the limit: refused, no second notice
        await settle(pilot)
        elapsed = time.perf_counter() - started
        assert len(field.value) == MAX_SEARCH_CHARS
        said = [n for n in notes(app) if f"stops at {MAX_SEARCH_CHARS} characters" in n]
        assert len(said) == 1
        assert elapsed < 10, elapsed
        assert app.is_running


async def test_bidi_overrides_are_shown_not_obeyed(small_desk, make_app) -> None:
    app = make(make_app, small_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "faktura <U+202E>gpj.exe bidi" in text
        assert "\u202e" not in text
