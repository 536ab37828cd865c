"""An area's first visit uses the style sheet as it is (issue 17: Textual re-parsed every
style sheet and restyled the app twice per first visit, a third of its time), and a theme
change still reaches every area's screen, those made before it and after it."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.css.stylesheet import Stylesheet

from tests.tui.conftest import settle
from tests.tui.test_desk_flows import build_desk, make

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


def _background(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.styles.background.hex


async def test_first_visits_do_not_reparse_and_themes_reach_every_area(
        desk_url, make_app, monkeypatch) -> None:
    reparses: list[int] = []
    original = Stylesheet.reparse

    def counted(self: Stylesheet) -> None:
        reparses.append(1)
        original(self)

    monkeypatch.setattr(Stylesheet, "reparse", counted)
    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reparses.clear()
        await pilot.press("3")  # Changes, first visit
        await settle(pilot)
        assert type(app.screen).__name__ == "ChangesScreen"
        assert reparses == []
        dark = _background(app)
        assert dark == Color.parse(app.theme_variables["background"]).hex
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("ctrl+t")  # light theme
        await settle(pilot)
        light = Color.parse(app.theme_variables["background"]).hex
        assert light != dark and _background(app) == light
        await pilot.press("5")  # Catalog: made after the change
        await settle(pilot)
        assert type(app.screen).__name__ == "CatalogScreen"
        assert _background(app) == light
        await pilot.press("3")  # Changes: made before it
        await settle(pilot)
        assert _background(app) == light


async def test_a_burst_of_binding_changes_recomposes_the_footer_once(
        desk_url, make_app, monkeypatch) -> None:
    """Textual recomposed the footer (every key widget made and styled again) once per
    binding signal; a burst now costs one recompose, which shows the bindings as they end,
    and none when nothing the footer shows changed."""
    from textual.widget import Widget

    from pob_tui.tui.widgets.footer import PobFooter
    from tests.tui.conftest import screen_text

    recomposed: list[int] = []
    original = Widget.recompose

    async def counted(self: Widget) -> None:
        if isinstance(self, PobFooter):
            recomposed.append(1)
        await original(self)

    monkeypatch.setattr(Widget, "recompose", counted)
    app = make(make_app, desk_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        recomposed.clear()
        for _ in range(5):
            app.screen.refresh_bindings()
        await settle(pilot)
        assert recomposed == []  # nothing the footer shows changed: no key is made again
        app.set_keymap({"queue.log_call": "f6"})
        for _ in range(5):
            app.screen.refresh_bindings()
        await settle(pilot)
        assert recomposed == [1]
        text = screen_text(app)
        assert "f6 Log call" in text  # the footer shows the bindings as they ended
        assert "Filter" in text  # the queue's other keys are all there


async def test_a_footer_refresh_due_after_the_footer_went_does_nothing() -> None:
    """A burst's single recompose runs after the next refresh of whatever screen is on top;
    if the footer went in between (its screen closed, the app quitting), it is dropped."""
    from textual.app import App, ComposeResult
    from textual.screen import ModalScreen
    from textual.widgets import Label

    from pob_tui.tui.widgets.footer import PobFooter

    class Dialog(ModalScreen[None]):
        def compose(self) -> ComposeResult:
            yield Label("dialog")

    class Host(App[None]):
        BINDINGS = [("x", "bell", "Ring")]

        def compose(self) -> ComposeResult:
            yield PobFooter()

    app = Host()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        base = app.screen
        footer = base.query_one(PobFooter)
        await app.push_screen(Dialog())
        footer.bindings_changed(base)  # due after the dialog's next refresh
        await footer.remove()
        await pilot.pause()
        await pilot.pause()
        assert app.is_running and app.return_code is None  # no error ended the app
