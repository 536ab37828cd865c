"""CMDB area: configuration items paged in SQL, one CI with its relations tree, impact
lists with their reasons, and outages declared from here.

List: `/` filters as you type (name, class, serial, location, owner), `[`/`]` step through
the class views, `s` through the status views, enter opens a CI. A CI: its relations as a
tree (enter/space expands a node one level, in both directions, as deep as you walk; `g`
opens the highlighted CI), its fields, services, open incidents and problems, changes and
history. Every query runs in a worker calling one service function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from pob_tui.errors import PobError
from pob_tui.i18n import LazyLabels, _
from pob_tui.tui.screens.base import AreaScreen, PobScreen
from pob_tui.tui.screens.dialogs import Field, FormDialog
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.pickers import debounce
from pob_tui.tui.widgets.text import clean, plain

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
CI_STATUS_LABELS = {"planned": _("planned"), "in_use": _("in use"), "retired": _("retired")}
CI_CLASS_NAMES = LazyLabels(lambda: {
    "client": _("client"), "printer": _("printer"), "server": _("server"),
    "database": _("database"), "application": _("application"), "network": _("network"),
    "storage": _("storage"), "phone": _("phone"),
})
"""One CI's class as people read it (the filter above names the plural)."""


def class_name(ci_class: str) -> str:
    return CI_CLASS_NAMES.get(ci_class, ci_class)
CLASS_VIEWS: tuple[str | None, ...] = (None, *CI_CLASS_LABELS)
STATUS_VIEWS: tuple[str | None, ...] = (None, "in_use", "planned", "retired")
OUT_LABELS = {"depends_on": _("depends on"), "runs_on": _("runs on"),
              "connects_to": _("connects to")}
IN_LABELS = {"depends_on": _("depended on by"), "runs_on": _("runs"),
             "connects_to": _("connected from")}
PAGE_SIZE = 100
FILTER_DEBOUNCE = 0.12

CMDB_COLUMNS = (
    PagedColumn("name", _("Name"), 28, min_width=16, flex=True),
    PagedColumn("class", _("Class"), 11, min_width=8),
    PagedColumn("status", _("Status"), 8),
    PagedColumn("location", _("Location"), 10, min_width=8, drop=2),
    PagedColumn("owner", _("Owner"), 8, drop=3),
    PagedColumn("person", _("Person"), 12, min_width=8, drop=1),
    PagedColumn("serial", _("Serial"), 14, drop=4),
)


class CisLoaded(Message):
    def __init__(self, rows: list[Any], offset: int, generation: int) -> None:
        super().__init__()
        self.rows = rows
        self.offset = offset
        self.generation = generation


class CiDetailLoaded(Message):
    def __init__(self, detail: Any) -> None:
        super().__init__()
        self.detail = detail


class NeighboursLoaded(Message):
    def __init__(self, node_id: int, rows: list[Any]) -> None:
        super().__init__()
        self.node_id = node_id
        self.rows = rows


class ImpactLoaded(Message):
    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report


class CmdbDone(Message):
    """A write finished: `text` to show, `refresh` whether to reload."""

    def __init__(self, text: str, *, severity: str = "information",
                 payload: Any = None) -> None:
        super().__init__()
        self.text = text
        self.severity = severity
        self.payload = payload


# --- dialogs and blocking helpers (called from workers) -------------------------------------

def ci_dialog(title: str, values: dict[str, Any] | None = None, *, new: bool) -> FormDialog:
    v = values or {}
    classes = [(c, f"{c} – {label}") for c, label in CI_CLASS_LABELS.items()]
    statuses = [(s, label) for s, label in CI_STATUS_LABELS.items()]
    fields = [Field("name", _("Name"), value=v.get("name"))] if new else []
    fields += [
        Field("ci_class", _("Class"), kind="choice", choices=classes, value=v.get("ci_class")),
        Field("status", _("Status"), kind="choice", choices=statuses,
              value=v.get("status") or "in_use"),
        Field("location", _("Location (code)"), value=v.get("location"), required=False),
        Field("owner_team", _("Owner team (code)"), value=v.get("owner_team"), required=False),
        Field("person", _("Person (username)"), value=v.get("person"), required=False),
        Field("serial", _("Serial"), value=v.get("serial"), required=False),
    ]
    return FormDialog(title, fields)


