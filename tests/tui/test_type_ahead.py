"""Keys typed ahead reach the widget the previous key gave them to.

Over a slow SSH link a terminal sends what the agent typed in one packet: `/nexa` arrives
as five keys at once. The app hands each key to the focused widget as it arrives, so a
filter opened by `/` got its letters too late: they went to the list,
were lost, or ran the list's keys (`n` opened the call form, `x` marked a service retiring,
`a` switched the org view). The keys are posted here the way a terminal's burst reaches
the app (all queued before the first is handled), not one Pilot press at a time.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input

from tests.tui.conftest import settle

pytestmark = pytest.mark.sqlite_only

BURST = "nexa"
"""Letters bound on the area screens (n: log call / new problem, e: known errors only,
x: retire, a: agreements): typed into the filter, none of them may act."""

AREAS = [  # digit, screen class name, filter box
    ("1", "QueueScreen", "#queue-filter"),
    ("2", "ProblemsScreen", "#problems-filter"),
    ("5", "CatalogScreen", "#catalog-filter"),
    ("6", "CmdbScreen", "#cmdb-filter"),
    ("8", "OrgScreen", "#org-filter"),
]


def burst(app, text: str) -> None:  # type: ignore[no-untyped-def]
    """Queue every key before the app handles the first, as a terminal's packet does."""
    for char in text:
        key = "slash" if char == "/" else char
        app.post_message(events.Key(key, char))


async def test_a_burst_after_slash_lands_in_the_filter_on_every_area(shell_url,
                                                                    make_app) -> None:
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for digit, screen_name, box_id in AREAS:
            await pilot.press(digit)
            await settle(pilot)
            screen = app.screen
            assert type(screen).__name__ == screen_name
            burst(app, "/" + BURST)
            await settle(pilot)
            box = screen.query_one(box_id, Input)
            assert app.screen is screen, f"{screen_name}: a letter ran a key"
            assert box.has_focus, screen_name
            assert box.value == BURST, screen_name
            await pilot.press("escape")  # closes the filter, back to the list
            await settle(pilot)


async def test_a_slash_in_a_text_field_is_text(shell_url, make_app) -> None:
    """A slash typed ahead into the filter, once it has the focus, is text: it is sent on
    to the box, not taken as the filter key again."""
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "/a/b")
        await settle(pilot)
        box = app.screen.query_one("#queue-filter", Input)
        assert box.has_focus
        assert box.value == "a/b"


async def test_a_callers_name_typed_right_after_n_lands_in_the_caller_field(shell_url,
                                                                         make_app) -> None:
    """`n kari` in one burst: the call form opens with `kari` in the caller field (the
    letters were sent to the queue's list, which no longer had the focus when it got to
    them; they came back unhandled and were lost)."""
    from pob_tui.tui.screens.log_call import LogCallScreen
    from pob_tui.tui.widgets.pickers import CallerPicker

    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "nkari")
        await settle(pilot)
        assert isinstance(app.screen, LogCallScreen)
        picker = app.screen.query_one(CallerPicker)
        assert picker.input.has_focus
        assert picker.input.value == "kari"


async def test_keys_in_the_same_context_are_handled_once(shell_url, make_app) -> None:
    """A burst that changes nothing's focus is handled as it always was: `j j j` moves
    the queue's cursor three rows, not more (a key held and sent again would count
    twice)."""
    app = make_app(shell_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.table
        start = table.cursor_row
        burst(app, "jjj")
        await settle(pilot)
        assert table.cursor_row == start + 3
