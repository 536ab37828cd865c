"""The Changes area: the list, the calendar by week, one change, and a new change by keys.

`w` switches between the list and the week calendar (`[`/`]` move a week); enter opens a
change; n creates one; s submits, p schedules and o records the outcome of the selected one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from pob_tui.i18n import _
from pob_tui.tui.screens.base import AreaScreen, PobScreen
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import plain

if TYPE_CHECKING:  # the services are imported by the workers, after the first frame
    from pob_tui.errors import ConflictError
    from pob_tui.services.changes.conflicts import WindowCheck
    from pob_tui.services.changes.queries import CalendarRow, ChangeDetail
    from pob_tui.services.changes.risk import Answer

PAGE_SIZE = 200
STATUS_LABELS = {
    "draft": _("draft"), "submitted": _("submitted"), "assessed": _("assessed"),
    "awaiting_cab": _("awaiting CAB"), "approved": _("approved"), "rejected": _("rejected"),
    "scheduled": _("scheduled"), "in_progress": _("in progress"),
    "implemented": _("implemented"), "failed": _("failed"), "backed_out": _("backed out"),
    "reviewed": _("reviewed"), "closed": _("closed"),
}
TYPE_LABELS = {"standard": _("standard"), "normal": _("normal"), "emergency": _("emergency")}
RISK_LABELS = {"high": _("high"), "medium": _("medium"), "low": _("low")}
CHANGE_FIELD_LABELS = {
    "status": _("status"), "planned_start": _("planned start"),
    "planned_end": _("planned end"), "actual_start": _("actual start"),
    "actual_end": _("actual end"), "outcome": _("outcome"), "review_note": _("review note"),
    "risk_answers": _("risk answers"), "submitted_at": _("submitted"), "cis": _("CIs"),
    "cab_meeting": _("CAB meeting"), "vote": _("vote"), "relation": _("relation"),
}
"""Timeline field names as an agent reads them (the events keep the column names)."""

COLUMNS = (
    PagedColumn("number", _("Number"), 10),
    PagedColumn("type", _("Type"), 9, drop=2),
    PagedColumn("status", _("Status"), 12, min_width=11),
    PagedColumn("risk", _("Risk"), 7),
    PagedColumn("start", _("Start"), 11),
    PagedColumn("conflicts", _("!"), 2),
    PagedColumn("title", _("Title"), 50, min_width=16, flex=True),
    PagedColumn("team", _("Team"), 22, min_width=10, drop=1),
)


class ChangesLoaded(Message):
    """A page of the list, or the week's calendar (`week` set)."""

    def __init__(self, rows: list[CalendarRow], offset: int, week: date | None) -> None:
        super().__init__()
        self.rows = rows
        self.offset = offset
        self.week = week


class ChangeActed(Message):
    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note


class ChangeConflict(Message):
    def __init__(self, error: ConflictError) -> None:
        super().__init__()
        self.error = error


class ChangeDetailLoaded(Message):
    def __init__(self, data: ChangeDetail) -> None:
        super().__init__()
        self.data = data


class WindowChecked(Message):
    def __init__(self, result: WindowCheck) -> None:
        super().__init__()
        self.result = result


class CisFound(Message):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows


def _when(at: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(tz).strftime(fmt) if at else ""


def _event_value(value: str | None, tz: tzinfo) -> str:
    """An event's old or new value: a stored time in the calendar's zone, like the rest of
    the screen, not as ISO text in UTC."""
    if value is None:
        return ""
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":
        try:
            return _when(datetime.fromisoformat(text), tz)
        except ValueError:
            return text
    return text


def outcome_dialog(number: str) -> Any:
    """The outcome of an implemented change and a note (the list's and the detail's `o`)."""
    from pob_tui.tui.screens.dialogs import Field, FormDialog

    return FormDialog(_("Outcome of {number}").format(number=number), [
        Field("outcome", _("Outcome"), kind="choice", choices=[
            ("successful", _("Successful")), ("failed", _("Failed")),
            ("backed_out", _("Backed out"))]),
        Field("note", _("Note"), required=False),
    ])


class ChangesScreen(AreaScreen):
    """Changes, newest first, or the week calendar with conflicts flagged."""

    AREA = "changes"
    BINDINGS = [
        Binding("enter", "open", _("Open"), id="changes.open"),
        Binding("n", "new", _("New"), id="changes.new"),
        Binding("w", "toggle_week", _("Week/list"), id="changes.week"),
        Binding("left_square_bracket", "week(-1)", _("Prev week"), show=False,
                id="changes.prev_week"),
        Binding("right_square_bracket", "week(1)", _("Next week"), show=False,
                id="changes.next_week"),
        Binding("s", "submit", _("Submit"), id="changes.submit"),
        Binding("p", "schedule", _("Schedule"), id="changes.schedule"),
        Binding("o", "outcome", _("Outcome"), id="changes.outcome"),
        Binding("f5", "refresh", _("Refresh"), show=False, id="changes.refresh"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "new": "change.request", "submit": "change.request", "schedule": "change.implement",
        "outcome": "change.implement"}

    def __init__(self) -> None:
        super().__init__()
        self.week: date | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="changes-title", markup=False)
        table = PagedTable(COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="changes-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one("#changes-table", PagedTable)

    def load(self) -> None:
        self.load_page(0, self.week)

    def action_refresh(self) -> None:
        if self.database is not None:
            self.load_page(0, self.week)

    @work(thread=True, exclusive=True, exit_on_error=False, group="changes")
    def load_page(self, offset: int, week: date | None) -> None:
        from pob_tui.services.changes import queries

        database = self.database
        if database is None:
            return
        with database.session() as session:
            if week is None:
                rows: list[CalendarRow] = [
                    {**r, "conflicts": []}
                    for r in queries.list_changes(session, limit=PAGE_SIZE, offset=offset)]
            else:
                rows = queries.change_calendar(session, week, settings=self.pob.settings)
        if not get_current_worker().is_cancelled:
            self.post_message(ChangesLoaded(rows, offset, week))

    def on_changes_loaded(self, message: ChangesLoaded) -> None:
        tz = self.pob.settings.tzinfo
        rows = [(r["number"], self._cells(r, tz)) for r in message.rows]
        has_more = message.week is None and len(rows) == PAGE_SIZE
        if message.offset == 0:
            self.table.set_rows(rows, has_more=has_more)
        else:
            self.table.append_rows(rows, has_more=has_more)
        self.table.loading = False
        if self.focused is None:
            self.table.focus()
        title = self.query_one("#changes-title", Static)
        if message.week is None:
            title.update(plain(_("All changes, newest first · w: week calendar")))
            self.set_status(_("{n} shown").format(n=self.table.loaded))
        else:
            end = message.week + timedelta(days=6)
            clashes = sum(1 for r in message.rows if r["conflicts"])
            title.update(plain(_("Week {week}: {start} – {end} · {n} changes, {c} with "
                                 "conflicts · [ ] weeks").format(
                week=message.week.isocalendar()[1], start=message.week.strftime("%d.%m"),
                end=end.strftime("%d.%m.%Y"), n=len(message.rows), c=clashes)))
            self.set_status(_("calendar"))

    @staticmethod
    def _cells(r: CalendarRow, tz: tzinfo) -> dict[str, Text]:
        conflicts = r["conflicts"]
        flag = plain(str(len(conflicts)) if conflicts else "")
        if conflicts:
            flag.stylize("bold red")
        return {
            "number": plain(r["number"]),
            "type": plain(TYPE_LABELS.get(r["type"], r["type"])),
            "status": plain(STATUS_LABELS.get(r["status"], r["status"])),
            "risk": plain(RISK_LABELS.get(r["risk"] or "", "-")),
            "start": plain(_when(r["planned_start"], tz, "%d.%m %H:%M")),
            "conflicts": flag,
            "title": plain(r["title"]),
            "team": plain(r["team"] or ""),
        }

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        if self.week is None:
            self.load_page(message.offset, None)

    def action_toggle_week(self) -> None:
        self.week = None if self.week is not None else self.pob.now().astimezone(
            self.pob.settings.tzinfo).date() - timedelta(
            days=self.pob.now().astimezone(self.pob.settings.tzinfo).weekday())
        self.table.loading = True
        self.load_page(0, self.week)

    def action_week(self, step: int) -> None:
        if self.week is not None:
            self.week += timedelta(days=7 * step)
            self.load_page(0, self.week)

    def _number(self) -> str | None:
        return self.table.row_key_at_cursor()

    def action_open(self) -> None:
        number = self._number()
        if number:
            self.app.push_screen(ChangeDetailScreen(number))

    def action_new(self) -> None:
        self.app.push_screen(ChangeFormScreen(), lambda _r: self.action_refresh())

    def action_submit(self) -> None:
        from pob_tui.tui.screens.dialogs import confirm

        number = self._number()
        if number:
            confirm(self, _("Submit {number} for assessment?").format(number=number),
                    lambda: self.act("submit", number))

    def action_schedule(self) -> None:
        number = self._number()
        if number:
            self.act("schedule", number)

    def action_outcome(self) -> None:
        """The same dialog as the detail's `o`: the outcome and a note for the record."""
        number = self._number()
        if number:
            def picked(values: dict[str, Any] | None) -> None:
                if values and values.get("outcome"):
                    self.act("outcome", number, values["outcome"], values.get("note"))

            self.app.push_screen(outcome_dialog(number), picked)

    @work(thread=True, exclusive=True, exit_on_error=False, group="changes-act")
    def act(self, what: str, number: str, value: str | None = None,
            note: str | None = None) -> None:
        from pob_tui.services.changes import lifecycle

        database = self.database
        if database is None:
            return
        app = self.pob
        with database.session() as session:
            actor = app.actor_in(session)
            if what == "submit":
                ch = lifecycle.submit_change(session, actor, number, now=app.now(),
                                             settings=app.settings)
            elif what == "schedule":
                ch = lifecycle.schedule_change(session, actor, number, now=app.now(),
                                               settings=app.settings)
            else:
                ch = lifecycle.record_outcome(session, actor, number, value or "",
                                              note=note, now=app.now())
            note = f"{ch.number}: {STATUS_LABELS.get(ch.status, ch.status)}" + (
                " · " + _("risk {risk}").format(risk=RISK_LABELS[ch.risk]) if ch.risk else "")
        self.post_message(ChangeActed(note))

    def on_change_acted(self, message: ChangeActed) -> None:
        self.notify(message.note, markup=False)
        self.action_refresh()


class ChangeDetailScreen(PobScreen):
    """One change: risk with reasons, impact, conflicts (drafts too), plans and history; and
    its actions by key: s submits (asks first), p sets the planned window (a draft's, or
    schedules an approved change), o records the outcome with a note. Each action carries
    the version the screen showed: a change saved meanwhile goes to the conflict view."""

    HELP_TITLE = _("Change")
    BINDINGS = [
        Binding("s", "submit", _("Submit"), id="change.submit"),
        Binding("p", "schedule", _("Schedule"), id="change.schedule"),
        Binding("o", "outcome", _("Outcome"), id="change.outcome"),
        Binding("i", "impact", _("Impact lists"), id="change.impact"),
    ]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number
        self.data: ChangeDetail | None = None

    def permission_for(self, action: str, parameters: tuple[object, ...]) -> str | None:
        """As the CLI: submitting and a draft's window need change.request; scheduling and
        the outcome need change.implement (the services check again)."""
        if action == "submit":
            return "change.request"
        if action == "schedule":
            status = self.data["status"] if self.data else "draft"
            return "change.request" if status in ("draft", "rejected") else "change.implement"
        if action == "outcome":
            return "change.implement"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys the change's state does not allow are greyed (the service would refuse)."""
        allowed = super().check_action(action, parameters)
        if not allowed or self.data is None or action not in ("submit", "schedule", "outcome"):
            return allowed
        from pob_tui.services.changes.lifecycle import TRANSITIONS  # loaded by the worker

        status = self.data["status"]
        nexts = TRANSITIONS.get(status, ())
        fits = {"submit": "submitted" in nexts,
                "schedule": status in ("draft", "rejected") or "scheduled" in nexts,
                "outcome": "implemented" in nexts}[action]
        return True if fits else None

    def action_impact(self) -> None:
        """The impact as lists with their reasons (the CMDB's impact screen)."""
        from pob_tui.tui.screens.cmdb import ImpactScreen

        self.app.push_screen(ImpactScreen(change=self.number))

    def action_submit(self) -> None:
        from pob_tui.tui.screens.dialogs import confirm

        if self.data is None:
            self.app.bell()
            return
        version = self.data["version"]
        confirm(self, _("Submit {number} for assessment?").format(number=self.number),
                lambda: self.act("submit", version))

    def action_schedule(self) -> None:
        from pob_tui.tui.screens.dialogs import Field, FormDialog

        if self.data is None:
            self.app.bell()
            return
        d, tz = self.data, self.pob.settings.tzinfo
        version = d["version"]
        draft = d["status"] in ("draft", "rejected")
        title = (_("Planned window of {number}") if draft
                 else _("Schedule {number}")).format(number=self.number)
        dialog = FormDialog(title, [
            Field("start", _("Planned start (YYYY-MM-DD HH:MM)"),
                  value=_when(d["planned_start"], tz) or None),
            Field("end", _("Planned end (YYYY-MM-DD HH:MM)"),
                  value=_when(d["planned_end"], tz) or None),
        ])
        self.app.push_screen(dialog, self._then("schedule", version))

    def _then(self, what: str, version: int) -> Callable[[dict[str, Any] | None], None]:
        """A dialog's callback: act on its values; nothing when it was cancelled."""
        def then(values: dict[str, Any] | None) -> None:
            if values:
                self.act(what, version, values)

        return then

    def action_outcome(self) -> None:

        if self.data is None:
            self.app.bell()
            return
        version = self.data["version"]
        self.app.push_screen(outcome_dialog(self.number), self._then("outcome", version))

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-detail-act")
    def act(self, what: str, version: int, values: dict[str, Any] | None = None) -> None:
        """One service call, based on the version the agent saw."""
        from pob_tui.errors import ConflictError
        from pob_tui.services.changes import lifecycle

        database = self.database
        if database is None:
            return
        app, values = self.pob, values or {}
        try:
            with database.session() as session:
                actor = app.actor_in(session)
                if what == "submit":
                    ch = lifecycle.submit_change(session, actor, self.number, now=app.now(),
                                                 settings=app.settings,
                                                 expected_version=version)
                elif what == "schedule" and self.data and self.data["status"] in (
                        "draft", "rejected"):
                    ch = lifecycle.update_change(session, actor, self.number,
                                                 planned_start=values.get("start"),
                                                 planned_end=values.get("end"), now=app.now(),
                                                 settings=app.settings,
                                                 expected_version=version)
                elif what == "schedule":
                    ch = lifecycle.schedule_change(session, actor, self.number,
                                                   planned_start=values.get("start"),
                                                   planned_end=values.get("end"),
                                                   now=app.now(), settings=app.settings,
                                                   expected_version=version)
                else:
                    ch = lifecycle.record_outcome(session, actor, self.number,
                                                  values.get("outcome") or "",
                                                  note=values.get("note"), now=app.now(),
                                                  expected_version=version)
                note = f"{ch.number}: {STATUS_LABELS.get(ch.status, ch.status)}"
        except ConflictError as exc:
            self.post_message(ChangeConflict(exc))
            return
        self.post_message(ChangeActed(note))

    def on_change_acted(self, message: ChangeActed) -> None:
        self.notify(message.note, markup=False)
        self.load_detail()

    def on_change_conflict(self, message: ChangeConflict) -> None:
        """Someone saved first: nothing was written; say so, r reloads."""
        from pob_tui.tui.screens.dialogs import ConflictDialog

        def then(reload: dict[str, Any] | bool | None) -> None:
            if reload:
                self.load_detail()

        self.app.push_screen(
            ConflictDialog(str(message.error), message.error.changes, can_merge=False), then)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="change-detail"):
            yield Static(plain(_("Loading {number}…").format(number=self.number)),
                         id="change-detail-text", markup=False)

    def load(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-detail")
    def load_detail(self) -> None:
        from pob_tui.services.changes import queries

        database = self.database
        if database is None:
            return
        with database.session() as session:
            data = queries.change_detail(session, self.number, settings=self.pob.settings)
        self.post_message(ChangeDetailLoaded(data))

    def on_change_detail_loaded(self, message: ChangeDetailLoaded) -> None:
        self.data = message.data
        self.refresh_bindings()
        d, tz = message.data, self.pob.settings.tzinfo
        imp = d.get("impact")
        lines = [
            f"{d['number']} · {TYPE_LABELS.get(d['type'], d['type'])} · "
            f"{STATUS_LABELS.get(d['status'], d['status'])}",
            d["title"],
            _("Risk: {risk}").format(risk=RISK_LABELS.get(d["risk"] or "", "-"))
            + (" – " + "; ".join(d["risk_reasons"]) if d["risk_reasons"] else ""),
            _("Window: {start} – {end}").format(start=_when(d["planned_start"], tz),
                                                end=_when(d["planned_end"], tz)),
            _("Team: {team} · implementer: {who}").format(team=d["team"] or "-",
                                                           who=d["implementer"] or "-"),
            _("CIs: {cis}").format(cis=", ".join(d["cis"]) or "-"),
            _("Impact (i: the lists with their reasons): {people} people"
              ).format(people=imp["people"] if imp else 0),
        ]
        if imp:
            for label, names in ((_("Services"), imp["service_names"]),
                                 (_("Org units"), imp["org_unit_names"]),
                                 (_("Impacted CIs"), imp["ci_names"]),
                                 (_("Locations"), imp["location_names"])):
                if names:
                    lines.append(f"  {label}: " + ", ".join(names))
        for c in d.get("conflicts") or []:
            lines.append(_("Conflict: {detail}").format(detail=c["detail"]))
        if d.get("freeze"):
            lines.append(_("Freeze: {names}").format(names=", ".join(d["freeze"])))
        if d["outcome"]:
            lines.append(_("Outcome: {outcome}").format(outcome=d["outcome"]))
        if d["review_required"] and d["status"] not in ("reviewed", "closed"):
            lines.append(_("A post-implementation review is required."))
        for label, plan in ((_("Implementation"), d["implementation_plan"]),
                            (_("Test"), d["test_plan"]), (_("Back-out"), d["backout_plan"])):
            if plan:
                lines.append(f"{label}: {plan}")
        lines.append("")
        for ev in d["events"]:
            old, new = _event_value(ev["old"], tz), _event_value(ev["new"], tz)
            if ev["field"] == "status":
                old, new = STATUS_LABELS.get(old, old), STATUS_LABELS.get(new, new)
            field = CHANGE_FIELD_LABELS.get(ev["field"] or "", ev["field"])
            what = ev["comment"] or (f"{field}: {old or '–'} → {new or '–'}"
                                     if ev["field"] else "")
            kind = "" if ev["field"] and not ev["comment"] else f"{ev['kind']} "
            lines.append(f"{_when(ev['at'], tz)} {ev['actor'] or '-'} {kind}{what}")
        self.query_one("#change-detail-text", Static).update(plain("\n".join(lines),
                                                                   multiline=True))


QUESTION_KEYS = (("f2", "user_impact", _("Users notice")), ("f3", "complexity", _("Complexity")),
                 ("f4", "backout", _("Back-out")), ("f5", "tested", _("Tested")),
                 ("f6", "done_before", _("Done before")))


class ChangeFormScreen(PobScreen):
    """A new change by keys: tab between fields, enter in the CI field adds the highlighted
    CI, F2-F6 answer the risk questions, ctrl+s saves the draft."""

    HELP_TITLE = _("New change")
    BINDINGS = [
        # "F1 more" first so it fits at 80 columns: `?` types into the fields here
        Binding("f1", "app.help", _("more"), id="changes.form.more", priority=True,
                key_display="F1"),
        Binding("ctrl+s", "save", _("Save"), id="changes.form.save"),
        *(Binding(key, f"answer('{name}')", label, id=f"changes.form.{name}")
          for key, name, label in QUESTION_KEYS),
        Binding("f7", "clear_cis", _("Clear CIs"), show=False, id="changes.form.clear_cis"),
    ]
    FIELDS = (("title", _("Title")), ("type", _("Type")), ("template", _("Template")),
              ("ci", _("CI search")), ("start", _("Start")), ("end", _("End")),
              ("implementation_plan", _("Plan")), ("backout_plan", _("Back-out")),
              ("emergency_reason", _("Emergency")))

    def __init__(self) -> None:
        super().__init__()
        from pob_tui.services.changes.risk import DEFAULT_ANSWERS

        self.answers: dict[str, Answer] = dict(DEFAULT_ANSWERS)
        self.cis: list[str] = []
        self.found: list[dict[str, Any]] = []

    def compose_body(self) -> ComposeResult:
        placeholders = {"type": "normal | standard | emergency",
                        "template": _("standard changes: template name"),
                        "ci": _("type to search, enter adds")}
        # Start and end stay empty (a grey example date looked filled in); the format is
        # said beside them instead. Focus does not select all: tab then type appends.
        with VerticalScroll(id="change-form"):
            for key, label in self.FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield Input(value="normal" if key == "type" else "", id=f"cf-{key}",
                                placeholder=placeholders.get(key, ""), compact=True,
                                select_on_focus=False)
                    if key in ("start", "end"):
                        yield Label(_("YYYY-MM-DD HH:MM"), classes="form-hint",
                                    markup=False)
                if key == "end":
                    # conflicts and freezes of the planned window, before saving
                    yield Static("", id="cf-window", markup=False)
                if key == "ci":
                    yield Static("", id="cf-cis", markup=False)
                    results = OptionList(id="cf-ci-results")
                    results.can_focus = False
                    yield results
            yield Static("", id="cf-answers", markup=False)
        self.call_after_refresh(self._show_answers)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#cf-title", Input).focus()
        self._show_answers()

    def _show_answers(self) -> None:
        def word(v: Answer) -> str:
            return _("yes") if v is True else _("no") if v is False else str(v)

        self.query_one("#cf-answers", Static).update(plain(" · ".join(
            f"{key.upper()} {label}: {word(self.answers[name])}"
            for key, name, label in QUESTION_KEYS)))
        self.query_one("#cf-cis", Static).update(plain(
            _("CIs: {cis}").format(cis=", ".join(self.cis) or "-")))

    def action_answer(self, name: str) -> None:
        from pob_tui.services.changes.risk import QUESTIONS

        options = QUESTIONS[name][1]
        self.answers[name] = options[(options.index(self.answers[name]) + 1) % len(options)]
        self._show_answers()

    def action_clear_cis(self) -> None:
        self.cis.clear()
        self._show_answers()
        self._check_window()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "cf-ci" and self.database is not None:
            self.search(event.value)
        elif event.input.id in ("cf-start", "cf-end"):
            self._check_window()

    def _check_window(self) -> None:
        start, end = self._value("start"), self._value("end")
        if not (start and end) or self.database is None:
            self.query_one("#cf-window", Static).update("")
            return
        self.check_window(start, end, list(self.cis))

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-form-window")
    def check_window(self, start: str, end: str, cis: list[str]) -> None:
        from pob_tui.services.changes import conflicts

        database = self.database
        if database is None:
            return
        app = self.pob
        with database.session() as session:
            result = conflicts.window_conflicts(session, app.actor_in(session), start, end,
                                                cis, settings=app.settings)
        if not get_current_worker().is_cancelled:
            self.post_message(WindowChecked(result))

    def on_window_checked(self, message: WindowChecked) -> None:
        r = message.result
        lines = [_("Freeze: {names}").format(names=", ".join(r["freeze"]))] if r["freeze"] else []
        lines += [_("Conflict: {detail}").format(detail=c["detail"]) for c in r["conflicts"]]
        # a half-typed time is no news; a whole one that does not parse is
        if r["problem"] and min(len(self._value("start")), len(self._value("end"))) >= 16:
            lines.append(r["problem"])
        text = plain("\n".join(lines), multiline=True)
        if r["conflicts"] or r["freeze"]:
            text.stylize("bold red")
        self.query_one("#cf-window", Static).update(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-form-ci")
    def search(self, text: str) -> None:
        from pob_tui.services.pickers import search_cis

        database = self.database
        if database is None:
            return
        with database.session() as session:
            rows = search_cis(session, text, limit=8)
        if not get_current_worker().is_cancelled:
            self.post_message(CisFound(rows))

    def on_cis_found(self, message: CisFound) -> None:
        self.found = message.rows
        results = self.query_one("#cf-ci-results", OptionList)
        results.clear_options()
        results.add_options([Option(plain(f"{r['name']} ({r['ci_class']})"), id=str(i))
                             for i, r in enumerate(message.rows)])
        if message.rows:
            results.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "cf-ci":
            results = self.query_one("#cf-ci-results", OptionList)
            index = results.highlighted if results.highlighted is not None else 0
            if self.found and index < len(self.found):
                name = self.found[index]["name"]
                if name not in self.cis:
                    self.cis.append(name)
                event.input.value = ""
                results.clear_options()
                self.found = []
                self._show_answers()
                self._check_window()
            return
        self.focus_next()

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # up/down in the CI field move through the search results
        if self.focused is not None and self.focused.id == "cf-ci" and event.key in ("up",
                                                                                     "down"):
            results = self.query_one("#cf-ci-results", OptionList)
            if results.option_count:
                results.action_cursor_down() if event.key == "down" else \
                    results.action_cursor_up()
                event.stop()

    def _value(self, key: str) -> str:
        return self.query_one(f"#cf-{key}", Input).value.strip()

    def action_save(self) -> None:
        data = {key: self._value(key) for key, _l in self.FIELDS if key != "ci"}
        self.save(data, list(self.cis), dict(self.answers))

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-form-save")
    def save(self, data: dict[str, str], cis: list[str], answers: dict[str, Answer]) -> None:
        from pob_tui.services.changes import lifecycle

        database = self.database
        if database is None:
            return
        app = self.pob
        with database.session() as session:
            actor = app.actor_in(session)
            ch = lifecycle.create_change(session, actor, lifecycle.NewChange(
                title=data["title"], type=data["type"] or "normal", cis=cis,
                template=data["template"] or None, planned_start=data["start"] or None,
                planned_end=data["end"] or None,
                implementation_plan=data["implementation_plan"] or None,
                backout_plan=data["backout_plan"] or None,
                emergency_reason=data["emergency_reason"] or None, answers=answers,
            ), now=app.now(), settings=app.settings)
            number = ch.number
        self.post_message(ChangeActed(_("{number} saved as a draft; s submits it").format(
            number=number)))

    def on_change_acted(self, message: ChangeActed) -> None:
        self.notify(message.note, markup=False)
        self.dismiss(None)
