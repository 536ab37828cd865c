"""Snapshots of the shell at 80x24 and 160x50: fixed data, pinned clock, fixed label."""

from __future__ import annotations

import pytest

from tests.tui.conftest import settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.mark.parametrize("size", SIZES)
def test_queue(snap_compare, shell_url, make_app, size) -> None:
    assert snap_compare(make_app(shell_url), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, shell_url, make_app, size) -> None:
    async def open_help(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(shell_url), terminal_size=size, run_before=open_help)


def test_ticket_view(snap_compare, shell_url, make_app) -> None:
    async def open_ticket(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("G", "enter")
        await settle(pilot)

    assert snap_compare(make_app(shell_url), terminal_size=(80, 24), run_before=open_ticket)