def outage_dialog(ci: str | None = None, service: str | None = None,
                  incident: str | None = None) -> FormDialog:
    """Declare an outage: on a CI (name) or, with the CI left empty, on a service (code);
    from an incident, both empty mean its CI or service."""
    note = _("Creates a P1 parent incident; open incidents on the impacted services are "
             "linked to it.")
    if incident:
        note = _("From {number}: empty CI and service mean its own.").format(
            number=incident) + " " + note
    return FormDialog(_("Declare an outage"), [
        Field("ci", _("CI (name)"), value=ci, required=False),
        Field("service", _("or service (code)"), value=service, required=False),
        Field("summary", _("Summary")),
    ], note=note)


def declare_outage_blocking(app: Any, values: dict[str, Any]) -> str:
    """Declare as the app's agent and link the open incidents on the impacted services;
    the line to show (call from a worker thread)."""
    from pob_tui.services import outages

    with app.database.session() as session:
        actor = app.actor_in(session)
        ci = (values.get("ci") or "").strip() or None
        service = (values.get("service") or "").strip() or None
        parent, linked = outages.declare_and_link(
            session, actor, summary=values["summary"], ci=ci, service=None if ci else service,
            incident=values.get("incident"), now=app.now())
        number = parent.number
    return _("Outage {number} declared; {n} open incidents linked").format(
        number=number, n=len(linked))


def resolve_outage_dialog(number: str | None = None) -> FormDialog:
    return FormDialog(_("Resolve an outage"), [
        Field("number", _("Outage (incident number)"), value=number),
        Field("note", _("Resolution note"))],
        note=_("Its open child incidents are resolved with the same note."))


def resolve_outage_blocking(app: Any, values: dict[str, Any]) -> str:
    """Resolve the outage and its open children as the app's agent (from a worker)."""
    from pob_tui.services import outages

    with app.database.session() as session:
        children = outages.resolve(session, app.actor_in(session), values["number"],
                                   note=values["note"], now=app.now())
    return _("{number} resolved with {n} child incidents").format(
        number=values["number"].strip().upper(), n=len(children))


def _fields_from(values: dict[str, Any]) -> Any:
    from pob_tui.services.cmdb import CiFields

    return CiFields(ci_class=values.get("ci_class"), status=values.get("status"),
                    location=values.get("location") or "",
                    owner_team=values.get("owner_team") or "",
                    person=values.get("person") or "", serial=values.get("serial") or "")


# --- the list --------------------------------------------------------------------------------

