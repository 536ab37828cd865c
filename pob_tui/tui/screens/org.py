"""Org area: the unit tree, people and agreements; a unit, a person's card, an agreement.

`u`, `p` and `a` switch the area's three views. The tree is a table of units indented
under their sectors (space folds a sector); the people list is paged in SQL and filtered as
you type (`/`); enter opens the highlighted row. Every query and every edit runs in a
worker that calls one function of `services.org_units`, `services.people` or
`services.agreements`; the services decide who may change what (the keys are greyed for
roles they would refuse).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Static
from textual.worker import get_current_worker

from pob_tui.i18n import _, format_decimal, ngettext
from pob_tui.tui.screens.base import AreaScreen, PobScreen
from pob_tui.tui.screens.dialogs import Field, FormDialog
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import clean, plain

if TYPE_CHECKING:
    from pob_tui.services.agreements import AgreementDetail, AgreementRow, TargetPreview
    from pob_tui.services.people import PeoplePage, PersonCard
    from pob_tui.services.units import UnitDetail, UnitRow

UNIT_COLUMNS = (
    PagedColumn("name", _("Unit"), 34, min_width=20, flex=True),
    PagedColumn("manager", _("Customer manager"), 20, min_width=14, drop=3),
    PagedColumn("cost_centre", _("Cost centre"), 8, drop=4),
    PagedColumn("people", _("People"), 6, justify="right"),
    PagedColumn("subs", _("Subs"), 4, justify="right", drop=2),
    PagedColumn("agreements", _("Agr"), 3, justify="right", drop=5),
    PagedColumn("open", _("Open"), 4, justify="right"),
    PagedColumn("satisfaction", _("Sat."), 5, justify="right"),
)
PEOPLE_COLUMNS = (
    PagedColumn("name", _("Name"), 24, min_width=16, flex=True),
    PagedColumn("username", _("Username"), 16, min_width=10, drop=2),
    PagedColumn("unit", _("Unit"), 24, min_width=12, flex=True),
    PagedColumn("phone", _("Phone"), 14, drop=1),
    PagedColumn("email", _("E-mail"), 28, drop=3),
    PagedColumn("vip", _("VIP"), 3),
)
AGREEMENT_COLUMNS = (
    PagedColumn("name", _("Agreement"), 40, min_width=20, flex=True),
    PagedColumn("customer", _("Customer"), 22, min_width=12),
    PagedColumn("services", _("Services"), 8, justify="right"),
    PagedColumn("calendar", _("Calendar"), 14, drop=1),
)
VIEWS = ("units", "people", "agreements")
VIEW_LABELS = {"units": _("Units"), "people": _("People"), "agreements": _("Agreements")}
FLAG = "⚑"


def satisfaction_text(value: float | None, flagged: bool) -> Text:
    if value is None:
        return Text("-", justify="right")
    text = Text(format_decimal(value, 1), justify="right")
    if flagged:
        text = Text(f"{FLAG}{format_decimal(value, 1)}", style="bold red", justify="right")
    return text


def minutes_text(minutes: int) -> str:
    """Targets as people say them: 45m, 4h, 2h30m, 3d (24-hour days of business time)."""
    hours, mins = divmod(minutes, 60)
    if not hours:
        return f"{mins}m"
    return f"{hours}h{mins:02d}m" if mins else f"{hours}h"


# --------------------------------------------------------------------------- messages

class UnitsLoaded(Message):
    def __init__(self, rows: list[UnitRow]) -> None:
        super().__init__()
        self.rows = rows


class PeopleLoaded(Message):
    def __init__(self, page: PeoplePage, search: str) -> None:
        super().__init__()
        self.page = page
        self.search = search


class AgreementsLoaded(Message):
    def __init__(self, rows: list[AgreementRow]) -> None:
        super().__init__()
        self.rows = rows


class UnitLoaded(Message):
    def __init__(self, detail: UnitDetail) -> None:
        super().__init__()
        self.detail = detail


class CardLoaded(Message):
    def __init__(self, card: PersonCard) -> None:
        super().__init__()
        self.card = card


class AgreementLoaded(Message):
    def __init__(self, detail: AgreementDetail) -> None:
        super().__init__()
        self.detail = detail


class PreviewLoaded(Message):
    def __init__(self, preview: TargetPreview) -> None:
        super().__init__()
        self.preview = preview


class Saved(Message):
    """An edit went through: `text` says what changed."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def _changes_text(what: str, changes: list[tuple[str, Any, Any]]) -> str:
    if not changes:
        return _("{what}: nothing changed").format(what=what)
    return f"{what}: " + "; ".join(
        f"{f} {clean(o) if o is not None else '-'} → {clean(n) if n is not None else '-'}"
        for f, o, n in changes)


