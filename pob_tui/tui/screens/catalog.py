"""Catalog area: services with their economics; `/` filters, enter shows one service.

The list and the detail come from `services.catalog` in thread workers; the figures are the
allocation's (the same as `pob report costs`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Sparkline, Static
from textual.worker import get_current_worker

from pob_tui.i18n import _, ngettext
from pob_tui.tui.screens.base import AreaScreen, PobScreen
from pob_tui.tui.widgets.limited_input import LimitedInput
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import plain

LIFECYCLE_LABELS = {"planned": _("planned"), "live": _("live"), "retiring": _("retiring"),
                    "retired": _("retired")}

CATALOG_COLUMNS = (
    PagedColumn("code", _("Code"), 8),
    PagedColumn("name", _("Service"), 30, min_width=16, flex=True),
    PagedColumn("lifecycle", _("Life"), 8),
    PagedColumn("owner", _("Owner"), 18, min_width=10, drop=3),
    PagedColumn("support", _("Support"), 18, min_width=10, drop=4),
    PagedColumn("cost", _("Cost/yr"), 11, justify="right"),
    PagedColumn("subscribers", _("Subs"), 5, justify="right", drop=1),
    PagedColumn("active", _("Active"), 6, justify="right", drop=2),
    PagedColumn("per_user", _("Per user"), 9, justify="right"),
    PagedColumn("open", _("Open"), 4, justify="right", drop=5),
)


def may_see_costs(app: Any) -> bool:
    """Amounts are for roles with costs.read; until the agent is known, nobody sees them."""
    from pob_tui.services.permissions import allowed

    return app.actor is not None and allowed(app.actor, "costs.read")


def nok(value: Decimal | None) -> str:
    """Whole kroner with thin grouping, for screens (files keep the øre)."""
    if value is None:
        return "-"
    return f"{value:,.0f}".replace(",", " ")


class CatalogLoaded(Message):
    def __init__(self, rows: list[Any], search: str) -> None:
        super().__init__()
        self.rows = rows
        self.search = search


class ServiceLoaded(Message):
    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__()
        self.detail = detail


class RetireDone(Message):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        self.result = result


def mark_retiring_blocking(app: Any, code: str) -> dict[str, Any]:
    """Mark a service retiring as the app's agent (call from a worker thread)."""
    from pob_tui.services.catalog import mark_retiring
    from pob_tui.services.identity import load_actor

    with app.database.session() as session:
        actor = load_actor(session, app.agent_username)
        return mark_retiring(session, actor, code, now=app.now())


def ask_retire(screen: Any, code: str, then: Any) -> None:
    """x marks a service retiring and drafts a change: asked first (default no)."""
    from pob_tui.tui.screens.dialogs import confirm

    confirm(screen, _("Mark {code} retiring and draft a change to retire it?").format(
        code=code), then)


def retire_message(result: dict[str, Any]) -> str:
    if result.get("change"):
        return _("{service} marked retiring; drafted change {change}").format(**result)
    return _("{service} marked retiring (no change drafted: {note})").format(
        service=result["service"], note=result.get("change_note") or "-")


