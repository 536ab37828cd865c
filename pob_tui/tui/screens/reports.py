"""Reports area: the KPI dashboard and the cost reports on screen, with an export key.

Views: d dashboard, c costs by service, o costs by org unit, b chargeback, s subsidy,
w kill-when-you-can (x marks the highlighted service retiring). p cycles the period,
e writes the current view as CSV (the same file `pob report ... --format csv` prints)
into `[general] export_dir`; in a `pob serve` session it shows the ssh command instead.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Sparkline, Static
from textual.worker import get_current_worker

from pob_tui.errors import PobError
from pob_tui.files import open_export
from pob_tui.i18n import _, format_decimal, local_number, ngettext
from pob_tui.reports.labels import column_label, value_label
from pob_tui.textsafe import csv_row
from pob_tui.tui.exports import export_folder, show_remote_export, ssh_command
from pob_tui.tui.screens.base import AreaScreen
from pob_tui.tui.screens.catalog import (
    RetireDone,
    ask_retire,
    mark_retiring_blocking,
    nok,
    retire_message,
)
from pob_tui.tui.widgets.text import plain

VIEWS = {
    "kpi": (_("Dashboard"), "kpi", "metric"),
    "costs": (_("Costs by service"), "costs", "service"),
    "units": (_("Costs by org unit"), "costs", "org-unit"),
    "chargeback": (_("Chargeback"), "chargeback", "service"),
    "subsidy": (_("Cross-subsidy"), "subsidy", "org-unit"),
    "retire": (_("Kill when you can"), "retire", "service"),
}
PERIODS = ("this_year", "last_year", "last_30", "last_90")
PERIOD_LABELS = {"this_year": _("this year"), "last_year": _("last year"),
                 "last_30": _("last 30 days"), "last_90": _("last 90 days")}
BAR = "█"
LEAD: dict[str, tuple[str, ...]] = {
    "costs": ("total", "code", "service"),
    "units": ("total", "org_unit", "name"),
    "chargeback": ("amount", "customer", "code", "service"),
    "subsidy": ("difference", "org_unit", "name"),
    "retire": ("yearly_cost", "code", "service"),
}
"""The columns a view shows first: its amount, then what the row is (at 80 columns the
rest scroll in from the right; the CSV export keeps the report's own order)."""


def shown_columns(view: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    lead = tuple(c for c in LEAD.get(view, ()) if c in columns)
    return lead + tuple(c for c in columns if c not in lead)


def cell(column: str, value: Any) -> Text:
    """One report cell for the screen: amounts in whole kroner grouped like the catalog
    ("14 589 434"), shares as percent, the rest as plain text."""
    if value is None:
        return plain("")
    if isinstance(value, Decimal):
        return Text(nok(value), justify="right", no_wrap=True)
    if column.endswith("share") or column.startswith("share"):
        return Text(f"{format_decimal(float(value) * 100, 1)} %", justify="right",
                    no_wrap=True)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Text(local_number(value), justify="right", no_wrap=True)
    return plain(value_label(column, value))


def period_for(name: str, today: date):  # type: ignore[no-untyped-def]
    from pob_tui.reports.costs import Period

    if name == "last_year":
        return Period.year(today.year - 1)
    if name == "last_30":
        return Period(today - timedelta(days=29), today)
    if name == "last_90":
        return Period(today - timedelta(days=89), today)
    return Period.year(today.year)


class ReportLoaded(Message):
    def __init__(self, view: str, rows: list[dict[str, Any]], columns: tuple[str, ...],
                 kpi: Any, period: Any, asked: int) -> None:
        super().__init__()
        self.asked = asked
        self.view = view
        self.rows = rows
        self.columns = columns
        self.kpi = kpi
        self.period = period


def _shown_value(column: str, value: Any) -> str:
    """A cell as people read it: metric names, flags and statuses in the current language,
    decimals with its decimal sign (the CSV export keeps the stored values)."""
    if value is None:
        return ""
    value = value_label(column, value)
    return local_number(value) if isinstance(value, float) else str(value)


def bar(value: float, scale: float, width: int = 20) -> str:
    n = 0 if scale <= 0 else round(width * value / scale)
    return BAR * max(0, min(width, n))


class ReportsScreen(AreaScreen):
    AREA = "reports"
    BINDINGS = [
        Binding("d", "view('kpi')", _("Dashboard"), id="reports.kpi"),
        Binding("c", "view('costs')", _("Costs"), id="reports.costs"),
        Binding("o", "view('units')", _("Org units"), id="reports.units"),
        Binding("b", "view('chargeback')", _("Chargeback"), id="reports.chargeback"),
        Binding("s", "view('subsidy')", _("Subsidy"), id="reports.subsidy"),
        Binding("w", "view('retire')", _("Retire"), id="reports.retire"),
        Binding("p", "period", _("Period"), id="reports.period"),
        Binding("e", "export", _("Export"), id="reports.export"),
        Binding("x", "mark_retiring", _("Mark retiring"), show=False, id="reports.mark"),
        Binding("r", "refresh", _("Refresh"), id="reports.refresh"),
        Binding("u", "open_unit", _("Open unit"), show=False, id="reports.open_unit"),
    ]

    def action_open_unit(self) -> None:
        """u: the highlighted row's org unit (chargeback, costs by unit, subsidy and the
        dashboard's satisfaction rows; org area, issue 18)."""
        table = self.query_one("#reports-table", DataTable)
        if not table.row_count or table.cursor_row >= len(self._shown):
            return
        row = self._shown[table.cursor_row]
        unit = row.get("customer") or row.get("org_unit") or (
            str(row.get("metric", "")).partition("satisfaction:")[2])
        if unit and unit not in ("-",):
            from pob_tui.tui.screens.org import open_unit

            open_unit(self.app, str(unit))

    view = "kpi"
    period_name = "this_year"
    COST_VIEWS: ClassVar[frozenset[str]] = frozenset({"costs", "units", "chargeback",
                                                      "subsidy"})
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"mark_retiring": "service.retire"}

    def permission_for(self, action: str, parameters: tuple[object, ...]) -> str | None:
        """Cost views need costs.read; the rest of the reports are open to everyone."""
        if action == "view" and parameters and parameters[0] in self.COST_VIEWS:
            return "costs.read"
        return super().permission_for(action, parameters)

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[dict[str, Any]] = []
        self._shown: list[dict[str, Any]] = []
        self._columns: tuple[str, ...] = ()
        self._period: Any = None
        # Which request the shown rows answer: an export is of what is shown and asked
        # for, never of the previous view's rows under the new view's name and period.
        self._asked = 0
        self._answered = 0

    def compose_body(self) -> ComposeResult:
        yield Label(id="reports-title", markup=False)
        with Vertical(id="kpi-board"):
            yield Static(id="kpi-figures", markup=False)
            with Horizontal(id="kpi-calls-row"):
                yield Label(_("Calls/working day"), classes="section-label")
                yield Sparkline([], id="kpi-calls")
            yield Static(id="kpi-bars", markup=False)
        table: DataTable[Text] = DataTable(id="reports-table", cursor_type="row",
                                           zebra_stripes=True)
        yield table

    def load(self) -> None:
        self._ask()

    def _ask(self) -> None:
        self._asked += 1
        self.load_report(self.view, self.period_name, self._asked)

    def _today(self) -> date:
        return self.pob.now().astimezone(self.pob.settings.tzinfo).date()

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports")
    def load_report(self, view: str, period_name: str, asked: int) -> None:
        from pob_tui.reports.kpi import kpis
        from pob_tui.services.identity import load_actor
        from pob_tui.services.reporting import build_report

        database = self.database
        if database is None:
            return
        settings = self.pob.settings
        today = self._today()
        period = period_for(period_name, today)
        if view == "kpi" and period_name == "this_year":
            from pob_tui.reports.costs import Period

            period = Period(date(today.year, 1, 1), today)
        _title, kind, by = VIEWS[view]
        columns: tuple[str, ...]
        with database.session() as session:
            if view == "kpi":
                k = kpis(session, period, now=self.pob.now(), tz=settings.tzinfo)
                rows, columns = k.as_rows(), ("metric", "value", "target", "flag")
            else:
                k = None
                actor = load_actor(session, self.pob.agent_username)
                rows, columns = build_report(session, actor, settings, kind, period=period,
                                             by=by, now=self.pob.now(),
                                             cache=self.pob.allocations)
        if not get_current_worker().is_cancelled:
            self.post_message(ReportLoaded(view, rows, columns, k, period, asked))

    def on_report_loaded(self, message: ReportLoaded) -> None:
        if message.asked != self._asked:
            return  # an answer to an earlier request: a newer one is on its way
        self._answered = message.asked
        self._rows, self._columns, self._period = message.rows, message.columns, message.period
        title = VIEWS[message.view][0]
        self.query_one("#reports-title", Label).update(
            plain(f"{title} · {message.period.start}..{message.period.end}"))
        board = self.query_one("#kpi-board")
        board.display = message.kpi is not None
        table = self.query_one("#reports-table", DataTable)
        table.clear(columns=True)
        if message.kpi is not None:
            self._show_kpi(message.kpi)
            rows = [r for r in message.rows if r["metric"].startswith("satisfaction:")]
            cols: tuple[str, ...] = ("metric", "value", "flag")
        else:
            rows, cols = message.rows, shown_columns(message.view, message.columns)
        for c in cols:
            table.add_column(column_label(c), key=c)
        self._shown = rows
        for i, r in enumerate(rows):
            table.add_row(*(cell(c, r.get(c)) if message.kpi is None
                            else plain(_shown_value(c, r.get(c))) for c in cols),
                          key=str(i))
        self.set_status(ngettext("{n} row", "{n} rows", len(message.rows)).format(
            n=len(message.rows)))

    def _show_kpi(self, k: Any) -> None:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{format_decimal(v * 100, 1)} %"

        def num(v: float | None) -> str:
            return "-" if v is None else local_number(v)

        fl = k.first_line_share
        lines = [
            _("Calls: {calls} ({per} per working day, {days} working days)").format(
                calls=k.calls, per=num(k.calls_per_working_day or None),
                days=k.working_days),
            _("Solved at first line: {share} (target 90 %){flag}").format(
                share=pct(fl), flag=_("  BELOW TARGET") if fl is not None and fl < 0.9 else ""),
            _("SLA compliance (resolution): {share} of {n}").format(share=pct(k.sla_share),
                                                                   n=k.sla_total),
            _("Backlog: {n} open, median age {age} days · MTTR {mttr} h").format(
                n=k.backlog, age=num(k.backlog_median_days), mttr=num(k.mttr_hours)),
            _("Change success rate: {share} of {n}").format(share=pct(k.change_success),
                                                            n=k.changes_done),
        ]
        self.query_one("#kpi-figures", Static).update(plain("\n".join(lines), multiline=True))
        self.query_one("#kpi-calls", Sparkline).data = [n for _d, n in k.calls_per_day] or [0]
        top = max((n for _a, n in k.backlog_ages), default=0)
        bars = [f"{age:>6} {bar(n, top)} {n}" for age, n in k.backlog_ages]
        self.query_one("#kpi-bars", Static).update(plain("\n".join(bars), multiline=True))

    def action_view(self, view: str) -> None:
        if view in VIEWS:
            self.view = view
            if self.database is not None:
                self._ask()

    def action_period(self) -> None:
        self.period_name = PERIODS[(PERIODS.index(self.period_name) + 1) % len(PERIODS)]
        self.notify(_("Period: {p}").format(p=PERIOD_LABELS[self.period_name]), markup=False)
        if self.database is not None:
            self._ask()

    def action_refresh(self) -> None:
        if self.database is not None:
            self._ask()

    def action_export(self) -> None:
        if self._answered != self._asked:
            self.notify(_("The report is still loading: export it when it shows"),
                        severity="warning", markup=False)
            return
        if not self._rows or self._period is None:
            return
        start, end = self._period.start, self._period.end
        name = f"pob-{self.view}-{start}-{end}.csv"
        if self.pob.remote:  # the file would land on the server: say how to get it
            _title, kind, by = VIEWS[self.view]
            args = ["report", kind]
            if kind not in ("kpi", "retire"):
                args += ["--by", by]
            args += ["--from", str(start), "--to", str(end), "--format", "csv"]
            show_remote_export(self.app, ssh_command(self.pob.settings, args, name))
            return
        self.export(name, list(self._rows), self._columns)

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-export")
    def export(self, name: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
        """Write the view as CSV into the export folder (`[general] export_dir`)."""
        try:
            path = export_folder(self.pob.settings) / name
            out = open_export(path)
        except PobError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        with out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(csv_row(columns))
            for r in rows:  # formula-safe cells, as `pob report --format csv` writes them
                writer.writerow(csv_row(r.get(c) for c in columns))
        self.app.call_from_thread(self.notify, _("Wrote {path}").format(path=path),
                                  markup=False)

    def action_mark_retiring(self) -> None:
        if self.view != "retire" or self.database is None:
            return
        table = self.query_one("#reports-table", DataTable)
        if not table.row_count:
            return
        code = self._shown[table.cursor_row]["code"]
        ask_retire(self, code, lambda: self.retire(code))

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-retire")
    def retire(self, code: str) -> None:
        self.post_message(RetireDone(mark_retiring_blocking(self.pob, code)))

    def on_retire_done(self, message: RetireDone) -> None:
        self.notify(retire_message(message.result), markup=False)
        self._ask()