def open_person_card(app: Any, username: str) -> None:
    """Show a person's card (used by the palette, the call form and an incident)."""
    app.push_screen(PersonScreen(username))


def open_unit(app: Any, code: str) -> None:
    """Show a unit (used by the palette and the reports)."""
    app.push_screen(UnitScreen(code))


def open_agreement(app: Any, name: str) -> None:
    app.push_screen(AgreementScreen(name))


# --------------------------------------------------------------------------- the area

class OrgScreen(AreaScreen):
    """Units (tree), people (paged, filtered) and agreements; u/p/a switch views."""

    AREA = "org"
    AUTO_FOCUS = "#org-units"
    BINDINGS = [
        Binding("u", "view('units')", _("Units"), id="org.units"),
        Binding("p", "view('people')", _("People"), id="org.people"),
        Binding("a", "view('agreements')", _("Agreements"), id="org.agreements"),
        Binding("enter", "open", _("Open"), id="org.open"),
        Binding("slash", "filter", _("Filter"), id="org.filter"),
        Binding("space", "fold", _("Fold"), show=False, id="org.fold"),
        Binding("r", "refresh", _("Refresh"), id="org.refresh"),
    ]

    view = "units"
    search = ""

    def __init__(self) -> None:
        super().__init__()
        self._units: list[UnitRow] = []
        self._folded: set[int] = set()

    def compose_body(self) -> ComposeResult:
        yield Label(id="org-views", markup=False)
        with ContentSwitcher(initial="org-units-view", id="org-switcher"):
            with Vertical(id="org-units-view"):
                table = PagedTable(UNIT_COLUMNS, select_on_enter=False, id="org-units")
                table.loading = True
                yield table
            with Vertical(id="org-people-view"):
                yield Input(placeholder=_("Filter: name, username, phone, e-mail or unit"),
                            id="org-filter", classes="-hidden")
                # A page a little over a tall screen: drawing rows is what a keystroke costs.
                yield PagedTable(PEOPLE_COLUMNS, select_on_enter=False, page_size=60,
                                 id="org-people")
            with Vertical(id="org-agreements-view"):
                yield PagedTable(AGREEMENT_COLUMNS, select_on_enter=False,
                                 id="org-agreements")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_views()
        # Watched rather than waiting for Input.Changed to bubble up: the query starts while
        # the keystroke's echo is drawn, not after that frame.
        self.watch(self.query_one("#org-filter", Input), "value", self._filter_changed,
                   init=False)

    def on_screen_resume(self) -> None:
        """Back from a unit, card or agreement (which may have changed it): reload."""
        if self.database is not None and self._units:
            self.load()

    def _show_views(self) -> None:
        text = Text()
        for name in VIEWS:
            key = name[0]
            label = f" {key} {VIEW_LABELS[name]} "
            text.append(label, style="bold reverse" if name == self.view else "dim")
        self.query_one("#org-views", Label).update(text)

    def table(self, view: str | None = None) -> PagedTable:
        return self.query_one(f"#org-{view or self.view}", PagedTable)

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        if self.view == "units":
            self.load_units()
        elif self.view == "people":
            self.load_people(self.search, 0)
        elif self.view == "agreements":
            self.load_agreements()

    @work(thread=True, exclusive=True, exit_on_error=False, group="org-units")
    def load_units(self) -> None:
        from pob_tui.services.units import list_units

        database = self.database
        if database is None:
            return
        with database.session() as session:
            rows = list_units(session, now=self.pob.now())
        if not get_current_worker().is_cancelled:
            self.post_message(UnitsLoaded(rows))

    @work(thread=True, exclusive=True, exit_on_error=False, group="org-people")
    def load_people(self, search: str, offset: int) -> None:
        from pob_tui.services.people import list_people

        database = self.database
        if database is None:
            return
        with database.session() as session:
            page = list_people(session, search=search or None, offset=offset,
                               limit=self.table("people").page_size)
        if not get_current_worker().is_cancelled:
            self.post_message(PeopleLoaded(page, search))

    @work(thread=True, exclusive=True, exit_on_error=False, group="org-agreements")
    def load_agreements(self) -> None:
        from pob_tui.services.agreements import list_agreements

        database = self.database
        if database is None:
            return
        with database.session() as session:
            rows = list_agreements(session)
        if not get_current_worker().is_cancelled:
            self.post_message(AgreementsLoaded(rows))

    # -- showing ----------------------------------------------------------------------------

    def on_units_loaded(self, message: UnitsLoaded) -> None:
        self._units = message.rows
        self._fill_units()

    def _fill_units(self) -> None:
        cells = []
        hidden_under: int | None = None
        for r in self._units:
            if hidden_under is not None and r.depth > hidden_under:
                continue
            hidden_under = None
            has_children = any(u.parent_id == r.id for u in self._units)
            folded = r.id in self._folded
            if folded:
                hidden_under = r.depth
            marker = ("▸ " if folded else "▾ ") if has_children else "  "
            name = Text("  " * r.depth + marker, no_wrap=True, overflow="ellipsis", end="")
            name.append_text(plain(r.name))
            name.append(f" {r.code}", style="dim")
            if not r.active:
                name.append(" " + _("(inactive)"), style="dim italic")
            if r.kind == "sector":
                name.stylize("bold")
            cells.append((r.code, {
                "name": name, "manager": plain(r.customer_manager_name or ""),
                "cost_centre": plain(r.cost_centre or ""),
                "people": plain(r.people, justify="right"),
                "subs": plain(r.subscriptions, justify="right"),
                "agreements": plain(r.agreements, justify="right"),
                "open": plain(r.open_incidents, justify="right"),
                "satisfaction": satisfaction_text(r.satisfaction, r.flagged),
            }))
        table = self.table("units")
        table.set_rows(cells, has_more=False)
        table.loading = False
        if self.focused is None and self.view == "units":
            table.focus()
        if self.view == "units":
            flagged = sum(1 for r in self._units if r.flagged)
            self.set_status(ngettext("{n} unit, {f} under 4", "{n} units, {f} under 4",
                                     len(self._units)).format(n=len(self._units), f=flagged))

    def on_people_loaded(self, message: PeopleLoaded) -> None:
        if message.search != self.search:
            return  # an older keystroke's answer
        cells = [(r.username, {
            "name": plain(r.name), "username": plain(r.username),
            "unit": plain(r.org_unit_name or ""), "phone": plain(r.phone or ""),
            "email": plain(r.email or ""),
            "vip": Text("VIP", style="bold") if r.vip else Text(""),
        }) for r in message.page.rows]
        table = self.query_one("#org-people", PagedTable)
        if message.page.offset:
            table.append_rows(cells, has_more=message.page.has_more)
        else:
            table.set_rows(cells, has_more=message.page.has_more)
        table.loading = False
        if self.view == "people":
            more = "+" if message.page.has_more else ""
            status = _("{n}{more} people").format(n=table.loaded, more=more)
            if message.search:
                status = _("{n}{more} people matching {search!r}").format(
                    n=table.loaded, more=more, search=message.search)
            self.set_status(status)

    def on_agreements_loaded(self, message: AgreementsLoaded) -> None:
        cells = [(r.name, {
            "name": plain(r.name) if not r.is_default else Text.assemble(
                plain(r.name), (" " + _("(default)"), "dim")),
            "customer": plain(r.customer_name or _("everyone")),
            "services": plain(len(r.services) or _("all"), justify="right"),
            "calendar": plain(r.calendar),
        }) for r in message.rows]
        table = self.table("agreements")
        table.set_rows(cells, has_more=False)
        table.loading = False
        if self.view == "agreements":
            self.set_status(ngettext("{n} agreement", "{n} agreements", len(cells)).format(
                n=len(cells)))

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        if message.table.id == "org-people" and self.database is not None:
            self.load_people(self.search, message.offset)

    # -- keys -------------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        if view not in VIEWS:
            return
        self.view = view
        self.query_one("#org-switcher", ContentSwitcher).current = f"org-{view}-view"
        self._show_views()
        table = self.table(view)
        self.set_focus(table)  # now: once it is loading (below) a table takes no focus
        if self.database is None:
            return
        if view == "units":
            self.load_units()
        elif view == "people":
            if not table.row_count:
                table.loading = True
            self.load_people(self.search, 0)
        else:
            table.loading = not table.row_count
            self.load_agreements()

    def action_open(self) -> None:
        key = self.table().row_key_at_cursor()
        if not key:
            return
        if self.view == "units":
            open_unit(self.app, key)
        elif self.view == "people":
            open_person_card(self.app, key)
        else:
            open_agreement(self.app, key)

    def action_fold(self) -> None:
        if self.view != "units":
            return
        code = self.table("units").row_key_at_cursor()
        row = next((r for r in self._units if r.code == code), None)
        if row is None:
            return
        self._folded ^= {row.id}
        self._fill_units()

    def action_filter(self) -> None:
        if self.view != "people":
            self.action_view("people")
        self.open_filter(self.query_one("#org-filter", Input), "-hidden")

    def _filter_changed(self, value: str) -> None:
        search = value.strip()
        if search == self.search:
            return
        self.search = search
        if self.database is not None:
            self.load_people(self.search, 0)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "org-filter":
            event.stop()
            self.table("people").focus()
            if not self.search:
                event.input.add_class("-hidden")

    def on_key(self, event: Any) -> None:
        box = self.query_one("#org-filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            box.add_class("-hidden")
            self.table("people").focus()

    def action_refresh(self) -> None:
        if self.database is not None:
            self.load()


# --------------------------------------------------------------------------- details

class _Detail(PobScreen):
    """A scrolling page of a title and small tables."""

    AREA = "org"

    def _fill(self, selector: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]],
              keys: list[str] | None = None) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        for h in headers:
            table.add_column(h)
        for i, row in enumerate(rows):
            table.add_row(*(v if isinstance(v, Text) else plain(v) for v in row),
                          key=keys[i] if keys else None)
        table.display = bool(rows)
        # A table shown in the same pass that gave it its rows sizes itself when idle; one
        # more layout after the next refresh paints its rows without waiting for a key.
        self.call_after_refresh(table.refresh, layout=True)

    def _table(self, id: str, cursor: bool = False) -> DataTable[Any]:
        return DataTable(id=id, cursor_type="row" if cursor else "none", show_cursor=cursor,
                         zebra_stripes=cursor, classes="org-list")