class CatalogScreen(AreaScreen):
    """All services, most expensive first."""

    AREA = "catalog"
    # Not the first focusable widget: that is the hidden filter, which would swallow keys.
    AUTO_FOCUS = "#catalog-table"
    BINDINGS = [
        Binding("enter", "open", _("Open"), id="catalog.open"),
        Binding("slash", "filter", _("Filter"), id="catalog.filter"),
        Binding("x", "retire", _("Mark retiring"), id="catalog.retire"),
        Binding("r", "refresh", _("Refresh"), id="catalog.refresh"),
    ]

    search = ""
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"retire": "service.retire"}

    def compose_body(self) -> ComposeResult:
        yield LimitedInput(placeholder=_("Filter services (enter applies, escape clears)"),
                    id="catalog-filter", classes="-hidden")
        table = PagedTable(CATALOG_COLUMNS, select_on_enter=False, id="catalog-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one("#catalog-table", PagedTable)

    def load(self) -> None:
        self.load_services(self.search)

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog")
    def load_services(self, search: str) -> None:
        from pob_tui.services.catalog import list_services

        database = self.database
        if database is None:
            return
        now = self.pob.now()
        settings = self.pob.settings
        with database.session() as session:
            rows = list_services(session, year=now.astimezone(settings.tzinfo).year,
                                 hourly_rate=settings.hourly_rate, tz=settings.tzinfo,
                                 search=search or None,
                                 as_of=now.astimezone(settings.tzinfo).date(),
                                 with_costs=may_see_costs(self.pob),
                                 cache=self.pob.allocations)
        if not get_current_worker().is_cancelled:
            self.post_message(CatalogLoaded(rows, search))

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        cells = []
        for r in message.rows:
            cells.append((r.code, {
                "code": plain(r.code), "name": plain(r.name),
                "lifecycle": plain(LIFECYCLE_LABELS.get(r.lifecycle, r.lifecycle)),
                "owner": plain(r.owner or ""), "support": plain(r.support_team or ""),
                "cost": plain(nok(r.yearly_cost), justify="right"),
                "subscribers": plain(r.subscribers, justify="right"),
                "active": plain(r.active_users, justify="right"),
                "per_user": plain(nok(r.cost_per_user), justify="right"),
                "open": plain(r.open_incidents, justify="right"),
            }))
        table = self.table
        table.set_rows(cells, has_more=False)
        table.loading = False
        if self.focused is None:
            table.focus()
        status = ngettext("{n} service", "{n} services", len(cells)).format(n=len(cells))
        if message.search:
            status = ngettext("{n} service matching {search!r}",
                              "{n} services matching {search!r}", len(cells)).format(
                n=len(cells), search=message.search)
        self.set_status(status)

    def action_filter(self) -> None:
        self.open_filter(self.query_one("#catalog-filter", Input), "-hidden")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.search = event.value.strip().lstrip("/").strip()
        self.table.focus()
        if not self.search:
            event.input.add_class("-hidden")
        self.load_services(self.search)

    def on_key(self, event: Any) -> None:
        box = self.query_one("#catalog-filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            box.add_class("-hidden")
            self.search = ""
            self.table.focus()
            self.load_services("")

    def action_refresh(self) -> None:
        if self.database is not None:
            self.load_services(self.search)

    def action_open(self) -> None:
        code = self.table.row_key_at_cursor()
        if code:
            self.app.push_screen(ServiceScreen(code))

    def on_paged_table_row_selected(self, event: PagedTable.RowSelected) -> None:
        if event.row_key:
            self.app.push_screen(ServiceScreen(event.row_key))

    def action_retire(self) -> None:
        code = self.table.row_key_at_cursor()
        if code and self.database is not None:
            ask_retire(self, code, lambda: self.retire(code))

    @work(thread=True, exclusive=True, exit_on_error=False, group="catalog-retire")
    def retire(self, code: str) -> None:
        self.post_message(RetireDone(mark_retiring_blocking(self.pob, code)))

    def on_retire_done(self, message: RetireDone) -> None:
        self.notify(retire_message(message.result), markup=False)
        self.load_services(self.search)


class ServiceScreen(PobScreen):
    """One service: costs by kind and year, subscriptions, CIs, agreements, incident trend."""

    AREA = "catalog"
    HELP_TITLE = _("Service")
    BINDINGS = [Binding("x", "retire", _("Mark retiring"), id="service.retire")]

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"retire": "service.retire"}

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="service-body"):
            yield Static(id="service-title", markup=False)
            with Horizontal(id="service-trend-row"):
                yield Label(_("Incidents / month"), classes="section-label")
                yield Sparkline([], id="service-trend")
                yield Label(id="service-trend-text", markup=False)
            yield Label(_("Costs by year and kind"), classes="section-label")
            yield DataTable(id="service-costs", cursor_type="none", show_cursor=False)
            yield Label(_("Subscriptions"), classes="section-label")
            yield DataTable(id="service-subs", cursor_type="none", show_cursor=False)
            yield Label(_("Rests on"), classes="section-label")
            yield DataTable(id="service-cis", cursor_type="none", show_cursor=False)
            yield Label(_("Agreements"), classes="section-label")
            yield DataTable(id="service-agreements", cursor_type="none", show_cursor=False)

    def load(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="service")
    def load_detail(self) -> None:
        from pob_tui.services.catalog import service_detail

        database = self.database
        if database is None:
            return
        with database.session() as session:
            detail = service_detail(session, self.code, with_costs=may_see_costs(self.pob),
                                    now=self.pob.now(),
                                    tz=self.pob.settings.tzinfo)
        if not get_current_worker().is_cancelled:
            self.post_message(ServiceLoaded(detail))

    def on_service_loaded(self, message: ServiceLoaded) -> None:
        d = message.detail
        title = Text.assemble(
            (f"{d['code']}  ", "bold"), plain(d["name"]), "\n",
            plain(_("Lifecycle: {life} · owner: {owner} · support: {support} · open incidents: "
                    "{open}").format(life=LIFECYCLE_LABELS.get(d["lifecycle"], d["lifecycle"]),
                                     owner=d["owner_team"] or "-",
                                     support=d["support_team"] or "-",
                                     open=d["open_incidents"])),
        )
        if d["description"]:
            title.append("\n")
            title.append(plain(d["description"], multiline=True))
        self.query_one("#service-title", Static).update(title)
        counts = [n for _m, n in d["trend"]]
        self.query_one("#service-trend", Sparkline).data = counts
        self.query_one("#service-trend-text", Label).update(
            plain(_("{first}..{last}: {total} incidents").format(
                first=d["trend"][0][0].strftime("%Y-%m"), last=d["trend"][-1][0].strftime("%Y-%m"),
                total=sum(counts))))
        self._fill("#service-costs", (_("Year"), _("Kind"), _("Amount")),
                   [(c["year"], c["kind"], Text(nok(c["amount"]), justify="right"))
                    for c in d["costs"]])
        self._fill("#service-subs", (_("Holder"), _("From"), _("To")),
                   [(s["holder"], s["valid_from"], s["valid_to"] or "") for s in
                    d["subscriptions"][:200]])
        self._fill("#service-cis", (_("CI"), _("Class"), _("Status")),
                   [(c["name"], c["class"], c["status"]) for c in d["cis"]])
        self._fill("#service-agreements", (_("Agreement"), _("Customer")),
                   [(a["name"], a["customer"] or _("everyone")) for a in d["agreements"]])
        self.set_status(d["code"])

    def _fill(self, selector: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        for h in headers:
            table.add_column(h)
        for row in rows:
            table.add_row(*(v if isinstance(v, Text) else plain(v) for v in row))

    def action_retire(self) -> None:
        if self.database is not None:
            ask_retire(self, self.code, self.retire)

    @work(thread=True, exclusive=True, exit_on_error=False, group="service-retire")
    def retire(self) -> None:
        self.post_message(RetireDone(mark_retiring_blocking(self.pob, self.code)))

    def on_retire_done(self, message: RetireDone) -> None:
        self.notify(retire_message(message.result), markup=False)
        self.load_detail()
