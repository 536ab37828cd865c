"""The audit log: every ticket event and administrative action, newest first.

Filters (person, ticket, from, to) are plain inputs; enter applies them. The list pages
through `services.audit_query.list_events` in SQL as the cursor reaches the end, and
ctrl+e writes the filtered trail (up to `EXPORT_LIMIT` rows) as CSV to the current
directory. Reading it needs the permission audit.read; the service refuses otherwise and
the refusal is audited like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input

from pob_tui.errors import PobError
from pob_tui.files import open_export
from pob_tui.i18n import _
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.widgets.limited_input import LimitedInput
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import plain

PAGE_SIZE = 100
EXPORT_LIMIT = 10_000
COLUMNS = (
    PagedColumn("at", _("When"), 16),
    PagedColumn("actor", _("Who"), 12, min_width=8),
    PagedColumn("ticket", _("Ticket"), 10, min_width=10),
    PagedColumn("action", _("What"), 12, min_width=8),
    PagedColumn("change", _("Change"), 40, min_width=16, flex=True),
)


class AuditPageLoaded(Message):
    def __init__(self, rows: list[dict[str, Any]], offset: int, generation: int) -> None:
        super().__init__()
        self.rows = rows
        self.offset = offset
        self.generation = generation


class AuditRefused(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class AuditExported(Message):
    def __init__(self, path: str, count: int) -> None:
        super().__init__()
        self.path = path
        self.count = count


class AuditScreen(PobScreen):
    """Filter inputs over a paged table of audit events."""

    HELP_TITLE = _("Audit log")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back"), id="audit.close"),
        Binding("ctrl+e", "export", _("Export CSV"), id="audit.export"),
        Binding("ctrl+f", "focus_filters", _("Filters"), id="audit.filters"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"export": "audit.read"}

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._loaded = 0

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield LimitedInput(placeholder=_("person"), id="audit-actor")
            yield LimitedInput(placeholder=_("ticket"), id="audit-ticket")
            yield LimitedInput(placeholder=_("from YYYY-MM-DD"), id="audit-from")
            yield LimitedInput(placeholder=_("to YYYY-MM-DD"), id="audit-to")
        table = PagedTable(COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="audit-table")
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one("#audit-table", PagedTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.focus()

    def _value(self, name: str) -> str | None:
        return self.query_one(f"#audit-{name}", Input).value.strip() or None

    def filters(self) -> Any:
        """The filter as the service takes it; bad dates raise InvalidInput."""
        from pob_tui.services import audit_query

        start, end = self._value("from"), self._value("to")
        return audit_query.AuditFilter(
            actor=self._value("actor"), ticket=self._value("ticket"),
            date_from=audit_query.parse_date(start) if start else None,
            date_to=audit_query.parse_date(end) if end else None,
            tz=str(self.pob.settings.timezone))

    def load(self) -> None:
        self._generation += 1
        self.load_page(0, self._generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit")
    def load_page(self, offset: int, generation: int) -> None:
        from pob_tui.services import audit_query

        database = self.database
        if database is None:
            return
        try:
            with database.session() as session:
                actor = self.pob.actor_in(session)
                rows = audit_query.list_events(session, actor, self.filters(),
                                               limit=PAGE_SIZE + 1, offset=offset)
        except PobError as exc:
            self.post_message(AuditRefused(str(exc)))
            return
        self.post_message(AuditPageLoaded(rows, offset, generation))

    def on_audit_page_loaded(self, message: AuditPageLoaded) -> None:
        if message.generation != self._generation:
            return
        has_more = len(message.rows) > PAGE_SIZE
        rows = [(f"{r['source']}-{message.offset + i}", self._cells(r))
                for i, r in enumerate(message.rows[:PAGE_SIZE])]
        if message.offset == 0:
            self.table.set_rows(rows, has_more=has_more)
        else:
            self.table.append_rows(rows, has_more=has_more)
        self._loaded = self.table.loaded
        self.set_status(_("{n}{more} events").format(n=self._loaded,
                                                      more="+" if has_more else ""))

    def _cells(self, row: dict[str, Any]) -> dict[str, Any]:
        zone = ZoneInfo(str(self.pob.settings.timezone))
        at: datetime = row["at"]
        change = ""
        if row.get("field"):
            change = f"{row['field']}: {row.get('old') or '–'} -> {row.get('new') or '–'}"
        if row.get("detail"):
            change = f"{change} {row['detail']}".strip()
        if not row.get("allowed", True):
            change = _("denied") + (f" {change}" if change else "")
        return {
            "at": plain(at.astimezone(zone).strftime("%Y-%m-%d %H:%M")),
            "actor": plain(row.get("actor") or _("system")),
            "ticket": plain(row.get("ticket") or ""),
            "action": plain(row.get("action") or ""),
            "change": plain(change),
        }

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.load_page(self._loaded, self._generation)

    def on_audit_refused(self, message: AuditRefused) -> None:
        self.notify(message.text, severity="warning", markup=False)

    @on(Input.Submitted)
    def _apply(self, event: Input.Submitted) -> None:
        event.stop()
        self.load()
        self.table.focus()

    def action_focus_filters(self) -> None:
        self.query_one("#audit-actor", Input).focus()

    def action_export(self) -> None:
        if self.pob.remote:  # the file would land on the server: say how to get it
            from pob_tui.tui.exports import show_remote_export, ssh_command

            args = ["audit"]
            for name, flag in (("actor", "--actor"), ("ticket", "--ticket"),
                               ("from", "--from"), ("to", "--to")):
                value = self._value(name)
                if value:
                    args += [flag, value]
            args += ["--limit", str(EXPORT_LIMIT), "--format", "csv"]
            show_remote_export(self.app, ssh_command(
                self.pob.settings, args, f"pob-audit-{self.pob.now():%Y%m%d-%H%M%S}.csv"))
            return
        self.export_csv()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-export")
    def export_csv(self) -> None:
        """Write the filtered trail as CSV into the export folder (`[general] export_dir`)."""
        from pob_tui.services import audit_query
        from pob_tui.tui.exports import export_folder

        database = self.database
        if database is None:
            return
        try:
            with database.session() as session:
                actor = self.pob.actor_in(session)
                rows = audit_query.list_events(session, actor, self.filters(),
                                               limit=EXPORT_LIMIT)
        except PobError as exc:
            self.post_message(AuditRefused(str(exc)))
            return
        try:
            name = f"pob-audit-{self.pob.now():%Y%m%d-%H%M%S}.csv"
            path = export_folder(self.pob.settings) / name
            with open_export(path) as out:  # 0600: the trail names people
                out.write(audit_query.to_csv(rows))
        except PobError as exc:
            self.post_message(AuditRefused(str(exc)))
            return
        self.post_message(AuditExported(str(path), len(rows)))

    def on_audit_exported(self, message: AuditExported) -> None:
        self.notify(_("Wrote {n} events to {path}").format(n=message.count, path=message.path),
                    markup=False)

    def action_close(self) -> None:
        self.dismiss()
