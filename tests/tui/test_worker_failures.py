"""A failed loader leaves no screen stuck: every area whose loading worker fails takes its
spinners down, says it could not load, and reports one line (item 4 of code health)."""

from __future__ import annotations

import contextlib

import pytest

from pob_tui.services.identity import Actor
from pob_tui.tui.widgets.header import AREAS
from tests.tui.conftest import settle

pytestmark = pytest.mark.sqlite_only


class Broken(Exception):
    """The failure injected into every database session after start-up."""


@pytest.mark.parametrize("mode", [area.mode for area in AREAS])
async def test_a_failed_loader_leaves_no_spinner(shell_url, make_app, mode) -> None:
    app = make_app(shell_url, actor=Actor("agent1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.database is not None

        @contextlib.contextmanager
        def broken_session():  # type: ignore[no-untyped-def]
            raise Broken("the database went away")
            yield  # pragma: no cover

        app.database.session = broken_session  # type: ignore[method-assign]
        if mode == app.current_mode:
            app.data_version += 1  # the queue is on screen already: make it reload
        else:
            app.switch_mode(mode)
        await settle(pilot)
        loading = [w for w in app.screen.query("*") if w.loading]
        assert loading == [] and not app.screen.loading, f"{mode}: {loading}"
        told = [n.message for n in app.notes]
        assert any("Broken" in t or "went wrong" in t for t in told), (mode, told)
