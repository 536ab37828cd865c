"""Issue 13 item 10: the TUI in Norwegian at 80x24: labels fit, no English left for values
people read, decimal commas.

`pob --lang nb` chooses the language before the TUI is imported (its bindings and column
headings are read at import). These tests do the same: the TUI's modules are imported afresh
after `set_language("nb")` and put back afterwards, so the rest of the suite stays English.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from pob_tui import i18n
from tests.tui.conftest import LABEL, clock, screen_text, settle

SIZE = (80, 24)


@pytest.fixture
def nb_app_class() -> Iterator[Any]:
    """PobApp from TUI modules imported in nb (as after `pob --lang nb`)."""
    kept = {name: mod for name, mod in sys.modules.items()
            if name == "pob_tui.tui" or name.startswith("pob_tui.tui.")}
    for name in kept:
        del sys.modules[name]
    i18n.set_language("nb")
    try:
        from pob_tui.tui.app import PobApp

        yield PobApp
    finally:
        for name in [n for n in sys.modules if n == "pob_tui.tui" or n.startswith("pob_tui.tui.")]:
            del sys.modules[name]
        sys.modules.update(kept)
        i18n.set_language("en")


def _admin(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text(
                "SELECT a.username FROM agent a JOIN agent_role r ON r.agent_id = a.id "
                "WHERE r.role = 'administrator' ORDER BY a.username")).scalars().first()
    finally:
        engine.dispose()


def _nb_app(app_class: Any, url: str) -> Any:
    from pob_tui.config import Settings
    from pob_tui.services.identity import Actor

    return app_class(url, settings=Settings(database_url=url, language="nb"),
                     actor=Actor(_admin(url)), database_label=LABEL, clock=clock)


async def test_queue_changes_and_cab_fit_in_norwegian(demo_app_url, nb_app_class) -> None:
    app = _nb_app(nb_app_class, demo_app_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = screen_text(app)
        assert "Sammendrag" in queue and "Innmelder" in queue
        assert "venter innm." in queue or "under arbeid" in queue
        for cut in ("venter inn…", "under arbe…", "Sammendra…", "Sammendra "):
            assert cut not in queue, queue
        # The views line's hint is never cut: at 80 columns in nb only the sort shows.
        assert "s: nyeste" in queue and "visn…" not in queue, queue
        # A long overdue time drops its hours rather than being cut ('-14 vd 1…').
        assert not re.search(r"-\d+ vd \d+\s*$", queue, re.M), queue

        await pilot.press("3")
        await settle(pilot)
        changes = screen_text(app)
        assert "Risiko" in changes and "middels" in changes, changes
        assert "venter CAB" in changes
        for cut in ("midde…", "venter C…", "Konsekven…"):
            assert cut not in changes, changes
        await pilot.press("w")  # the week calendar: implemented and closed changes
        await settle(pilot)
        week = screen_text(app)
        for _week in range(4):  # back to a week with implemented changes
            if "gjennomf" in week:
                break
            await pilot.press("left_square_bracket")
            await settle(pilot)
            week = screen_text(app)
        assert "gjennomført" in week, week
        assert "gjennomfø…" not in week and "tilbakefø…" not in week, week

        await pilot.press("4")
        await settle(pilot)
        cab = screen_text(app)
        for key in "]]]][[[[[[[[":  # a meeting with changes on its agenda
            if "Ingen endringer" not in cab:
                break
            await pilot.press(key)
            await settle(pilot)
            cab = screen_text(app)
        assert "Konsekvens" in cab and "Konsekven…" not in cab
        assert "midde…" not in cab
        for english in ("awaiting_cab", "approve", "normal · awaiting", "Sun", "Tue"):
            assert english not in cab, cab
        assert "venter CAB" in cab  # the highlighted change's status, as a label


async def test_reports_and_org_in_norwegian(demo_app_url, nb_app_class) -> None:
    app = _nb_app(nb_app_class, demo_app_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        board = screen_text(app)
        assert "Henvendelser" in board
        assert re.search(r"\d+,\d %", board), board  # decimal comma in shares
        assert not re.search(r"\d\.\d", board), board  # no decimal point anywhere
        for english in ("metric", "value", "flag", "satisfaction:"):
            assert english not in board, board

        await pilot.press("8")
        await settle(pilot)
        org = screen_text(app)
        assert "Kundeansvarlig" in org, org
        assert "Kundeansvarl " not in org and "Kundeansvar…" not in org
        assert re.search(r"\b\d,\d\b", org) and not re.search(r"\b\d\.\d\b", org), org


async def test_call_form_channel_in_norwegian(shell_url, nb_app_class) -> None:
    from pob_tui.config import Settings
    from pob_tui.services.identity import Actor

    app = nb_app_class(shell_url, settings=Settings(database_url=shell_url, language="nb"),
                       actor=Actor("agent1"), database_label=LABEL, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = screen_text(app)
        assert "telefon" in form and "phone" not in form, form
