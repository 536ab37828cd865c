"""The two lines at the top of every screen: who and where (header), and the areas (tabs).

Both follow the app's reactives (`agent_label`, `database_label`, `current_mode`), so a
screen created before the database opened still shows the right agent once it is known.
"""

from __future__ import annotations

from dataclasses import dataclass

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


class AreaBar(Horizontal):
    """The areas with their digit keys, the current one marked, and a status on the right."""

    def __init__(self, active: str | None) -> None:
        super().__init__()
        self.active = active

    def compose(self) -> ComposeResult:
        for area in AREAS:
            tab = Label(f"{area.key} {area.title}", classes="area-tab", markup=False)
            tab.set_class(area.mode == self.active, "-active")
            yield tab
        yield Label(id="area-status", markup=False)

    def set_status(self, text: str) -> None:
        self.query_one("#area-status", Label).update(plain(text))
