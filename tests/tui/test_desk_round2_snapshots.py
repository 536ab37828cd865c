"""Snapshots of issue 13's new and changed screens at 80x24: the SLA explain view with all
clocks, the quick-call picker, the templates list and the call form opened by a ring."""

from __future__ import annotations

import pytest

from pob_tui.db import Database, make_engine
from pob_tui.services import templates
from pob_tui.services.identity import SYSTEM_ACTOR, Actor
from tests.tui.conftest import settle
from tests.tui.test_desk_flows import build_desk, open_incident, type_text


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


def test_explain_all_clocks(snap_compare, desk_url, make_app) -> None:
    async def explain(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await open_incident(pilot, "INC-000001")
        await pilot.press("e")
        await settle(pilot)

    app = make_app(desk_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=explain)


def test_quick_call_picker(snap_compare, desk_url, make_app) -> None:
    async def pick(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await settle(pilot)
        await pilot.press("enter", "ctrl+g")
        await settle(pilot)

    app = make_app(desk_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=pick)


def test_templates_screen(snap_compare, desk_url, make_app) -> None:
    async def show(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        pilot.app.action_templates()
        await settle(pilot)

    app = make_app(desk_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=show)
