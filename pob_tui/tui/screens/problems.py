"""Problems and known errors: the list (area 2), one problem's detail, and the palette's
known-error search (type words in ctrl+p: matching known errors open on enter).

Problems are found and changed only through `services.problems`; resolving a problem there
adds a note to its open incidents.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import get_current_worker

from pob_tui.errors import PobError
from pob_tui.i18n import _
from pob_tui.tui.screens.base import AreaScreen, PobScreen
from pob_tui.tui.screens.dialogs import FormDialog, text_dialog
from pob_tui.tui.screens.queue import STATUS_LABELS as INCIDENT_STATUS_LABELS
from pob_tui.tui.widgets.limited_input import LimitedInput
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.pickers import debounce
from pob_tui.tui.widgets.text import clean, format_age, plain

if TYPE_CHECKING:
    from pob_tui.services.problems import KnownErrorHit, ProblemDetail, ProblemRow
    from pob_tui.tui.app import PobApp

PAGE_SIZE = 100
PROBLEM_FIELD_LABELS = {
    "root_cause": _("root cause"), "workaround": _("workaround"), "symptoms": _("symptoms"),
    "known_error": _("known error"), "status": _("status"), "incident": _("incident"),
}
"""Timeline field names as an agent reads them (the events keep the column names)."""
PROBLEM_STATUS_LABELS = {
    "new": _("new"), "investigating": _("investigating"), "known_error": _("known error"),
    "resolved": _("resolved"), "closed": _("closed"),
}

COLUMNS = (
    PagedColumn("number", _("Number"), 10),
    PagedColumn("priority", _("P"), 1),
    PagedColumn("status", _("Status"), 13, min_width=11),
    PagedColumn("ke", _("KE"), 2),
    PagedColumn("title", _("Title"), 40, min_width=20, flex=True),
    PagedColumn("service", _("Service"), 22, min_width=12, drop=2),
    PagedColumn("team", _("Team"), 20, min_width=10, drop=3),
    PagedColumn("incidents", _("Inc."), 4, justify="right"),
    PagedColumn("age", _("Age"), 4, justify="right", drop=1),
)


class ProblemsLoaded(Message):
    def __init__(self, rows: list[ProblemRow], offset: int, generation: int) -> None:
        super().__init__()
        self.rows = rows
        self.offset = offset
        self.generation = generation


class ProblemDone(Message):
    def __init__(self, text: str, number: str | None = None) -> None:
        super().__init__()
        self.text = text
        self.number = number


class ProblemRefused(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ProblemsScreen(AreaScreen):
    """Open problems (or only known errors), filtered as you type."""

    AREA = "problems"
    AUTO_FOCUS = "#problems-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open"), id="problems.open"),
        Binding("slash", "filter", _("Filter"), id="problems.filter"),
        Binding("e", "toggle_known", _("Known errors only"), id="problems.known_errors"),
        Binding("n", "new", _("New problem"), id="problems.new"),
        Binding("r", "refresh", _("Refresh"), show=False, id="problems.refresh"),
        Binding("escape", "escape", _("Close filter"), show=False, id="problems.escape"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.known_only = False
        self.search = ""
        self._generation = 0

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"new": "problem.work"}

    def compose_body(self) -> ComposeResult:
        filter_input = LimitedInput(placeholder=_("filter: number or title"), id="problems-filter")
        filter_input.display = False
        yield filter_input
        table = PagedTable(COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="problems-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    def load(self, wait: float = 0.0) -> None:
        self._generation += 1
        self.load_page(0, self._generation, wait)

    @work(thread=True, exclusive=True, exit_on_error=False, group="problems")
    def load_page(self, offset: int, generation: int, wait: float = 0.0) -> None:
        from pob_tui.services import problems

        if wait and not debounce(wait):
            return
        assert self.database is not None
        with self.database.session() as session:
            rows = problems.list_problems(
                session, known_error=True if self.known_only else None,
                search=self.search or None, limit=PAGE_SIZE + 1, offset=offset)
        if not get_current_worker().is_cancelled:
            self.post_message(ProblemsLoaded(rows, offset, generation))

    def on_problems_loaded(self, message: ProblemsLoaded) -> None:
        if message.generation != self._generation:
            return
        now = self.pob.now()
        has_more = len(message.rows) > PAGE_SIZE
        rows = [(r["number"], {
            "number": plain(r["number"]), "priority": plain(r["priority"]),
            "status": plain(PROBLEM_STATUS_LABELS.get(r["status"], r["status"])),
            "ke": Text("KE" if r["known_error"] else "", style="bold"),
            "title": plain(r["title"]), "service": plain(r.get("service") or ""),
            "team": plain(r.get("team") or ""),
            "incidents": plain(r["incidents"], justify="right"),
            "age": plain(format_age(r["opened_at"], now), justify="right"),
        }) for r in message.rows[:PAGE_SIZE]]
        if message.offset == 0:
            self.table.set_rows(rows, has_more=has_more)
            self.table.loading = False
            if self.focused is None:
                self.table.focus()
        else:
            self.table.append_rows(rows, has_more=has_more)
        what = _("known errors") if self.known_only else _("open problems")
        self.set_status(f"{self.table.loaded}{'+' if has_more else ''} {what}")

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.load_page(message.offset, self._generation)

    def action_filter(self) -> None:
        self.open_filter(self.query_one("#problems-filter", Input))

    @on(Input.Changed, "#problems-filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.search = event.value.strip()
        self.load(wait=0.15)

    @on(Input.Submitted, "#problems-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_escape(self) -> None:
        box = self.query_one("#problems-filter", Input)
        if box.display:
            box.display = False
            if box.value:
                box.value = ""
            self.table.focus()
            return
        self.pob.action_back()

    def action_toggle_known(self) -> None:
        self.known_only = not self.known_only
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_open(self) -> None:
        number = self.table.row_key_at_cursor()
        if number:
            self.app.push_screen(ProblemScreen(number), lambda _r: self.load())

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        if event.row_key:
            self.app.push_screen(ProblemScreen(event.row_key), lambda _r: self.load())

    def action_new(self) -> None:
        from pob_tui.tui.screens.dialogs import Field

        dialog = FormDialog(_("New problem"), [
            Field("title", _("Title")),
            Field("description", _("Description"), required=False),
        ])

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.create(values)

        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="problems-new")
    def create(self, values: dict[str, Any]) -> None:
        from pob_tui.services import problems

        assert self.database is not None
        try:
            with self.database.session() as session:
                problem = problems.create_problem(
                    session, self.pob.actor_in(session), title=values["title"],
                    description=values.get("description"), now=self.pob.now())
                number = problem.number
        except PobError as exc:
            self.post_message(ProblemRefused(str(exc)))
            return
        self.post_message(ProblemDone(_("Created {number}").format(number=number), number))

    def on_problem_done(self, message: ProblemDone) -> None:
        self.notify(message.text, markup=False)
        self.load()
        if message.number:
            self.app.push_screen(ProblemScreen(message.number), lambda _r: self.load())

    def on_problem_refused(self, message: ProblemRefused) -> None:
        self.notify(message.text, severity="warning", markup=False)


class ProblemLoaded(Message):
    def __init__(self, data: ProblemDetail) -> None:
        super().__init__()
        self.data = data


class ProblemScreen(PobScreen):
    """One problem: cause, workaround, symptoms, linked incidents, history."""

    HELP_TITLE = _("Problem")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back"), id="problem.close"),
        Binding("enter", "open_incident", _("Open incident"), id="problem.open_incident"),
        Binding("c", "edit('root_cause')", _("Root cause"), id="problem.root_cause"),
        Binding("w", "edit('workaround')", _("Workaround"), id="problem.workaround"),
        Binding("y", "edit('symptoms')", _("Symptoms"), id="problem.symptoms"),
        Binding("K", "known_error", _("Mark known error"), id="problem.known_error"),
        Binding("i", "investigate", _("Investigating"), show=False,
                id="problem.investigate"),
        Binding("r", "resolve", _("Resolve"), id="problem.resolve"),
        Binding("l", "link", _("Link incident"), id="problem.link"),
        Binding("u", "unlink", _("Unlink"), id="problem.unlink"),
    ]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number.upper()
        self.data: ProblemDetail | None = None

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        action: "problem.work" for action in (
            "edit", "known_error", "investigate", "resolve", "link", "unlink")}

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="problem-body"):
            yield Static(plain(self.number), id="problem-title")
            yield Static(id="problem-fields")
            yield Label(_("Linked incidents (enter opens, u unlinks)"),
                        classes="section-title", markup=False)
            table: DataTable[Text] = DataTable(id="problem-incidents", cursor_type="row",
                                               zebra_stripes=True)
            table.add_column(_("Number"), key="number", width=10)
            table.add_column(_("Status"), key="status", width=13)
            table.add_column(_("Summary"), key="summary", width=48)
            yield table
            yield Label(_("History"), classes="section-title", markup=False)
            yield Static(id="problem-events")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_status(self.number)
        self.query_one("#problem-incidents").focus()

    def load(self) -> None:
        self.load_problem()

    @work(thread=True, exclusive=True, exit_on_error=False, group="problem")
    def load_problem(self) -> None:
        from pob_tui.services import problems

        assert self.database is not None
        with self.database.session() as session:
            data = problems.problem_detail(session, self.number)
        self.post_message(ProblemLoaded(data))

    def _local(self, when: Any) -> str:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(getattr(self.pob.settings, "timezone", "Europe/Oslo"))
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else "–"

    def on_problem_loaded(self, message: ProblemLoaded) -> None:
        self.data = d = message.data
        title = Text.assemble((d["number"], "bold"), "  ", plain(d["title"]))
        if d.get("known_error"):
            title.append("  ")
            title.append(_("known error"), style="reverse bold")
        self.query_one("#problem-title", Static).update(title)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        for name, value in (
            (_("Status"), PROBLEM_STATUS_LABELS.get(d["status"], d["status"])),
            (_("Priority"), d["priority"]), (_("Service"), d.get("service")),
            (_("Team"), d.get("team")), (_("Opened"), self._local(d.get("opened_at"))),
            (_("Description"), d.get("description")), (_("Symptoms"), d.get("symptoms")),
            (_("Root cause"), d.get("root_cause")), (_("Workaround"), d.get("workaround")),
        ):
            grid.add_row(name, plain("–" if value in (None, "") else value, multiline=True))
        self.query_one("#problem-fields", Static).update(grid)
        table = self.query_one("#problem-incidents", DataTable)
        table.clear()
        for inc in d["incidents"]:
            table.add_row(plain(inc["number"]),
                          plain(INCIDENT_STATUS_LABELS.get(inc["status"], inc["status"])),
                          plain(inc["summary"]), key=inc["number"])
        events = Text()
        for i, ev in enumerate(d["events"]):
            if i:
                events.append("\n")
            events.append(self._local(ev["at"]), style="dim")
            events.append(" ")
            events.append_text(plain(ev.get("actor") or ""))
            events.append(f" {clean(ev['kind'])}", style="bold")
            changed = ev["field"]
            if changed:
                old, new = ev["old"], ev["new"]
                if changed == "status":
                    old = PROBLEM_STATUS_LABELS.get(str(old), old)
                    new = PROBLEM_STATUS_LABELS.get(str(new), new)
                field = PROBLEM_FIELD_LABELS.get(changed, changed)
                events.append_text(plain(f" {field}: {old or '–'} -> {new or '–'}"))
            if ev.get("comment"):
                events.append("  ")
                events.append_text(plain(ev["comment"]))
        self.query_one("#problem-events", Static).update(events)
        self.set_status(f"{self.number} · v{d['version']}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="problem-action")
    def act(self, kind: str, params: dict[str, Any]) -> None:
        from pob_tui.services import problems

        assert self.database is not None
        try:
            with self.database.session() as session:
                actor = self.pob.actor_in(session)
                now = self.pob.now()
                if kind == "update":
                    problems.update_problem(session, actor, self.number, now=now, **params)
                    text = _("{number} saved").format(number=self.number)
                else:
                    n = problems.link_incidents(session, actor, self.number, params["numbers"],
                                                unlink=kind == "unlink", now=now)
                    text = (_("Unlinked {n} incident(s)") if kind == "unlink"
                            else _("Linked {n} incident(s)")).format(n=n)
        except PobError as exc:
            self.post_message(ProblemRefused(str(exc)))
            return
        self.post_message(ProblemDone(text))

    def on_problem_done(self, message: ProblemDone) -> None:
        message.stop()
        self.notify(message.text, markup=False)
        self.load_problem()

    def on_problem_refused(self, message: ProblemRefused) -> None:
        message.stop()
        self.notify(message.text, severity="warning", markup=False)

    def action_edit(self, field: str) -> None:
        if self.data is None:
            return
        labels = {"root_cause": _("Root cause"), "workaround": _("Workaround"),
                  "symptoms": _("Symptoms (words agents will type)")}

        def done(values: dict[str, Any] | None) -> None:
            if values:
                self.act("update", {field: values["text"]})

        current = {"root_cause": self.data["root_cause"], "workaround": self.data["workaround"],
                   "symptoms": self.data["symptoms"]}
        self.app.push_screen(text_dialog(labels[field], labels[field], current[field]), done)

    def action_known_error(self) -> None:
        self.act("update", {"known_error": True})

    def action_investigate(self) -> None:
        self.act("update", {"status": "investigating"})

    def action_resolve(self) -> None:
        def done(values: dict[str, Any] | None) -> None:
            if values:
                self.act("update", {"status": "resolved", "note": values["text"]})

        self.app.push_screen(text_dialog(
            _("Resolve the problem"), _("Note for its open incidents"),
            self.data["root_cause"] if self.data else None), done)

    def action_link(self) -> None:
        def done(values: dict[str, Any] | None) -> None:
            if values:
                numbers = [n.strip().upper() for n in values["text"].replace(",", " ").split()]
                self.act("link", {"numbers": numbers})

        self.app.push_screen(text_dialog(_("Link incidents"),
                                         _("Incident numbers (space separated)")), done)

    def _incident_at_cursor(self) -> str | None:
        table = self.query_one("#problem-incidents", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_unlink(self) -> None:
        number = self._incident_at_cursor()
        if number:
            self.act("unlink", {"numbers": [number]})

    def action_open_incident(self) -> None:
        number = self._incident_at_cursor()
        if number:
            from pob_tui.tui.screens.incident import IncidentScreen

            self.app.push_screen(IncidentScreen(number), lambda _r: self.load())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_incident()

    def action_close(self) -> None:
        self.dismiss()


class KnownErrorCommands(Provider):
    """ctrl+p from anywhere: words match known errors (title and symptoms); enter opens."""

    async def search(self, query: str) -> Hits:
        app: PobApp = self.app  # type: ignore[assignment]
        if app.database is None or len(query.strip()) < 3:
            return
        try:
            rows = await asyncio.to_thread(_known_errors_blocking, app, query)
        except Exception as exc:  # reported like a worker failure, once
            app.report_error(exc)
            return
        for rank, row in enumerate(rows):
            label = Text.assemble((clean(row["number"]), "bold"), " ", plain(row["title"]))
            yield Hit(
                0.9 - rank * 0.01, label, partial(app.push_screen, ProblemScreen(row["number"])),
                text=f"{row['number']} {clean(row['title'])}",
                help=_("Known error · workaround: {text}").format(
                    text=clean(row.get("workaround") or "")[:80]),
            )


def _known_errors_blocking(app: PobApp, query: str) -> list[KnownErrorHit]:
    from pob_tui.services import problems

    assert app.database is not None
    with app.database.session() as session:
        return problems.search_known_errors(session, query, limit=8)
