"""Issue 13: sub-items the first rounds left without a test (impact and urgency in the call
form, j/k in the CAB agenda, the OLA clock in the explain view, other stale dialogs, `n` on
an empty database)."""

from __future__ import annotations

import re

import pytest

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
