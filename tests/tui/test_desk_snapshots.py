"""Snapshots of the queue, the call form and the incident detail at 80x24 and 160x50:
the desk data of test_desk_flows, pinned clock, fixed label."""

from __future__ import annotations

import pytest

from pob_tui.services.identity import Actor
from tests.tui.conftest import settle
from tests.tui.test_desk_flows import build_desk, type_text

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


@pytest.mark.parametrize("size", SIZES)
def test_desk_queue(snap_compare, desk_url, make_app, size) -> None:
    async def marked(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("j", "space")

    app = make_app(desk_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=size, run_before=marked)


@pytest.mark.parametrize("size", SIZES)
def test_desk_log_call(snap_compare, desk_url, make_app, size) -> None:
    async def fill_form(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "m365")
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "Outlook henger hver morgen")
        await settle(pilot)

    app = make_app(desk_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=size, run_before=fill_form)


@pytest.mark.parametrize("size", SIZES)
def test_desk_incident_detail(snap_compare, desk_url, make_app, size) -> None:
    async def open_detail(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("G", "enter")  # INC-000001, the oldest
        await settle(pilot)

    app = make_app(desk_url, actor=Actor("anne"))
    assert snap_compare(app, terminal_size=size, run_before=open_detail)
