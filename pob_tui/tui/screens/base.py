"""The frame every pob screen shares: header, area tabs, body, footer.

Screens load their data in thread workers when the app says the data changed
(`PobApp.data_version`: the database opened, demo data arrived). A failed worker is handled
once, here: the screen takes down every loading indicator it shows (so nothing spins for
ever), says it could not load, calls `worker_failed` for screen-specific state, and the
error goes to the one place that reports it, `PobApp.report_worker_state`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar, cast

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from pob_tui.i18n import _
from pob_tui.tui.widgets.footer import PobFooter
from pob_tui.tui.widgets.header import AREAS_BY_MODE, AreaBar, PobHeader

if TYPE_CHECKING:
    from pob_tui.db import Database
    from pob_tui.tui.app import PobApp


def filter_binding(area: str) -> Binding:
    """`/` opens a list's filter box, as a priority binding: the app runs it when the key
    arrives, before it hands the next key to the focused widget. Typed ahead (a burst
    over a slow SSH link: `/esx` in one packet), the letters after the slash then reach
    the box; as an ordinary binding they went to the list, which was still focused, and
    were lost or ran its keys (`s` switched the view). In a text field the slash is text:
    see `PobScreen.open_filter`."""
    return Binding("slash", "filter", _("Filter"), id=f"{area}.filter", priority=True)


class PobScreen(Screen[None]):
    """Header, area tabs and footer around `compose_body`."""

    AREA: str | None = None
    """The mode this screen belongs to (its tab is marked); None: the current mode."""

    HELP_TITLE = ""

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {}
    """Action name -> permission (services.permissions.RULES) it needs: the footer greys
    the key when the agent's roles do not allow it (the service would refuse anyway)."""

    @property
    def pob(self) -> PobApp:
        return cast("PobApp", self.app)

    @property
    def database(self) -> Database | None:
        return self.pob.database

    def compose(self) -> ComposeResult:
        yield PobHeader()
        yield AreaBar(self.AREA or self.app.current_mode)
        yield from self.compose_body()
        yield PobFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "data_version", self._data_changed, init=True)
        if isinstance(self, AreaScreen):  # an area's screen lives as long as the app
            self.call_after_refresh(self.pob.settle_heap)

    def _data_changed(self, _version: int) -> None:
        if self.database is not None:
            self.load()

    def load(self) -> None:
        """Start the workers that fill this screen; called whenever the data changed."""

    def set_status(self, text: str) -> None:
        """The short status on the right of the area tabs (e.g. how many rows)."""
        self.query_one(AreaBar).set_status(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.restore_after_failure(event.worker)
        self.pob.report_worker_state(event)

    def restore_after_failure(self, worker: Worker[object]) -> None:
        """Leave no spinner behind a failed worker; the data stays as it was."""
        if self.loading:
            self.loading = False
        for widget in self.query("*"):
            if widget.loading:
                widget.loading = False
        with contextlib.suppress(NoMatches):  # a modal or a screen without area tabs
            self.set_status(_("could not load"))
        self.worker_failed(worker)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Screen-specific state to put right when `worker` failed (default: nothing)."""

    def filter_key_guard(self) -> None:
        """A slash typed in a text field is text: the filter binding lets it through (the
        list areas' fields are all `Input`s)."""
        if isinstance(self.focused, Input):
            raise SkipAction()

    def open_filter(self, box: Widget, hidden_class: str | None = None) -> None:
        """Show the filter `box` (its `display`, or without `hidden_class` where a class
        hides it) and focus it at once: not after a refresh, nor through `Widget.focus`,
        which waits its turn in the app's queue behind keys already typed. With a text
        field focused (the box itself, a form's field) the slash is left to the field
        (`SkipAction`: the binding does not take the key)."""
        self.filter_key_guard()
        if hidden_class:
            box.remove_class(hidden_class)
        else:
            box.display = True
        self.set_focus(box)

    def permission_for(self, action: str, parameters: tuple[object, ...]) -> str | None:
        """The permission an action needs; override for actions whose need depends on
        their parameters."""
        return self.ACTION_PERMISSIONS.get(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        permission = self.permission_for(action, parameters)
        if permission is None:
            return True
        return self.pob.permission_state(permission)


class AreaScreen(PobScreen):
    """The root screen of an area (a mode)."""

    @property
    def help_title(self) -> str:
        area = AREAS_BY_MODE.get(self.AREA or "")
        return area.title if area else self.HELP_TITLE
