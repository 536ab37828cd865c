"""The queue: incidents in views (mine, team, all open, unassigned, waiting, recently
resolved, at risk), one SQL page at a time, filtered as you type.

The table never holds more than `MAX_ROWS` rows: pages of `PAGE_SIZE` come from
`services.desk_views.queue_page` (limit/offset, SLA time left added per page) when the
cursor reaches the end. Every query runs in an exclusive worker, so a keystroke in the
filter cancels the query of the previous one. A keystroke's query runs at once: waiting
("debouncing") only pays when the query is slow, so the wait follows the last query's time
and is zero for the usual few milliseconds. The view is counted once the user pauses, in a
worker of its own, and only when the first page did not hold it all (issue 17).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label
from textual.worker import get_current_worker

from pob_tui.i18n import _
from pob_tui.reports.labels import VALUE_LABELS
from pob_tui.services.incident_views import (
    QUEUE_SORTS,
    QUEUE_VIEWS,
    IncidentRow,
    TeamChoice,
    compare_rows,
    queue_order,
)
from pob_tui.tui.messages import TicketsChanged
from pob_tui.tui.screens.base import AreaScreen
from pob_tui.tui.widgets.limited_input import LimitedInput
from pob_tui.tui.widgets.outage_banner import OutageBanner
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.pickers import debounce
from pob_tui.tui.widgets.sla_badge import sla_cell, sla_styles
from pob_tui.tui.widgets.text import format_age, plain

if TYPE_CHECKING:
    from pob_tui.services.desk_views import QueuePage

PAGE_SIZE = 100
MAX_ROWS = 2000
"""The most rows the table holds; past that, the filter narrows the list."""
SLOW_QUERY = 0.06
"""A page query slower than this (seconds) makes the next keystroke wait as long (at most
`MAX_WAIT`) so typing does not queue slow queries; faster ones run at once."""
MAX_WAIT = 0.15
COUNT_PAUSE = 0.4
"""Seconds of no new query before the view is counted (never per keystroke)."""

STATUS_LABELS = VALUE_LABELS
"""Incident statuses as the queue, the detail and the reports show them: the reports' table
of stored values (looked up, with the status itself as the fallback)."""

VIEW_LABELS = {
    "mine": _("Mine"),
    "team": _("My team"),
    "open": _("All open"),
    "unassigned": _("Unassigned"),
    "waiting": _("Waiting"),
    "resolved": _("Resolved"),
    "at_risk": _("At risk"),
}
"""What the tabs say; which views there are, and their order, is `QUEUE_VIEWS`'."""
VIEWS: tuple[tuple[str, str], ...] = tuple((key, VIEW_LABELS[key]) for key in QUEUE_VIEWS)
SLA_WIDTH = 9
"""The SLA column: '4 wd 7 h' fits; a longer time drops its hours (format_left)."""

SORT_LABELS = {
    "newest": _("newest"),
    "age": _("oldest"),
    "priority": _("priority"),
    "due": _("due"),
}
SORTS: tuple[tuple[str, str], ...] = tuple((key, SORT_LABELS[key]) for key in QUEUE_SORTS)

# The commonest statuses fit whole at 80 columns in either language ("under arbeid",
# "venter innm." in nb); the column labels are read when this module is imported, after
# the language is chosen.
QUEUE_COLUMNS = (
    PagedColumn("mark", " ", 1),
    PagedColumn("number", _("Number"), 10),
    PagedColumn("priority", _("P"), 1),
    PagedColumn("status", _("Status"), 13, min_width=max(
        11, *(len(STATUS_LABELS[s]) for s in ("in_progress", "waiting_caller")))),
    PagedColumn("caller", _("Caller"), 20, min_width=12),
    PagedColumn("service", _("Service"), 22, min_width=12, drop=3),
    PagedColumn("summary", _("Summary"), 40, min_width=20, flex=True),
    PagedColumn("team", _("Team / assignee"), 26, min_width=12, drop=4),
    PagedColumn("age", _("Age"), 4, justify="right", drop=2),
    PagedColumn("sla", _("SLA"), SLA_WIDTH, justify="right"),
)


