"""Snapshots of the shell at 80x24 and 160x50: fixed data, pinned clock, fixed label.

The database label is the same on both backends, so a snapshot's SQLite and PostgreSQL
versions are identical."""

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


@pytest.mark.parametrize("size", SIZES)
def test_ticket_view(snap_compare, shell_url, make_app, size) -> None:
    """The oldest incident (markup in its summary and description shows literally)."""

    async def open_ticket(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("G", "enter")
        await settle(pilot)

    assert snap_compare(make_app(shell_url), terminal_size=size, run_before=open_ticket)


def test_welcome(snap_compare, db_url, make_app) -> None:
    """An empty database offers the demo data."""
    assert snap_compare(make_app(db_url), terminal_size=(80, 24), run_before=settle)


def test_database_error(snap_compare, make_app) -> None:
    """A database pob cannot use: the reason in one line and how to fix it."""
    app = make_app("mysql://u:pw@h/db", database_label=None)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