class CmdbScreen(AreaScreen):
    """Every CI by name, 100 at a time; views by class and status."""

    AREA = "cmdb"
    AUTO_FOCUS = "#cmdb-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open"), id="cmdb.open"),
        Binding("slash", "filter", _("Filter"), id="cmdb.filter"),
        Binding("right_square_bracket", "class_view(1)", _("Next class"),
                id="cmdb.next_class"),
        Binding("left_square_bracket", "class_view(-1)", _("Previous class"), show=False,
                id="cmdb.previous_class"),
        Binding("s", "status_view", _("Status view"), id="cmdb.status_view"),
        Binding("i", "impact", _("Impact"), id="cmdb.impact"),
        Binding("n", "new", _("New CI"), id="cmdb.new"),
        Binding("o", "outage", _("Declare outage"), id="cmdb.outage"),
        Binding("r", "refresh", _("Refresh"), show=False, id="cmdb.refresh"),
        Binding("escape", "escape", _("Close filter"), show=False, id="cmdb.escape"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"new": "cmdb.edit",
                                                    "outage": "outage.declare"}

    def __init__(self) -> None:
        super().__init__()
        self.search = ""
        self.ci_class: str | None = None
        self.status: str | None = None
        self._generation = 0

    def compose_body(self) -> ComposeResult:
        yield Label(id="cmdb-views", markup=False)
        box = Input(placeholder=_("filter: name, class, serial, location, owner"),
                    id="cmdb-filter")
        box.display = False
        yield box
        table = PagedTable(CMDB_COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="cmdb-table")
        table.loading = True
        yield table

    def on_mount(self) -> None:
        super().on_mount()
        self._show_views()

    @property
    def table(self) -> PagedTable:
        return self.query_one("#cmdb-table", PagedTable)

    def _show_views(self) -> None:
        cls = CI_CLASS_LABELS.get(self.ci_class or "", _("all classes"))
        status = CI_STATUS_LABELS.get(self.status or "", _("any status"))
        self.query_one("#cmdb-views", Label).update(
            _("[ ] class: {cls} · s status: {status}").format(cls=cls, status=status))

    def load(self) -> None:
        self._reload()

    def _reload(self, wait: float = 0.0) -> None:
        self._generation += 1
        self.load_page(0, self._generation, wait)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cmdb")
    def load_page(self, offset: int, generation: int, wait: float = 0.0) -> None:
        from pob_tui.services.cmdb import list_cis

        if wait and not debounce(wait):
            return
        database = self.database
        if database is None:
            return
        with database.session() as session:
            rows = list_cis(session, search=self.search or None, ci_class=self.ci_class,
                            status=self.status, limit=PAGE_SIZE + 1, offset=offset)
        if not get_current_worker().is_cancelled:
            self.post_message(CisLoaded(rows, offset, generation))

    def on_cis_loaded(self, message: CisLoaded) -> None:
        if message.generation != self._generation:
            return
        rows = message.rows[:PAGE_SIZE]
        more = len(message.rows) > PAGE_SIZE
        cells = [(r.name, {
            "name": plain(r.name), "class": plain(class_name(r.ci_class)),
            "status": plain(CI_STATUS_LABELS.get(r.status, r.status)),
            "location": plain(r.location or ""), "owner": plain(r.owner_team or ""),
            "person": plain(r.person or ""), "serial": plain(r.serial or "")}) for r in rows]
        table = self.table
        if message.offset == 0:
            table.set_rows(cells, has_more=more)
            table.loading = False
            if self.focused is None:
                table.focus()
        else:
            table.append_rows(cells, has_more=more)
        n = table.loaded
        text = _("{n}{more} items").format(n=n, more="+" if more else "")
        if self.search:
            text = _("{n}{more} items matching {search}").format(
                n=n, more="+" if more else "", search=clean(self.search))
        self.set_status(text)

    def on_paged_table_more_wanted(self, event: PagedTable.MoreWanted) -> None:
        self.load_page(event.offset, self._generation)

    # -- keys -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        self.open_filter(self.query_one("#cmdb-filter", Input))

    @on(Input.Changed, "#cmdb-filter")
    def _typed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self._reload(wait=FILTER_DEBOUNCE)

    @on(Input.Submitted, "#cmdb-filter")
    def _submitted(self, _event: Input.Submitted) -> None:
        self.table.focus()

    def action_escape(self) -> None:
        box = self.query_one("#cmdb-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.search = ""
            self.table.focus()
            self._reload()
        else:
            self.pob.action_back()

    def action_class_view(self, step: int) -> None:
        i = CLASS_VIEWS.index(self.ci_class)
        self.ci_class = CLASS_VIEWS[(i + step) % len(CLASS_VIEWS)]
        self._show_views()
        self._reload()

    def action_status_view(self) -> None:
        i = STATUS_VIEWS.index(self.status)
        self.status = STATUS_VIEWS[(i + 1) % len(STATUS_VIEWS)]
        self._show_views()
        self._reload()

    def action_refresh(self) -> None:
        self._reload()

    def action_open(self) -> None:
        name = self.table.row_key_at_cursor()
        if name:
            self.app.push_screen(CiScreen(name))

    def action_impact(self) -> None:
        name = self.table.row_key_at_cursor()
        if name:
            self.app.push_screen(ImpactScreen(ci=name))

    def action_new(self) -> None:
        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.create(values)

        self.app.push_screen(ci_dialog(_("New configuration item"), new=True), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cmdb-write")
    def create(self, values: dict[str, Any]) -> None:
        from pob_tui.services.cmdb import create_ci

        assert self.database is not None
        try:
            with self.database.session() as session:
                row = create_ci(session, self.pob.actor_in(session), values["name"],
                                _fields_from(values), now=self.pob.now())
        except PobError as exc:
            self.post_message(CmdbDone(str(exc), severity="warning"))
            return
        self.post_message(CmdbDone(_("{name} registered").format(name=row.name),
                                   payload=row.name))

    def action_outage(self) -> None:
        name = self.table.row_key_at_cursor()
        self.app.push_screen(outage_dialog(ci=name), self._declare)

    def _declare(self, values: dict[str, Any] | None) -> None:
        if values:
            self.declare(values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cmdb-write")
    def declare(self, values: dict[str, Any]) -> None:
        try:
            text = declare_outage_blocking(self.pob, values)
        except PobError as exc:
            self.post_message(CmdbDone(str(exc), severity="warning"))
            return
        self.post_message(CmdbDone(text))

    def on_cmdb_done(self, message: CmdbDone) -> None:
        self.notify(message.text, severity=message.severity, markup=False)  # type: ignore[arg-type]
        if message.severity == "information":
            self._reload()


# --- one CI ----------------------------------------------------------------------------------

class CiScreen(PobScreen):
    """One CI: the relations tree on the left, everything else on the right."""

    AREA = "cmdb"
    HELP_TITLE = _("Configuration item")
    AUTO_FOCUS = "#ci-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "go", _("Go to CI"), id="ci.go"),
        Binding("i", "impact", _("Impact"), id="ci.impact"),
        Binding("e", "edit", _("Edit"), id="ci.edit"),
        Binding("plus", "relate", _("Relate"), id="ci.relate"),
        Binding("minus", "unrelate", _("Unrelate"), id="ci.unrelate"),
        Binding("x", "retire", _("Retire"), id="ci.retire"),
        Binding("o", "outage", _("Declare outage"), id="ci.outage"),
        Binding("r", "refresh", _("Refresh"), show=False, id="ci.refresh"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "edit": "cmdb.edit", "relate": "cmdb.edit", "unrelate": "cmdb.edit",
        "retire": "cmdb.edit", "outage": "outage.declare"}

    def __init__(self, name: str) -> None:
        super().__init__()
        self.ci_name = name
        self.detail: Any = None
        self._pending: dict[int, TreeNode[Any]] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="ci-body"):
            tree: Tree[Any] = Tree(plain(self.ci_name), id="ci-tree")
            tree.show_root = True
            tree.guide_depth = 2
            yield tree
            with VerticalScroll(id="ci-side"):
                yield Static(plain(_("Loading {name}…").format(name=self.ci_name)),
                             id="ci-fields")

    @property
    def ci_tree(self) -> Tree[Any]:
        return self.query_one("#ci-tree", Tree)

    def load(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ci-detail")
    def load_detail(self) -> None:
        from pob_tui.services.cmdb import ci_detail

        assert self.database is not None
        with self.database.session() as session:
            detail = ci_detail(session, self.ci_name)
        if not get_current_worker().is_cancelled:
            self.post_message(CiDetailLoaded(detail))

    def on_ci_detail_loaded(self, message: CiDetailLoaded) -> None:
        d = self.detail = message.detail
        self.ci_name = d.row.name
        tree = self.ci_tree
        tree.clear()
        tree.root.set_label(Text.assemble((clean(d.row.name), "bold"), " ",
                                          (class_name(d.row.ci_class), "dim")))
        tree.root.data = {"ci": d.row.name, "loaded": True}
        self._add_neighbours(tree.root, d.relations)
        tree.root.expand()
        self.query_one("#ci-fields", Static).update(self._ci_text(d))
        self.set_status(d.row.name)

    def _add_neighbours(self, node: TreeNode[Any], rows: list[Any]) -> None:
        for n in rows:
            if n.direction == "out":
                label = Text.assemble(("→ ", "bold"), (OUT_LABELS.get(n.kind, n.kind), "dim"),
                                      " ", plain(n.ci))
            else:
                label = Text.assemble(("← ", "bold"), (IN_LABELS.get(n.kind, n.kind), "dim"),
                                      " ", plain(n.ci))
            if n.status == "retired":
                label.append(" " + _("(retired)"), style="dim")
            node.add(label, data={"ci": n.ci, "kind": n.kind, "direction": n.direction,
                                  "loaded": False}, allow_expand=True)

    def _ci_text(self, d: Any) -> Text:
        r = d.row
        out = Text()
        out.append(clean(r.name), style="bold")
        out.append(f"  {class_name(r.ci_class)} · {CI_STATUS_LABELS.get(r.status, r.status)}\n")
        for label, value in ((_("Location"), d.location_name or r.location),
                             (_("Owner team"), d.owner_team_name),
                             (_("Person"), d.person_name and f"{d.person_name} ({r.person})"),
                             (_("Serial"), r.serial), (_("Description"), d.description)):
            if value:
                out.append(f"{label}: ", style="bold")
                out.append_text(plain(value))
                out.append("\n")
        sections = (
            (_("Services"), [f"{c} {n}" for c, n in d.services]),
            (_("Open incidents"), [f"{t.number} {t.status} {t.summary}"
                                   for t in d.open_incidents]),
            (_("Open problems"), [f"{t.number} {t.status} {t.summary}"
                                  for t in d.open_problems]),
            (_("Changes"), [f"{t.number} {t.status} {t.summary}" for t in d.changes]),
        )
        for title, lines in sections:
            out.append(f"\n{title} ({len(lines)})\n", style="bold")
            for line in lines[:20] or ["–"]:
                out.append_text(plain(line))
                out.append("\n")
        out.append("\n" + _("History") + "\n", style="bold")
        tz = self.pob.settings.tzinfo
        for h in d.history or []:
            what = h.comment or f"{h.field}: {h.old or ''} → {h.new or ''}"
            out.append(h.at.astimezone(tz).strftime("%Y-%m-%d %H:%M "), style="dim")
            out.append_text(plain(f"{h.actor or 'pob'} {h.kind} {what}"))
            out.append("\n")
        if not d.history:
            out.append("–\n")
        return out

    # -- walking the tree ---------------------------------------------------------------------

    @on(Tree.NodeExpanded, "#ci-tree")
    def _expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        data = event.node.data or {}
        if data and not data.get("loaded"):
            data["loaded"] = True
            self._pending[event.node.id] = event.node
            self.load_neighbours(event.node.id, data["ci"])

    @work(thread=True, exit_on_error=False, group="ci-tree")
    def load_neighbours(self, node_id: int, name: str) -> None:
        from pob_tui.services.cmdb import neighbours

        assert self.database is not None
        with self.database.session() as session:
            rows = neighbours(session, name)
        self.post_message(NeighboursLoaded(node_id, rows))

    def on_neighbours_loaded(self, message: NeighboursLoaded) -> None:
        node = self._pending.pop(message.node_id, None)
        if node is None:
            return
        if message.rows:
            self._add_neighbours(node, message.rows)
        else:
            node.allow_expand = False

    def _highlighted(self) -> dict[str, Any] | None:
        node = self.ci_tree.cursor_node
        return node.data if node is not None and node.data else None

    def action_go(self) -> None:
        data = self._highlighted()
        if data and data["ci"] != self.ci_name:
            self.app.push_screen(CiScreen(data["ci"]))

    def action_impact(self) -> None:
        self.app.push_screen(ImpactScreen(ci=self.ci_name))

    def action_refresh(self) -> None:
        self.load_detail()

    # -- editing ------------------------------------------------------------------------------

    def action_edit(self) -> None:
        if self.detail is None:
            return
        r = self.detail.row
        dialog = ci_dialog(_("Edit {name}").format(name=r.name), {
            "ci_class": r.ci_class, "status": r.status, "location": r.location,
            "owner_team": r.owner_team, "person": r.person, "serial": r.serial}, new=False)
        self.app.push_screen(dialog, self._then("update"))

    def action_relate(self) -> None:
        kinds = [(k, f"{self.ci_name} {label} …") for k, label in OUT_LABELS.items()]
        dialog = FormDialog(_("Relate {name}").format(name=self.ci_name), [
            Field("kind", _("Relation"), kind="choice", choices=kinds),
            Field("target", _("Other CI (name)"))])
        self.app.push_screen(dialog, self._then("relate"))

    def action_unrelate(self) -> None:
        node = self.ci_tree.cursor_node
        data = self._highlighted()
        if node is None or data is None or node.parent is not self.ci_tree.root:
            self.notify(_("Highlight one of this CI's own relations first"),
                        severity="warning", markup=False)
            return
        self.write("unrelate", data)

    def action_retire(self) -> None:
        if self.detail is None:
            return
        live = [n.ci for n in self.detail.relations
                if n.direction == "in" and n.status != "retired"]
        note = None
        if live:
            shown = ", ".join(live[:8]) + (" …" if len(live) > 8 else "")
            note = _("{n} live CIs rest on it: {names}").format(n=len(live), names=shown)
        dialog = FormDialog(_("Retire {name}?").format(name=self.ci_name), [
            Field("confirm", _("Retire"), kind="choice",
                  choices=[("yes", _("yes, retire it")), ("no", _("no"))],
                  value="no" if live else "yes")], note=note)
        self.app.push_screen(dialog, self._then("retire", confirm=True))

    def action_outage(self) -> None:
        self.app.push_screen(outage_dialog(ci=self.ci_name), self._then("outage"))

    def _then(self, what: str, *, confirm: bool = False
              ) -> Callable[[dict[str, Any] | None], None]:
        """The dialog's callback: write `what` with its values (retire only on "yes")."""
        def done(values: dict[str, Any] | None) -> None:
            if values and (not confirm or values.get("confirm") == "yes"):
                self.write(what, values)

        return done

    @work(thread=True, exclusive=True, exit_on_error=False, group="ci-write")
    def write(self, what: str, values: dict[str, Any]) -> None:
        from pob_tui.services import cmdb

        assert self.database is not None
        app = self.pob
        try:
            if what == "outage":
                self.post_message(CmdbDone(declare_outage_blocking(app, values)))
                return
            with self.database.session() as session:
                actor = app.actor_in(session)
                if what == "update":
                    cmdb.update_ci(session, actor, self.ci_name, _fields_from(values),
                                   now=app.now())
                    text = _("{name} saved").format(name=self.ci_name)
                elif what == "retire":
                    cmdb.update_ci(session, actor, self.ci_name,
                                   cmdb.CiFields(status="retired"), confirm_retire=True,
                                   now=app.now())
                    text = _("{name} retired").format(name=self.ci_name)
                elif what == "relate":
                    cmdb.relate(session, actor, self.ci_name, values["kind"],
                                values["target"], now=app.now())
                    text = _("Relation recorded")
                else:
                    src, dst = ((self.ci_name, values["ci"]) if values["direction"] == "out"
                                else (values["ci"], self.ci_name))
                    cmdb.unrelate(session, actor, src, values["kind"], dst, now=app.now())
                    text = _("Relation removed")
        except PobError as exc:
            self.post_message(CmdbDone(str(exc), severity="warning"))
            return
        self.post_message(CmdbDone(text))

    def on_cmdb_done(self, message: CmdbDone) -> None:
        self.notify(message.text, severity=message.severity, markup=False)  # type: ignore[arg-type]
        if message.severity == "information":
            self.load_detail()


# --- impact lists ----------------------------------------------------------------------------

IMPACT_VIEWS = (("cis", _("CIs")), ("services", _("Services")), ("org_units", _("Org units")),
                ("people", _("People")), ("locations", _("Locations")))

IMPACT_COLUMNS = (
    PagedColumn("item", _("Impacted"), 18, min_width=12),
    PagedColumn("detail", _("Why / how many"), 50, min_width=20, flex=True),
)


class ImpactScreen(PobScreen):
    """What trouble on a CI (or a change's CIs) reaches: one list per kind, each row with
    its reason; `[`/`]` switch lists, enter opens a CI or a service."""

    AREA = "cmdb"
    HELP_TITLE = _("Impact")
    AUTO_FOCUS = "#impact-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open"), id="impact.open"),
        Binding("right_square_bracket", "view(1)", _("Next list"), id="impact.next"),
        Binding("left_square_bracket", "view(-1)", _("Previous list"), show=False,
                id="impact.previous"),
    ]

    def __init__(self, *, ci: str | None = None, change: str | None = None) -> None:
        super().__init__()
        self.ci = ci
        self.change = change
        self.view = "cis"
        self.report: Any = None

    def compose_body(self) -> ComposeResult:
        yield Label(id="impact-views", markup=False)
        table = PagedTable(IMPACT_COLUMNS, select_on_enter=False, id="impact-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one("#impact-table", PagedTable)

    def load(self) -> None:
        self.load_impact()

    @work(thread=True, exclusive=True, exit_on_error=False, group="impact")
    def load_impact(self) -> None:
        from pob_tui.services.impact import impact_report

        assert self.database is not None
        with self.database.session() as session:
            report = impact_report(session, ci=self.ci, change=self.change,
                                   on=self.pob.now().astimezone(self.pob.settings.tzinfo)
                                   .date() if self.ci else None)
        if not get_current_worker().is_cancelled:
            self.post_message(ImpactLoaded(report))

    def on_impact_loaded(self, message: ImpactLoaded) -> None:
        self.report = message.report
        self.table.loading = False
        self._show()
        if self.focused is None:  # AUTO_FOCUS missed it while the table was loading
            self.table.focus()

    def _counts(self) -> dict[str, int]:
        imp = self.report.impact
        return {"cis": len(imp.cis), "services": len(imp.services),
                "org_units": len(imp.org_units), "people": imp.people,
                "locations": len(imp.locations)}

    def _show(self) -> None:
        from pob_tui.services.impact import explain

        if self.report is None:
            return
        imp = self.report.impact
        counts = self._counts()
        tabs = "  ".join((f"[{label} {counts[key]}]" if key == self.view
                          else f"{label} {counts[key]}") for key, label in IMPACT_VIEWS)
        self.query_one("#impact-views", Label).update(
            _("Impact of {what}: {tabs}").format(what=clean(self.report.title), tabs=tabs))
        rows: list[tuple[str, dict[str, Text]]] = []
        if self.view == "cis":
            rows = [(f"ci:{c.name}", {"item": plain(c.name),
                                      "detail": plain(explain(None, c.path, c.kinds))})
                    for c in imp.cis]
        elif self.view == "services":
            rows = [(f"service:{s.code}", {"item": plain(f"{s.code} {s.name}"),
                                           "detail": plain(explain(s.name, s.path, s.kinds))})
                    for s in imp.services]
        elif self.view == "org_units":
            rows = [(f"unit:{u.code}", {"item": plain(u.name), "detail": plain(
                _("{n} people · subscribes to {services}").format(
                    n=u.people, services=", ".join(u.services)))}) for u in imp.org_units]
        elif self.view == "people":
            why = {"unit": _("works in {via}"), "subscriber": _("subscribes to {via}"),
                   "owner": _("uses {via}")}
            rows = [(f"person:{p.username}", {"item": plain(p.name), "detail": plain(
                why[p.reason].format(via=p.via))}) for p in self.report.people]
        else:
            rows = [(f"location:{loc.code}", {"item": plain(loc.name), "detail": plain(
                _("{people} impacted people, {cis} impacted CIs").format(
                    people=loc.people, cis=loc.cis))}) for loc in imp.locations]
        self.table.set_rows(rows, has_more=False)
        self.set_status(_("{n} shown").format(n=len(rows)))

    def action_view(self, step: int) -> None:
        keys = [k for k, _label in IMPACT_VIEWS]
        self.view = keys[(keys.index(self.view) + step) % len(keys)]
        self._show()

    def action_open(self) -> None:
        key = self.table.row_key_at_cursor()
        if not key:
            return
        kind, _sep, value = key.partition(":")
        if kind == "ci":
            self.app.push_screen(CiScreen(value))
        elif kind == "service":
            from pob_tui.tui.screens.catalog import ServiceScreen

            self.app.push_screen(ServiceScreen(value))


__all__ = ["CiScreen", "CmdbScreen", "ImpactScreen", "declare_outage_blocking",
           "outage_dialog"]