class UnitScreen(_Detail):
    """One unit: manager, figures, children, agreements, subscriptions, open incidents,
    people. `e` edits (administrators); enter on a row opens it."""

    HELP_TITLE = _("Org unit")
    BINDINGS = [
        Binding("e", "edit", _("Edit"), id="unit.edit"),
        Binding("enter", "open", _("Open"), id="unit.open"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"edit": "org.admin"}

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.detail: UnitDetail | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="unit-body", classes="org-body"):
            yield Static(id="unit-title", markup=False)
            yield Label(id="unit-children-label", classes="section-label", markup=False)
            yield self._table("unit-children", cursor=True)
            yield Label(id="unit-incidents-label", classes="section-label", markup=False)
            yield self._table("unit-incidents", cursor=True)
            yield Label(id="unit-people-label", classes="section-label", markup=False)
            yield self._table("unit-people", cursor=True)
            yield Label(_("Agreements"), classes="section-label")
            yield self._table("unit-agreements", cursor=True)
            yield Label(id="unit-subs-label", classes="section-label", markup=False)
            yield self._table("unit-subs")

    def load(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="unit")
    def load_detail(self) -> None:
        from pob_tui.services.units import unit_detail

        database = self.database
        if database is None:
            return
        with database.session() as session:
            detail = unit_detail(session, self.code, now=self.pob.now())
        if not get_current_worker().is_cancelled:
            self.post_message(UnitLoaded(detail))

    def on_unit_loaded(self, message: UnitLoaded) -> None:
        d = self.detail = message.detail
        u = d.unit
        self.code = u.code
        path = " › ".join(clean(p.name) for p in d.path)
        title = Text.assemble((f"{u.code}  ", "bold"), plain(u.name),
                              (f"  ({_('sector') if u.kind == 'sector' else _('unit')})", "dim"))
        if path:
            title.append("\n")
            title.append(_("Under: {path}").format(path=path), style="dim")
        title.append("\n")
        title.append(_("Customer manager: {m} · cost centre: {cc} · {active}").format(
            m=clean(u.customer_manager_name or "-"), cc=clean(u.cost_centre or "-"),
            active=_("active") if u.active else _("inactive")))
        title.append("\n")
        title.append(_("People: {p} · open incidents: {o} · subscriptions: {s} · "
                       "satisfaction: ").format(p=u.people, o=u.open_incidents,
                                                s=u.subscriptions))
        title.append_text(satisfaction_text(u.satisfaction, u.flagged))
        if u.satisfaction is not None:
            title.append(" " + _("({n} scores, 12 months)").format(n=u.satisfaction_count),
                         style="dim")
        if u.flagged:
            title.append("  " + _("under 4: follow up"), style="bold red")
        self.query_one("#unit-title", Static).update(title)
        self.query_one("#unit-children-label", Label).update(
            _("Units below ({n})").format(n=len(d.children)))
        self._fill("#unit-children", (_("Code"), _("Unit")),
                   [(c.code, c.name) for c in d.children], [c.code for c in d.children])
        self.query_one("#unit-incidents-label", Label).update(
            _("Open incidents ({n})").format(n=u.open_incidents))
        self._fill("#unit-incidents", (_("Number"), _("P"), _("Status"), _("Caller"),
                                       _("Summary")),
                   [(i.number, i.priority, i.status.replace("_", " "), i.caller_name,
                     i.summary) for i in d.open_incidents],
                   [i.number for i in d.open_incidents])
        self.query_one("#unit-people-label", Label).update(
            _("People in this unit ({n} shown)").format(n=len(d.people)))
        self._fill("#unit-people", (_("Name"), _("Username"), _("Phone"), _("VIP")),
                   [(p.name, p.username, p.phone or "", "VIP" if p.vip else "")
                    for p in d.people], [p.username for p in d.people])
        self._fill("#unit-agreements", (_("Agreement"), _("Calendar"), _("Services")),
                   [(a.name, a.calendar, a.services or _("all")) for a in d.agreements],
                   [a.name for a in d.agreements])
        self.query_one("#unit-subs-label", Label).update(
            _("Subscriptions ({n})").format(n=len(d.subscriptions)))
        self._fill("#unit-subs", (_("Service"), _("Name"), _("From"), _("To")),
                   [(s.service, s.service_name, s.valid_from, s.valid_to or "")
                    for s in d.subscriptions])
        self.set_status(u.code)

    def action_open(self) -> None:
        table = self.focused
        if not isinstance(table, DataTable) or not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not key:
            return
        if table.id == "unit-children":
            open_unit(self.app, key)
        elif table.id == "unit-incidents":
            self.pob.open_ticket(key)
        elif table.id == "unit-people":
            open_person_card(self.app, key)
        elif table.id == "unit-agreements":
            open_agreement(self.app, key)

    def action_edit(self) -> None:
        if self.detail is None:
            return
        u = self.detail.unit
        fields = [
            Field("name", _("Name"), value=u.name),
            Field("parent", _("Parent unit (code; empty: top level)"), value=u.parent,
                  required=False),
            Field("cost_centre", _("Cost centre"), value=u.cost_centre, required=False),
            Field("customer_manager", _("Customer manager (username)"),
                  value=u.customer_manager, required=False),
            Field("active", _("Active"), kind="choice", value="yes" if u.active else "no",
                  choices=(("yes", _("yes")), ("no", _("no")))),
        ]

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self.save(values)

        self.app.push_screen(FormDialog(_("Edit {code}").format(code=u.code), fields), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unit-save")
    def save(self, values: dict[str, Any]) -> None:
        from pob_tui.services.units import update_unit

        assert self.database is not None
        with self.database.session() as session:
            change = update_unit(session, self.pob.actor_in(session), self.code,
                                 now=self.pob.now(), name=values["name"],
                                 parent=values["parent"], cost_centre=values["cost_centre"],
                                 customer_manager=values["customer_manager"],
                                 active=values["active"] == "yes")
        self.post_message(Saved(_changes_text(change.unit.code, change.changes)))

    def on_saved(self, message: Saved) -> None:
        self.notify(message.text, markup=False)
        self.load_detail()


class PersonScreen(_Detail):
    """A person's card: unit and moves, location, contact, VIP, language, devices,
    subscriptions and incidents (open first). `c` logs a call for them, `e` edits."""

    HELP_TITLE = _("Person")
    BINDINGS = [
        Binding("c", "log_call", _("Log a call"), id="person.log_call"),
        Binding("e", "edit", _("Edit"), id="person.edit"),
        Binding("o", "open_unit", _("Unit"), id="person.unit"),
        Binding("enter", "open", _("Open"), id="person.open"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"log_call": "incident.work",
                                                    "edit": "org.contact"}

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username
        self.card: PersonCard | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="person-body", classes="org-body"):
            yield Static(id="person-title", markup=False)
            yield Label(id="person-incidents-label", classes="section-label", markup=False)
            yield self._table("person-incidents", cursor=True)
            yield Label(_("Devices"), classes="section-label")
            yield self._table("person-devices")
            yield Label(_("Unit history"), classes="section-label", id="person-history-label")
            yield self._table("person-history")
            yield Label(id="person-subs-label", classes="section-label", markup=False)
            yield self._table("person-subs")

    def load(self) -> None:
        self.load_card()

    @work(thread=True, exclusive=True, exit_on_error=False, group="person")
    def load_card(self) -> None:
        from pob_tui.services.people import person_card

        database = self.database
        if database is None:
            return
        with database.session() as session:
            card = person_card(session, self.pob.settings, self.username, now=self.pob.now())
        if not get_current_worker().is_cancelled:
            self.post_message(CardLoaded(card))

    def _field(self, text: Text, label: str, value: Any, field: str) -> None:
        assert self.card is not None
        text.append(f"\n{label}: ", style="dim")
        text.append_text(plain(value if value not in (None, "") else "-"))
        if field in self.card.owned_fields:
            text.append(" " + _("(directory)"), style="italic dim")

    def on_card_loaded(self, message: CardLoaded) -> None:
        c = self.card = message.card
        p = c.person
        title = Text.assemble((p.name, "bold"), "  ", (clean(p.username), "dim"))
        if p.vip:
            title.append("  VIP", style="bold reverse")
        if not p.active:
            title.append("  " + _("inactive"), style="bold red")
        if c.title:
            title.append("  ")
            title.append_text(plain(c.title))
        self._field(title, _("Unit"), " › ".join(c.unit_path) or None, "org_unit")
        self._field(title, _("Location"), p.location_name, "location")
        self._field(title, _("Phone"), p.phone, "phone")
        self._field(title, _("E-mail"), p.email, "email")
        self._field(title, _("Language"), c.language, "language")
        self.query_one("#person-title", Static).update(title)
        self.query_one("#person-incidents-label", Label).update(
            _("Incidents ({n} open)").format(n=c.open_incidents))
        self._fill("#person-incidents", (_("Number"), _("P"), _("Status"), _("Opened"),
                                         _("Summary")),
                   [(Text(i.number, style="bold" if i.open else "dim"), i.priority,
                     i.status.replace("_", " "),
                     i.opened_at.astimezone(self.pob.settings.tzinfo).strftime("%Y-%m-%d"),
                     i.summary) for i in c.incidents], [i.number for i in c.incidents])
        self._fill("#person-devices", (_("CI"), _("Class"), _("Status")),
                   [(d.name, d.ci_class, d.status) for d in c.devices])
        self.query_one("#person-history-label").display = bool(c.history)
        self._fill("#person-history", (_("Unit"), _("From"), _("To")),
                   [(h.org_unit_name or "-", h.valid_from or "…", h.valid_to or _("now"))
                    for h in c.history])
        self.query_one("#person-subs-label", Label).update(
            _("Subscriptions ({n})").format(n=len(c.subscriptions)))
        self._fill("#person-subs", (_("Service"), _("Name"), _("Through")),
                   [(s.service, s.service_name, s.via or _("personal"))
                    for s in c.subscriptions])
        self.set_status(p.username)

    def action_open(self) -> None:
        table = self.query_one("#person-incidents", DataTable)
        if table.has_focus and table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                self.pob.open_ticket(key)

    def action_open_unit(self) -> None:
        if self.card is not None and self.card.person.org_unit:
            open_unit(self.app, self.card.person.org_unit)

    def action_log_call(self) -> None:
        """The call form with this person already picked as the caller."""
        if self.card is None:
            return
        from pob_tui.tui.screens.log_call import LogCallScreen
        from pob_tui.tui.widgets.pickers import CallerPicker, Picker

        p = self.card.person
        row = {"id": p.id, "username": p.username, "name": p.name, "phone": p.phone,
               "email": p.email, "vip": p.vip, "org_unit": p.org_unit_name,
               "location": p.location_name}
        screen = LogCallScreen()
        self.app.push_screen(screen)

        def preset() -> None:
            picker = screen.query_one("#call-caller", CallerPicker)
            picker.set_row(row)
            picker.post_message(Picker.Picked(picker, row))

        screen.call_after_refresh(preset)

    def action_edit(self) -> None:
        if self.card is None:
            return
        from pob_tui.services.people import LANGUAGES
        from pob_tui.services.permissions import allowed

        c, p = self.card, self.card.person
        fields = [Field(key, label, value=value, required=False)
                  for key, label, value in (
                      ("phone", _("Phone"), p.phone), ("email", _("E-mail"), p.email),
                      ("location", _("Location (code)"), p.location))
                  if key not in c.owned_fields]
        actor = self.pob.actor
        if actor is not None and allowed(actor, "org.admin"):
            # an administrator edits all of a person, as with `pob person update`
            yes_no = (("yes", _("yes")), ("no", _("no")))
            fields += [f for f in (
                Field("vip", _("VIP"), kind="choice", value="yes" if p.vip else "no",
                      choices=yes_no),
                Field("language", _("Language"), kind="choice", value=c.language or "nb",
                      choices=tuple((code, code) for code in LANGUAGES)),
                Field("active", _("Active"), kind="choice", value="yes" if p.active else "no",
                      choices=yes_no)) if f.key not in c.owned_fields]
        before = {"phone": p.phone, "email": p.email, "location": p.location, "vip": p.vip,
                  "language": c.language, "active": p.active}
        if not fields:
            self.notify(_("The directory keeps these fields; change them there"),
                        severity="warning", markup=False)
            return
        note = None
        if c.owned_fields:
            note = _("Kept by the directory: {fields}").format(
                fields=", ".join(sorted(c.owned_fields)))

        def done(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            wanted = {k: (v == "yes") if k in ("vip", "active") else v
                      for k, v in values.items()}
            self.save({k: v for k, v in wanted.items() if (v or None) != (before[k] or None)})

        self.app.push_screen(FormDialog(_("Edit {name}").format(name=p.name), fields,
                                        note=note), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="person-save")
    def save(self, values: dict[str, Any]) -> None:
        from pob_tui.services.people import update_person

        assert self.database is not None
        with self.database.session() as session:
            change = update_person(session, self.pob.actor_in(session), self.pob.settings,
                                   self.username, **values)
        self.post_message(Saved(_changes_text(change.person.username, change.changes)))

    def on_saved(self, message: Saved) -> None:
        self.notify(message.text, markup=False)
        self.load_card()


class PreviewDialog(ModalScreen[bool]):
    """What a target change does to this month's compliance; enter saves, escape not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "save", _("Save"), id="preview.save"),
        Binding("ctrl+s", "save", _("Save"), show=False, id="preview.save2", priority=True),
        Binding("escape", "cancel", _("Cancel"), id="preview.cancel"),
    ]

    def __init__(self, preview: TargetPreview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        p = self.preview
        with Vertical(classes="dialog"):
            yield Label(plain(_("{name}: priority {p}").format(name=p.agreement, p=p.priority)),
                        classes="dialog-title")
            yield Static(preview_text(p), id="preview-text", markup=False)
            yield Label(_("enter: save · esc: cancel"), classes="dialog-help", markup=False)

    def action_save(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{format_decimal(share * 100, 1)} %"


def preview_text(p: TargetPreview) -> Text:
    """The before/after lines of a target preview."""
    text = Text()
    old = p.old
    for kind, label in (("response", _("Response")), ("resolution", _("Resolution"))):
        before, after = p.before[kind], p.after[kind]
        old_min = getattr(old, f"{kind}_minutes") if old else None
        new_min = getattr(p.new, f"{kind}_minutes")
        text.append(f"{label}: ", style="bold")
        text.append(f"{minutes_text(old_min) if old_min else '-'} → {minutes_text(new_min)}\n")
        line = _("  {month}: met {b} of {bt} ({bp}) → {a} of {at} ({ap})").format(
            month=p.month, b=before.met, bt=before.total, bp=_pct(before.share), a=after.met,
            at=after.total, ap=_pct(after.share))
        worse = (after.share or 0) < (before.share or 0)
        text.append(line + "\n", style="red" if worse else "")
    text.append(_("Running clocks with a new due time: {n}").format(n=p.running), style="dim")
    return text


class AgreementScreen(_Detail):
    """An agreement: customer, services, calendar, SLA targets per priority and the OLA
    targets of the teams behind its services. `t` changes a target after a preview."""

    HELP_TITLE = _("Agreement")
    BINDINGS = [
        Binding("t", "target", _("Edit target"), id="agreement.target"),
        Binding("o", "open_customer", _("Customer"), id="agreement.customer"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"target": "agreement.edit"}

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name_ = name
        self.detail: AgreementDetail | None = None
        self._pending: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="agreement-body", classes="org-body"):
            yield Static(id="agreement-title", markup=False)
            yield Label(_("SLA targets"), classes="section-label")
            yield self._table("agreement-targets", cursor=True)
            yield Label(_("OLA targets of the teams"), classes="section-label")
            yield self._table("agreement-ola")

    def load(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="agreement")
    def load_detail(self) -> None:
        from pob_tui.services.agreements import agreement_detail

        database = self.database
        if database is None:
            return
        with database.session() as session:
            detail = agreement_detail(session, self.name_)
        if not get_current_worker().is_cancelled:
            self.post_message(AgreementLoaded(detail))

    def on_agreement_loaded(self, message: AgreementLoaded) -> None:
        d = self.detail = message.detail
        a = d.agreement
        title = Text.assemble((clean(a.name), "bold"))
        if a.is_default:
            title.append("  " + _("(default)"), style="dim")
        title.append("\n")
        title.append(_("Customer: {c} · calendar: {cal}").format(
            c=clean(a.customer_name or _("everyone")), cal=clean(a.calendar)))
        if d.valid_from or d.valid_to:
            title.append(" · " + _("valid {f}..{t}").format(f=d.valid_from or "",
                                                           t=d.valid_to or ""))
        title.append("\n")
        title.append(_("Services: {s}").format(
            s=", ".join(clean(n) for n in d.service_names) or _("all")))
        self.query_one("#agreement-title", Static).update(title)
        self._fill("#agreement-targets", (_("Priority"), _("Response"), _("Resolution")),
                   [(f"P{t.priority}", minutes_text(t.response_minutes),
                     minutes_text(t.resolution_minutes)) for t in d.targets],
                   [str(t.priority) for t in d.targets])
        self._fill("#agreement-ola", (_("Team"), _("Priority"), _("Resolution")),
                   [(o.team_name, f"P{o.priority}", minutes_text(o.resolution_minutes))
                    for o in d.ola])
        self.set_status(a.name)

    def action_open_customer(self) -> None:
        if self.detail is not None and self.detail.agreement.customer:
            open_unit(self.app, self.detail.agreement.customer)

    def action_target(self) -> None:
        if self.detail is None:
            return
        table = self.query_one("#agreement-targets", DataTable)
        current = None
        if table.row_count:
            current = self.detail.targets[min(table.cursor_row, len(self.detail.targets) - 1)]
        fields = [
            Field("priority", _("Priority (1-5)"), kind="int", low=1, high=5,
                  value=current.priority if current else 3),
            Field("response", _("Response (minutes)"), kind="int", low=1, high=525600,
                  value=current.response_minutes if current else None, required=False),
            Field("resolution", _("Resolution (minutes)"), kind="int", low=1, high=525600,
                  value=current.resolution_minutes if current else None, required=False),
        ]

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self._pending = values
                self.preview(values)

        self.app.push_screen(FormDialog(_("Target of {name}").format(name=self.detail
                                                                      .agreement.name),
                                        fields), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="agreement-preview")
    def preview(self, values: dict[str, Any]) -> None:
        from pob_tui.services.agreements import preview_target

        assert self.database is not None
        with self.database.session() as session:
            result = preview_target(session, self.pob.settings, self.name_,
                                    values["priority"], response=values["response"],
                                    resolution=values["resolution"], now=self.pob.now())
        self.post_message(PreviewLoaded(result))

    def on_preview_loaded(self, message: PreviewLoaded) -> None:
        def done(save: bool | None) -> None:
            if save and self._pending is not None:
                self.save(self._pending)

        self.app.push_screen(PreviewDialog(message.preview), done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="agreement-save")
    def save(self, values: dict[str, Any]) -> None:
        from pob_tui.services.agreements import set_target

        assert self.database is not None
        with self.database.session() as session:
            change = set_target(session, self.pob.actor_in(session), self.pob.settings,
                                self.name_, values["priority"], response=values["response"],
                                resolution=values["resolution"], now=self.pob.now())
        self.post_message(Saved(_changes_text(f"{self.name_} P{values['priority']}",
                                              change.changes)))

    def on_saved(self, message: Saved) -> None:
        self.notify(message.text, markup=False)
        self.load_detail()


class OrgCommands(Provider):
    """ctrl+p: units, people and agreements by name (looked up in a thread)."""

    async def search(self, query: str) -> Hits:
        import asyncio

        app: Any = self.app
        if app.database is None or len(query.strip()) < 2:
            return
        try:
            hits = await asyncio.to_thread(find_org_blocking, app, query)
        except Exception as exc:  # reported like a worker failure, once
            app.report_error(exc)
            return
        matcher = self.matcher(query)
        labels = {"unit": _("Unit"), "person": _("Person"), "agreement": _("Agreement")}
        opens = {"unit": open_unit, "person": open_person_card, "agreement": open_agreement}
        for hit in hits:
            name = f"{labels[hit.kind]}: {clean(hit.label)}"
            score = max(matcher.match(name), 0.5)
            yield Hit(score, plain(name), partial(opens[hit.kind], app, hit.key), text=name,
                      help=clean(hit.detail) or None)


def find_org_blocking(app: Any, query: str) -> list[Any]:
    from pob_tui.services.units import find_org

    with app.database.session() as session:
        return find_org(session, query)
