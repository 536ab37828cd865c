"""Follow-ups: open tasks for customer managers after a satisfaction score under 4.

Reached with `f` from the queue and from the palette ("Follow-ups"). Enter opens the incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message

from pob_tui.i18n import _, ngettext
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import format_age, plain

PAGE_SIZE = 100

COLUMNS = (
    PagedColumn("number", _("Incident"), 10),
    PagedColumn("score", _("Score"), 5, justify="right"),
    PagedColumn("unit", _("Org unit"), 24, min_width=12, drop=2),
    PagedColumn("manager", _("Customer manager"), 22, min_width=14, drop=1),
    PagedColumn("note", _("Note"), 40, min_width=20, flex=True),
    PagedColumn("age", _("Age"), 4, justify="right"),
)


class FollowUpsLoaded(Message):
    def __init__(self, rows: Sequence[Mapping[str, Any]], offset: int) -> None:
        super().__init__()
        self.rows = rows
        self.offset = offset


class FollowUpsScreen(PobScreen):
    """Open follow-ups, newest first."""

    HELP_TITLE = _("Follow-ups")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open incident"), id="follow_ups.open"),
        Binding("escape", "close", _("Back"), id="follow_ups.close"),
        Binding("r", "refresh", _("Refresh"), show=False, id="follow_ups.refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        table = PagedTable(COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="follow-ups-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    def load(self) -> None:
        self.load_page(0)

    @work(thread=True, exclusive=True, exit_on_error=False, group="follow-ups")
    def load_page(self, offset: int) -> None:
        from pob_tui.services import incidents

        assert self.database is not None
        with self.database.session() as session:
            rows = incidents.list_follow_ups(session, limit=PAGE_SIZE + 1, offset=offset)
        self.post_message(FollowUpsLoaded(rows, offset))

    def on_follow_ups_loaded(self, message: FollowUpsLoaded) -> None:
        now = self.pob.now()
        has_more = len(message.rows) > PAGE_SIZE
        rows = [(r["id"], {
            "number": plain(r["number"]), "score": plain(r["score"], justify="right"),
            "unit": plain(r.get("org_unit") or ""), "manager": plain(r.get("manager") or ""),
            "note": plain(r.get("note") or ""),
            "age": plain(format_age(r["created_at"], now), justify="right"),
        }) for r in message.rows[:PAGE_SIZE]]
        if message.offset == 0:
            self.table.set_rows(rows, has_more=has_more)
            self.table.loading = False
        else:
            self.table.append_rows(rows, has_more=has_more)
        self.set_status(ngettext("{n} open follow-up", "{n} open follow-ups",
                                 self.table.loaded).format(n=self.table.loaded)
                        + ("+" if has_more else ""))

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.load_page(message.offset)

    def action_open(self) -> None:
        table = self.table
        if not table.row_count:
            return
        number = table.get_row_at(table.cursor_row)[0].plain
        from pob_tui.tui.screens.incident import IncidentScreen

        self.app.push_screen(IncidentScreen(number), lambda _r: self.load())

    def action_refresh(self) -> None:
        self.load()

    def action_close(self) -> None:
        self.dismiss()
