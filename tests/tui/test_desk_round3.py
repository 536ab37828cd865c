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
        assert str(next(iter(table.columns.values())).label) == "amount"
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
