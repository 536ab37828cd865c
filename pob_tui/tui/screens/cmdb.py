"""CMDB area: for now an overview of configuration items per class."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from pob_tui.i18n import _
from pob_tui.tui.messages import CiCountsLoaded
from pob_tui.tui.screens.base import AreaScreen
from pob_tui.tui.widgets.text import plain

CI_CLASS_LABELS = {
    "client": _("Clients"),
    "printer": _("Printers"),
    "server": _("Servers"),
    "database": _("Databases"),
    "application": _("Applications"),
    "network": _("Network"),
    "storage": _("Storage"),
    "phone": _("Phones"),
}


class CmdbScreen(AreaScreen):
    """Counts per CI class; browsing and impact analysis come with the CMDB issue."""

    AREA = "cmdb"
    BINDINGS = [Binding("r", "refresh", _("Refresh"), id="cmdb.refresh")]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="cmdb-body"):
            table: DataTable[object] = DataTable(id="cmdb-counts", cursor_type="row")
            table.add_column(_("Class"), key="class", width=16)
            table.add_column(Text(_("Items"), justify="right"), key="count", width=8)
            table.loading = True
            yield table
            yield Static(
                _("Browsing items and impact analysis: coming with the CMDB issue."),
                classes="coming-soon-note",
                markup=False,
            )

    def load(self) -> None:
        self.load_counts()

    def action_refresh(self) -> None:
        if self.database is not None:
            self.load_counts()

    @work(thread=True, exclusive=True, exit_on_error=False, group="cmdb")
    def load_counts(self) -> None:
        from pob_tui.services import system

        database = self.database
        if database is None:
            return
        with database.session() as session:
            counts = system.ci_counts_by_class(session)
        if not get_current_worker().is_cancelled:
            self.post_message(CiCountsLoaded(counts))

    def on_ci_counts_loaded(self, message: CiCountsLoaded) -> None:
        table = self.query_one("#cmdb-counts", DataTable)
        table.clear()
        for ci_class, count in message.counts:
            label = CI_CLASS_LABELS.get(ci_class, ci_class)
            table.add_row(plain(label), Text(str(count), justify="right"), key=ci_class)
        table.loading = False
        total = sum(n for _c, n in message.counts)
        self.set_status(_("{total} items").format(total=total))
