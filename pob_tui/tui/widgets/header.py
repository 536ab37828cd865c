"""The two lines at the top of every screen: who and where (header), and the areas (tabs).

Both follow the app's reactives (`agent_label`, `database_label`, `current_mode`), so a
screen created before the database opened still shows the right agent once it is known.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from pob_tui.i18n import _
from pob_tui.tui.widgets.text import plain


@dataclass(frozen=True)
class Area:
    """One area of the app: a mode switched with a digit key and from the palette."""

    mode: str
    key: str
    title: str
    help: str


AREAS: tuple[Area, ...] = (
    Area("queue", "1", _("Queue"), _("Open incidents, newest first")),
    Area("problems", "2", _("Problems"), _("Problems and known errors")),
    Area("changes", "3", _("Changes"), _("Change requests")),
    Area("cab", "4", _("CAB"), _("Change advisory board meetings")),
    Area("catalog", "5", _("Catalog"), _("Service catalog")),
    Area("cmdb", "6", _("CMDB"), _("Configuration items")),
    Area("reports", "7", _("Reports"), _("Costs, KPIs and retirement")),
    Area("org", "8", _("Org"), _("Org units, people and agreements")),
)
AREAS_BY_MODE = {area.mode: area for area in AREAS}


class PobHeader(Horizontal):
    """App name, the agent and the database, on one line."""

    def compose(self) -> ComposeResult:
        yield Label("pob", id="header-app")
        yield Label(id="header-agent")
        yield Label(id="header-database")

    def on_mount(self) -> None:
        self.watch(self.app, "agent_label", self._agent_changed)
        self.watch(self.app, "database_label", self._database_changed)

    def _agent_changed(self, value: str) -> None:
        self.query_one("#header-agent", Label).update(plain(value))

    def _database_changed(self, value: str) -> None:
        self.query_one("#header-database", Label).update(plain(value))


STATUS_ROOM = 20
"""Cells kept for the area status when deciding whether the tabs fit in full."""


class AreaBar(Horizontal):
    """The areas with their digit keys, the current one marked, and a status on the right.

    When the titles and the status do not fit on one line (eight areas at 80 columns), the
    areas other than the current one shrink to their digit: the status (what the list holds)
    matters more than names the help screen and the palette also give.
    """

    def __init__(self, active: str | None) -> None:
        super().__init__()
        self.active = active
        self._status = ""
        self._compact: bool | None = None

    def compose(self) -> ComposeResult:
        for area in AREAS:
            tab = Label(self._label(area, compact=False), classes="area-tab", markup=False)
            tab.set_class(area.mode == self.active, "-active")
            yield tab
        yield Label(id="area-status", markup=False)

    def _label(self, area: Area, *, compact: bool) -> str:
        if compact and area.mode != self.active:
            return area.key
        return f"{area.key} {area.title}"

    def _fit(self) -> None:
        width = self.size.width
        if not width:
            return
        # Each tab has one cell of padding before it; the active one one more after it;
        # the status two cells of padding.
        # The status is given room for a usual text even before it has one: the tabs then
        # do not change width when the first status arrives, which a screen under a dialog
        # (the welcome) would not lay out again until it is shown.
        full = sum(len(self._label(a, compact=False)) + 1 for a in AREAS) + 1
        compact = full + max(cell_len(self._status), STATUS_ROOM) + 2 > width
        if compact == self._compact:
            return
        self._compact = compact
        for area, tab in zip(AREAS, self.query(".area-tab").results(Label), strict=False):
            tab.update(self._label(area, compact=compact))

    def on_resize(self) -> None:
        self._fit()

    def set_status(self, text: str) -> None:
        status = plain(text)
        self._status = status.plain
        self.query_one("#area-status", Label).update(status)
        self._fit()
