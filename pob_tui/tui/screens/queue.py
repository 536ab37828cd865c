"""The queue: open incidents, newest first, one SQL page at a time.

The service-desk issue extends this screen (filters, my/unassigned views, logging calls);
the list itself is the reusable `PagedTable`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable
from textual.worker import get_current_worker

from pob_tui.i18n import _
from pob_tui.tui.messages import IncidentsLoaded
from pob_tui.tui.screens.base import AreaScreen
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import format_age, plain

if TYPE_CHECKING:
    from pob_tui.services.system import QueueRow

PAGE_SIZE = 200

STATUS_LABELS = {
    "new": _("new"),
    "assigned": _("assigned"),
    "in_progress": _("in progress"),
    "waiting_caller": _("wait caller"),
    "waiting_supplier": _("wait supplier"),
    "resolved": _("resolved"),
    "closed": _("closed"),
    "cancelled": _("cancelled"),
}

QUEUE_COLUMNS = (
    PagedColumn("number", _("Number"), 10),
    PagedColumn("priority", _("P"), 1),
    PagedColumn("status", _("Status"), 13, min_width=11),
    PagedColumn("caller", _("Caller"), 20, min_width=15),
    PagedColumn("service", _("Service"), 22, min_width=12, drop=1),
    PagedColumn("summary", _("Summary"), 40, min_width=24, flex=True),
    PagedColumn("team", _("Team"), 26, min_width=10, drop=2),
    PagedColumn("age", _("Age"), 4, justify="right"),
)


class QueueScreen(AreaScreen):
    """Open incidents in a paged table; enter opens one."""

    AREA = "queue"
    BINDINGS = [
        Binding("enter", "open", _("Open"), id="queue.open"),
        Binding("r", "refresh", _("Refresh"), id="queue.refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        table = PagedTable(QUEUE_COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="queue-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one("#queue-table", PagedTable)

    def load(self) -> None:
        self.load_page(0)

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue")
    def load_page(self, offset: int) -> None:
        """One page of the queue, plus the total for the status line."""
        from pob_tui.services import system

        database = self.database
        if database is None:
            return
        with database.session() as session:
            rows = system.list_open_incidents(session, limit=PAGE_SIZE, offset=offset)
            total = system.count_open_incidents(session)
        if not get_current_worker().is_cancelled:
            self.post_message(IncidentsLoaded(rows, offset, total))

    def on_incidents_loaded(self, message: IncidentsLoaded) -> None:
        table = self.table
        now = self.pob.now()
        rows = [(row.number, self._cells(row, now)) for row in message.rows]
        has_more = message.offset + len(rows) < message.total
        if message.offset == 0:
            table.set_rows(rows, has_more=has_more)
        else:
            table.append_rows(rows, has_more=has_more)
        table.loading = False
        if self.focused is None:
            table.focus()
        if table.loaded < message.total:
            self.set_status(
                _("{shown}/{total} open").format(shown=table.loaded, total=message.total)
            )
        elif message.total:
            self.set_status(_("{total} open").format(total=message.total))
        else:
            self.set_status(_("0 open"))

    @staticmethod
    def _cells(row: QueueRow, now) -> dict[str, object]:
        return {
            "number": plain(row.number),
            "priority": plain(row.priority),
            "status": plain(STATUS_LABELS.get(row.status, row.status)),
            "caller": plain(row.caller),
            "service": plain(row.service or ""),
            "summary": plain(row.summary),
            "team": plain(row.team or ""),
            "age": plain(format_age(row.opened_at, now), justify="right"),
        }

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.load_page(message.offset)

    def action_refresh(self) -> None:
        if self.database is not None:
            self.load_page(0)

    def action_open(self) -> None:
        number = self.table.row_key_at_cursor()
        if number:
            self.pob.open_ticket(number)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # A mouse click on a row; the keyboard path is the enter binding above.
        if event.row_key.value:
            self.pob.open_ticket(event.row_key.value)