class QueuePageLoaded(Message):
    """A page of the current view arrived (`generation` says for which query)."""

    def __init__(self, page: QueuePage, generation: int) -> None:
        super().__init__()
        self.page = page
        self.generation = generation


class QueueCounted(Message):
    """The view's row count arrived (for the query of `generation`)."""

    def __init__(self, total: int, generation: int) -> None:
        super().__init__()
        self.total = total
        self.generation = generation


class QueueRowsChanged(Message):
    """Fresh copies of rows another session changed: `rows` are those still in the view,
    `numbers` every id asked about (the ones missing from `rows` left the view)."""

    def __init__(self, rows: list[IncidentRow], numbers: dict[int, str],
                 generation: int) -> None:
        super().__init__()
        self.rows = rows
        self.numbers = numbers
        self.generation = generation


class BulkDone(Message):
    """A bulk action finished: `done` incidents changed; `errors` one line each."""

    def __init__(self, text: str, errors: list[str]) -> None:
        super().__init__()
        self.text = text
        self.errors = errors


class TeamsLoaded(Message):
    def __init__(self, teams: list[TeamChoice], purpose: str) -> None:
        super().__init__()
        self.teams = teams
        self.purpose = purpose


class ViewTabs(Horizontal):
    """The queue's views on one line, the current one marked; `[`/`]` move along."""

    def compose(self) -> ComposeResult:
        for key, label in VIEWS:
            yield Label(label, id=f"view-{key}", classes="view-tab", markup=False)
        yield Label(id="view-sort", markup=False)

    _sort = "newest"

    def show(self, view: str, sort: str) -> None:
        for key, _label in VIEWS:
            self.query_one(f"#view-{key}").set_class(key == view, "-active")
        self._sort = sort
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The key hint in full where it fits; at 80 columns in a language with longer view
        names, only the sort ('s: nyeste'), never a cut '[ ] visn…'."""
        label = SORT_LABELS[self._sort]
        hint = _("[ ] view · s: {sort}").format(sort=label)
        tabs = sum(t.outer_size.width for t in self.query(".view-tab"))
        if self.size.width and tabs + len(hint) + 1 > self.size.width:
            hint = _("s: {sort}").format(sort=label)
        self.query_one("#view-sort", Label).update(hint)


class QueueScreen(AreaScreen):
    """Incidents by view; enter opens, space marks, a/l act on the marked ones."""

    AREA = "queue"
    AUTO_FOCUS = "#queue-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open"), id="queue.open"),
        Binding("n", "log_call", _("Log call"), id="queue.log_call"),
        Binding("slash", "filter", _("Filter"), id="queue.filter"),
        Binding("right_square_bracket", "view(1)", _("Next view"), id="queue.next_view"),
        Binding("left_square_bracket", "view(-1)", _("Previous view"), show=False,
                id="queue.previous_view"),
        Binding("s", "sort", _("Sort"), id="queue.sort"),
        Binding("space", "mark", _("Mark"), id="queue.mark"),
        Binding("a", "assign", _("Assign"), id="queue.assign"),
        Binding("l", "link", _("Link to problem"), id="queue.link"),
        Binding("f", "follow_ups", _("Follow-ups"), id="queue.follow_ups"),
        Binding("r", "refresh", _("Refresh"), show=False, id="queue.refresh"),
        Binding("escape", "escape", _("Close filter"), show=False, id="queue.escape"),
    ]

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "log_call": "incident.work", "assign": "incident.work", "link": "incident.work",
        "mark": "incident.work"}

    def __init__(self) -> None:
        super().__init__()
        self.view = "open"
        self.sort = "newest"
        self.search = ""
        self.marked: set[str] = set()
        self._generation = 0
        self._next_offset = 0
        self._total: int | None = None
        self._last_query = 0.0
        """Seconds the last first-page query took (sets the next keystroke's wait)."""
        self._styles = sla_styles()
        self._raw: dict[str, IncidentRow] = {}
        """The loaded rows as the service gave them, by number (for placing live rows)."""

    def compose_body(self) -> ComposeResult:
        yield OutageBanner(id="queue-outages")  # open outages on top, with their calls
        yield ViewTabs(id="queue-views")
        filter_input = LimitedInput(placeholder=_("filter: number, summary, caller, service"),
                             id="queue-filter")
        filter_input.display = False
        yield filter_input
        table = PagedTable(QUEUE_COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="queue-table")
        table.loading = True
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(ViewTabs).show(self.view, self.sort)
        self._styles = sla_styles(self.app.get_css_variables())
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme: Any) -> None:
        """ctrl+t: the SLA cells take the new theme's colours (readable on light)."""
        self._styles = sla_styles(self.app.get_css_variables())
        self.action_refresh()

    @property
    def table(self) -> PagedTable:
        return self.query_one("#queue-table", PagedTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#queue-filter", Input)

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        self._reload()
        self.query_one(OutageBanner).reload()

    def _reload(self, *, wait: float = 0.0) -> None:
        self._generation += 1
        self._next_offset = 0
        self.workers.cancel_group(self, "queue-count")
        self.load_page(0, self._generation, wait)

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue")
    def load_page(self, offset: int, generation: int, wait: float = 0.0) -> None:
        """One page of the current view (not counted: see `count_rows`)."""
        import time

        from pob_tui.services import desk_views

        if wait and not debounce(wait):
            return
        database = self.database
        if database is None:
            return
        started = time.perf_counter()
        with database.session() as session:
            actor = self.pob.actor_in(session)
            page = desk_views.queue_page(
                session, actor=actor, view=self.view, search=self.search or None,
                sort=self.sort, limit=PAGE_SIZE, offset=offset, now=self.pob.now(),
            )
        if offset == 0:
            self._last_query = time.perf_counter() - started
        if not get_current_worker().is_cancelled:
            self.post_message(QueuePageLoaded(page, generation))

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-count")
    def count_rows(self, generation: int) -> None:
        """How many rows the view holds, once the user paused (a count reads the whole
        view: per keystroke it cost more than the page itself)."""
        from pob_tui.services import desk_views

        if not debounce(COUNT_PAUSE):
            return
        database = self.database
        if database is None:
            return
        with database.session() as session:
            actor = self.pob.actor_in(session)
            total = desk_views.count_view(session, actor=actor, view=self.view,
                                          search=self.search or None, now=self.pob.now())
        if total is not None and not get_current_worker().is_cancelled:
            self.post_message(QueueCounted(total, generation))

    def on_queue_counted(self, message: QueueCounted) -> None:
        if message.generation == self._generation:
            self._total = message.total
            self._show_status()

    def on_queue_page_loaded(self, message: QueuePageLoaded) -> None:
        if message.generation != self._generation:
            return
        page = message.page
        table = self.table
        now = self.pob.now()
        rows = [(row["number"], self._cells(row, now)) for row in page.rows]
        if page.offset == 0:
            self._raw = {}
        self._raw.update({row["number"]: row for row in page.rows})
        has_more = page.has_more and table.loaded + len(rows) < MAX_ROWS
        if page.offset == 0:
            # a view that fits its first page is counted already; others once the user
            # pauses (the old count stays shown meanwhile only if the query is the same)
            self._total = len(rows) if not page.has_more else None
            table.set_rows(rows, has_more=has_more)
            table.loading = False
            if self.focused is None:  # AUTO_FOCUS missed it while the table was loading
                table.focus()
            if page.has_more:
                self.count_rows(message.generation)
        else:
            table.append_rows(rows, has_more=has_more)
        self._next_offset = page.next_offset
        self._show_status()

    def _show_status(self) -> None:
        loaded = self.table.loaded
        label = VIEW_LABELS[self.view].lower()
        if self._total is not None and self._total > loaded:
            text = _("{loaded}/{total} {view}").format(loaded=loaded, total=self._total,
                                                       view=label)
        elif self._total is not None:
            text = _("{total} {view}").format(total=self._total, view=label)
        else:
            more = "+" if self.table.has_more else ""
            text = _("{loaded}{more} {view}").format(loaded=loaded, more=more, view=label)
        if self.marked:
            text = _("{n} marked · ").format(n=len(self.marked)) + text
        self.set_status(text)

    def _cells(self, row: IncidentRow, now: datetime) -> dict[str, Text]:
        owner = row.get("assignee") or row.get("team") or ""
        if row.get("assignee") and row.get("team"):
            owner = f"{row['team']} / {row['assignee']}"
        caller = row.get("caller_name") or row.get("caller") or ""
        cells = {
            "mark": Text("●" if row["number"] in self.marked else " "),
            "number": plain(row["number"]),
            "priority": plain(row["priority"]),
            "status": plain(STATUS_LABELS.get(row["status"], row["status"])),
            "caller": plain(caller),
            "service": plain(row.get("service_name") or row.get("service") or ""),
            "summary": plain(row["summary"]),
            "team": plain(owner),
            "age": plain(format_age(row["opened_at"], now), justify="right"),
            "sla": sla_cell(row.get("sla_left"), row.get("sla_state"), self._styles,
                            row.get("sla_day"), SLA_WIDTH),
        }
        if row.get("vip"):
            cells["caller"].stylize("bold")
        if row.get("mail_unread"):  # the caller wrote and no agent has opened it yet
            cells["summary"] = Text("✉ ", style="bold") + cells["summary"]
        return cells

    # -- live changes -----------------------------------------------------------------------

    def on_tickets_changed(self, message: TicketsChanged) -> None:
        """Another session changed incidents: fetch just those rows (never the whole
        view); a resync (the listener was away) reloads the view."""
        if self.database is None:
            return
        if message.kind in ("resync", "incident"):
            self.query_one(OutageBanner).reload()
        if message.kind == "resync":
            self._reload()
        elif message.kind == "incident" and message.ids:
            self.refresh_rows(list(message.ids), self._generation)

    @work(thread=True, exit_on_error=False, group="queue-live")
    def refresh_rows(self, ids: list[int], generation: int) -> None:
        from pob_tui.services import desk_views

        database = self.database
        if database is None:
            return
        with database.session() as session:
            actor = self.pob.actor_in(session)
            rows, numbers = desk_views.queue_rows(
                session, actor=actor, view=self.view, ids=ids, search=self.search or None,
                now=self.pob.now())
        self.post_message(QueueRowsChanged(rows, numbers, generation))

    def on_queue_rows_changed(self, message: QueueRowsChanged) -> None:
        if message.generation != self._generation or self.table.loading:
            return
        table = self.table
        now = self.pob.now()
        fresh = {row["number"]: row for row in message.rows}
        for number in message.numbers.values():
            row = fresh.get(number)
            if row is None:
                if table.remove_key(number):
                    self._raw.pop(number, None)
                    self._next_offset = max(0, self._next_offset - 1)
                    if self._total is not None:
                        self._total = max(0, self._total - 1)
                continue
            cells = self._cells(row, now)
            if table.update_row(number, cells):
                self._raw[number] = row
                continue
            order = queue_order(self.view, self.sort)
            loaded = [self._raw.get(str(k)) for k, _v in table._rows]
            index = next((i for i, r in enumerate(loaded)
                          if r is not None and compare_rows(order, r, row) > 0),
                         len(loaded))
            if index == len(loaded) and table.has_more:
                continue  # belongs further down: it comes with a later page
            table.insert_row(index, number, cells)
            self._raw[number] = row
            self._next_offset += 1
            if self._total is not None:
                self._total += 1
        self._show_status()

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.load_page(self._next_offset, self._generation)

    # -- views, sort, filter ----------------------------------------------------------------

    def action_view(self, step: int) -> None:
        keys = [key for key, _label in VIEWS]
        self.view = keys[(keys.index(self.view) + step) % len(keys)]
        self.query_one(ViewTabs).show(self.view, self.sort)
        self.table.loading = True
        self._reload()

    def action_sort(self) -> None:
        keys = [key for key, _label in SORTS]
        self.sort = keys[(keys.index(self.sort) + 1) % len(keys)]
        self.query_one(ViewTabs).show(self.view, self.sort)
        self._reload()

    def action_filter(self) -> None:
        self.open_filter(self.filter_input)

    @on(Input.Changed, "#queue-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value.strip() == self.search.strip():
            return
        self.search = event.value
        self._reload(wait=self._keystroke_wait())

    def _keystroke_wait(self) -> float:
        """No wait when the last query was fast; as long as it took (bounded) when not."""
        return 0.0 if self._last_query < SLOW_QUERY else min(MAX_WAIT, self._last_query)

    @on(Input.Submitted, "#queue-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_escape(self) -> None:
        """escape: close the filter (clearing it), else the app's back."""
        if self.filter_input.display:
            self.filter_input.display = False
            if self.search:
                self.filter_input.value = ""
                self.search = ""
                self._reload()
            self.table.focus()
            return
        self.pob.action_back()

    def action_refresh(self) -> None:
        if self.database is not None:
            self._reload()

    # -- opening and acting -----------------------------------------------------------------

    def action_open(self) -> None:
        number = self.table.row_key_at_cursor()
        if number:
            self._open(number)

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        # A mouse click on a row; the keyboard path is the enter binding above.
        if event.row_key:
            self._open(event.row_key)

    def _open(self, number: str) -> None:
        from pob_tui.tui.screens.incident import IncidentScreen

        self.app.push_screen(IncidentScreen(number), lambda _r: self.action_refresh())

    def action_log_call(self) -> None:
        from pob_tui.tui.screens.log_call import LogCallScreen

        if self.pob.not_an_agent():
            return
        self.app.push_screen(LogCallScreen(), lambda _r: self.action_refresh())

    def action_follow_ups(self) -> None:
        from pob_tui.tui.screens.follow_ups import FollowUpsScreen

        self.app.push_screen(FollowUpsScreen())

    def action_mark(self) -> None:
        number = self.table.row_key_at_cursor()
        if not number:
            return
        if number in self.marked:
            self.marked.discard(number)
        else:
            self.marked.add(number)
        table = self.table
        for key, values in table._rows:
            if key == number:
                values["mark"] = Text("●" if number in self.marked else " ")  # type: ignore[index]
                break
        if "mark" in table.columns:
            table.update_cell(number, "mark", Text("●" if number in self.marked else " "))
        self._show_status()
        table.action_cursor_down()

    def _selection(self) -> list[str]:
        if self.marked:
            return sorted(self.marked)
        number = self.table.row_key_at_cursor()
        return [number] if number else []

    def action_assign(self) -> None:
        if self._selection():
            self.load_teams("assign")

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-teams")
    def load_teams(self, purpose: str) -> None:
        from pob_tui.services import desk_views

        assert self.database is not None
        with self.database.session() as session:
            teams = desk_views.list_teams(session)
        self.post_message(TeamsLoaded(teams, purpose))

    def on_teams_loaded(self, message: TeamsLoaded) -> None:
        from pob_tui.tui.screens.dialogs import assign_dialog, assign_target

        numbers = self._selection()

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.bulk_assign(numbers, assign_target(values))

        self.app.push_screen(assign_dialog(message.teams, count=len(numbers)), chosen)

    def action_link(self) -> None:
        from pob_tui.tui.screens.dialogs import link_problem_dialog

        numbers = self._selection()
        if not numbers:
            return

        def chosen(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            if not values.get("number") and not values.get("title"):
                self.notify(_("Give a problem number or a title for a new problem"),
                            severity="warning", markup=False)
                return
            self.bulk_link(numbers, values.get("number") or None, values.get("title") or None)

        self.app.push_screen(link_problem_dialog(len(numbers)), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-bulk")
    def bulk_assign(self, numbers: list[str], target: dict[str, Any]) -> None:
        """Assign the marked incidents: one service call, all or nothing."""
        from pob_tui.services import incidents

        assert self.database is not None
        with self.database.session() as session:
            n = incidents.assign_many(session, self.pob.actor_in(session), numbers,
                                      now=self.pob.now(), **target)
        self.post_message(BulkDone(_("Assigned {n} incident(s)").format(n=n), []))

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-bulk")
    def bulk_link(self, numbers: list[str], problem: str | None, title: str | None) -> None:
        """Link the marked incidents to a problem, or to a new one: one service call."""
        from pob_tui.services import problems

        assert self.database is not None
        with self.database.session() as session:
            linked = problems.link_or_create(session, self.pob.actor_in(session), numbers,
                                             problem=problem, title=title, now=self.pob.now())
        self.post_message(BulkDone(_("Linked {n} incident(s) to {problem}").format(
            n=linked.changed, problem=linked.problem), []))

    def on_bulk_done(self, message: BulkDone) -> None:
        self.notify(message.text, markup=False)
        self.marked.clear()
        self._reload()
