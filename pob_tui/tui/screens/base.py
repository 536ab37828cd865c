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

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from pob_tui.i18n import _
from pob_tui.tui.widgets.footer import PobFooter
from pob_tui.tui.widgets.header import AREAS_BY_MODE, AreaBar, PobHeader

if TYPE_CHECKING:
    from pob_tui.db import Database
    from pob_tui.tui.app import PobApp


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

    def open_filter(self, box: Widget, hidden_class: str | None = None) -> None:
        """Show the filter `box` (its `display`, or without `hidden_class` where a class
        hides it) and focus it at once: not after a refresh, nor through `Widget.focus`,
        which waits its turn in the app's queue. Letters typed right behind the slash were
        handed to the list before this ran; they come back unhandled and the app sends them
        on to the box (tui/type_ahead.py), which needs the focus moved by then."""
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
