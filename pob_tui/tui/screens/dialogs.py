"""Small modal forms: comment, work note, assign, escalate, resolve, wait, reason,
satisfaction, link to a problem; and the views of an edit conflict and an SLA explanation.

One generic `FormDialog` takes a list of `Field`s and returns their values as a dict (None on
escape), so every dialog behaves the same: enter moves to the next field and saves on the
last, ctrl+s saves from anywhere, escape cancels. Values are checked here only for shape
(required, whole number in range); the rules stay in `services/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from pob_tui.i18n import _
from pob_tui.services.incident_views import TeamChoice
from pob_tui.tui.widgets.text import clean, plain


@dataclass
class Field:
    """One input of a dialog: `kind` is text, int or choice (`choices` = (value, label))."""

    key: str
    label: str
    kind: str = "text"
    value: Any = None
    required: bool = True
    choices: Sequence[tuple[str, str]] = field(default_factory=tuple)
    low: int | None = None
    high: int | None = None
    placeholder: str = ""


class FormDialog(ModalScreen[dict[str, Any] | None]):
    """A titled form of fields; dismisses with {key: value} or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel"), id="dialog.cancel"),
        Binding("ctrl+s", "save", _("Save"), id="dialog.save", priority=True),
    ]

    def __init__(self, title: str, fields: Sequence[Field], *, note: str | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.title_text = title
        self.fields = list(fields)
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain(self.title_text), classes="dialog-title")
            if self.note:
                yield Static(plain(self.note, multiline=True), classes="dialog-note")
            for f in self.fields:
                yield Label(plain(f.label), classes="dialog-label")
                yield self._widget(f)
            yield Label(_("enter: next / save · ctrl+s: save · esc: cancel"),
                        classes="dialog-help", markup=False)

    def _widget(self, f: Field) -> Widget:
        if f.kind == "choice":
            options = OptionList(*[Option(plain(label), id=value) for value, label in f.choices],
                                 id=f"field-{f.key}", classes="dialog-choice")
            if f.value is not None:
                for i, (value, _label) in enumerate(f.choices):
                    if value == f.value:
                        options.highlighted = i
            return options
        value = "" if f.value is None else str(f.value)
        return Input(value=value, placeholder=f.placeholder, id=f"field-{f.key}",
                     type="integer" if f.kind == "int" else "text", classes="dialog-input")

    def on_mount(self) -> None:
        first = self.query_one(f"#field-{self.fields[0].key}")
        first.focus()
        for options in self.query(OptionList):
            if options.highlighted is None and options.option_count:
                options.highlighted = 0

    def _is_last(self, widget: Widget) -> bool:
        return widget.id == f"field-{self.fields[-1].key}"

    @on(Input.Submitted)
    def _input_done(self, event: Input.Submitted) -> None:
        event.stop()
        if self._is_last(event.input):
            self.action_save()
        else:
            self.focus_next()

    @on(OptionList.OptionSelected)
    def _choice_done(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._is_last(event.option_list):
            self.action_save()
        else:
            self.focus_next()

    def values(self) -> dict[str, Any] | str:
        """The values, or the first problem as a one-line message."""
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.key}")
            if isinstance(widget, OptionList):
                index = widget.highlighted
                value: Any = f.choices[index][0] if index is not None and f.choices else None
            else:
                assert isinstance(widget, Input)
                text = widget.value.strip()
                value = text or None
                if value is not None and f.kind == "int":
                    try:
                        value = int(text)
                    except ValueError:
                        return _("{label}: a whole number, please").format(label=f.label)
                    if (f.low is not None and value < f.low) or (
                            f.high is not None and value > f.high):
                        return _("{label}: between {low} and {high}").format(
                            label=f.label, low=f.low, high=f.high)
            if value is None and f.required:
                return _("{label} is required").format(label=f.label)
            out[f.key] = value
        return out

    def action_save(self) -> None:
        values = self.values()
        if isinstance(values, str):
            self.notify(values, severity="warning", markup=False)
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


# -- ready-made forms --------------------------------------------------------------------------

RESOLUTION_LABELS = {
    "solved": _("solved"), "workaround": _("workaround"), "known_error": _("known error"),
    "no_fault": _("no fault found"), "duplicate": _("duplicate"), "user_error": _("user error"),
    "supplier": _("fixed by supplier"), "change": _("fixed by a change"),
}


def comment_dialog() -> FormDialog:
    return FormDialog(_("Comment to the caller"), [Field("text", _("Comment"))])


def work_note_dialog(minutes: int | None = None) -> FormDialog:
    return FormDialog(_("Work note"), [
        Field("text", _("Note")),
        Field("minutes", _("Minutes spent"), kind="int", value=minutes, required=False,
              low=0, high=1440),
    ])


def assign_dialog(teams: Sequence[TeamChoice], *, count: int = 1) -> FormDialog:
    choices = [("@me", _("Me"))] + [(str(t["code"]), clean(t["name"])) for t in teams]
    title = (_("Assign") if count == 1
             else _("Assign {n} incidents").format(n=count))
    return FormDialog(title, [
        Field("to", _("To"), kind="choice", choices=choices),
        Field("person", _("Person (agent username, optional)"), required=False),
    ])


def assign_target(values: Mapping[str, Any]) -> dict[str, Any]:
    """The `assign_dialog`'s answer as `incidents.assign` keywords: a team (or "@me": no
    team), an optional person, and "to me" when neither a team nor a person was chosen."""
    to, person = values["to"], values.get("person") or None
    return {"team": None if to == "@me" else to, "assignee": person,
            "to_me": to == "@me" and not person}


def escalate_dialog(teams: Sequence[TeamChoice]) -> FormDialog:
    return FormDialog(_("Escalate"), [
        Field("team", _("Team"), kind="choice",
              choices=[(str(t["code"]), clean(t["name"])) for t in teams]),
        Field("reason", _("Reason")),
    ])


def resolve_dialog(note: str | None = None, codes: Sequence[str] = ()) -> FormDialog:
    codes = codes or tuple(RESOLUTION_LABELS)
    return FormDialog(_("Resolve"), [
        Field("code", _("Resolution code"), kind="choice",
              choices=[(c, RESOLUTION_LABELS.get(c, c)) for c in codes]),
        Field("note", _("Resolution note"), value=note),
    ])


def wait_dialog() -> FormDialog:
    return FormDialog(_("Wait"), [
        Field("status", _("Waiting for"), kind="choice",
              choices=[("waiting_caller", _("the caller")),
                       ("waiting_supplier", _("a supplier"))]),
        Field("note", _("Note"), required=False),
    ])


def reason_dialog(title: str, *, required: bool = True) -> FormDialog:
    return FormDialog(title, [Field("reason", _("Reason"), required=required)])


def satisfaction_dialog() -> FormDialog:
    return FormDialog(_("Caller satisfaction"), [
        Field("score", _("Score 1-6 (6 = very satisfied)"), kind="int", low=1, high=6),
        Field("comment", _("Comment"), required=False),
    ])


def link_problem_dialog(count: int = 1) -> FormDialog:
    return FormDialog(
        _("Link {n} incident(s) to a problem").format(n=count),
        [Field("number", _("Problem number (empty: create a new problem)"), required=False,
               placeholder="PRB-000001"),
         Field("title", _("Title of a new problem"), required=False)],
    )


def text_dialog(title: str, label: str, value: str | None = None) -> FormDialog:
    return FormDialog(title, [Field("text", label, value=value)])


# -- conflict and explanation -------------------------------------------------------------------

FIELD_LABELS = {
    "summary": _("summary"), "description": _("description"), "impact": _("impact"),
    "urgency": _("urgency"), "priority": _("priority"), "status": _("status"),
    "service_id": _("service"), "ci_id": _("CI"), "team_id": _("team"),
    "assignee_id": _("assignee"), "escalation_level": _("escalation level"),
    "resolution_code": _("resolution code"), "resolution_note": _("resolution note"),
    "problem_id": _("problem"), "channel": _("channel"), "caller_id": _("caller"),
}


class ConflictDialog(ModalScreen[dict[str, Any] | bool]):
    """Someone saved first: what they changed (field: yours -> theirs). Nothing of yours was
    written. For each field they changed the agent picks keep mine / take theirs (space or
    enter toggles; "take theirs" at first, so nothing of theirs is overwritten without a
    choice), then `m` merges (the chosen fields are put back and the agent's own action is
    applied on top), `r` reloads the incident, escape keeps the screen as it is. Workflow
    fields (status, team, assignee...) and priority (follows impact and urgency) can only
    be taken."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_keep", _("Keep mine / take theirs"), id="conflict.toggle"),
        Binding("m", "merge", _("Merge"), id="conflict.merge"),
        Binding("r", "reload", _("Reload"), id="conflict.reload"),
        Binding("escape", "close", _("Close"), id="conflict.close"),
    ]

    def __init__(self, message: str, changes: dict[str, tuple[object, object]], *,
                 can_merge: bool = True) -> None:
        super().__init__()
        self.message = message
        self.changes = changes
        self.can_merge = can_merge
        self.keep_mine: set[str] = set()

    @staticmethod
    def _choosable(key: str) -> bool:
        from pob_tui.services.merge import mergeable

        return mergeable(key)

    def _line(self, key: str) -> Text:
        yours, theirs = self.changes[key]
        line = Text.assemble(
            (FIELD_LABELS.get(key, key) + ": ", "bold"),
            plain("–" if yours is None else yours), " -> ",
            plain("–" if theirs is None else theirs), "  · ",
        )
        if not self._choosable(key):
            line.append(_("theirs (cannot be merged)"), style="dim")
        elif key in self.keep_mine:
            line.append(_("keep mine"), style="bold")
        else:
            line.append(_("take theirs"))
        return line

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -conflict"):
            yield Label(_("Someone else saved first"), classes="dialog-title")
            yield Static(plain(self.message, multiline=True), classes="dialog-note")
            yield OptionList(*[Option(self._line(key), id=key) for key in self.changes],
                             id="conflict-fields", classes="dialog-choice")
            help_text = (_("Nothing was saved. space: keep mine/take theirs · m: merge and "
                           "save · r: reload · esc: close") if self.can_merge else
                         _("Nothing was saved. r: reload and try again · esc: close"))
            yield Label(help_text, classes="dialog-help", markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_toggle_keep()

    def choose(self, key: str, mine: bool) -> None:
        """Pick keep mine (True) or take theirs (False) for one field."""
        if not self._choosable(key) or key not in self.changes:
            return
        if mine:
            self.keep_mine.add(key)
        else:
            self.keep_mine.discard(key)
        options = self.query_one(OptionList)
        index = list(self.changes).index(key)
        options.replace_option_prompt_at_index(index, self._line(key))

    def action_toggle_keep(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        key = list(self.changes)[options.highlighted]
        self.choose(key, key not in self.keep_mine)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_merge or action not in ("merge", "toggle_keep")

    def action_merge(self) -> None:
        self.dismiss({"keep": sorted(self.keep_mine)})

    def action_reload(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


CLOCK_LABELS = {"response": _("Response"), "resolution": _("Resolution"), "ola": _("OLA")}
SEGMENT_LABELS = {"open": _("counted"), "closed": _("closed"), "holiday": _("holiday"),
                  "paused": _("paused"), "pause": _("paused"), "weekend": _("weekend")}


class ExplainDialog(ModalScreen[None]):
    """Why each SLA clock (response, resolution, each team's OLA) is due when it is: every
    counted, paused and closed segment with its date, in the calendar's zone."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Close"), id="explain.close"),
    ]

    def __init__(self, data: dict[str, Any] | list[dict[str, Any]], timezone: str) -> None:
        super().__init__()
        self.clocks = data if isinstance(data, list) else [data]
        self.timezone = timezone

    def compose(self) -> ComposeResult:
        from zoneinfo import ZoneInfo

        from pob_tui.sla.display import format_due, format_left, weekday_names

        with Vertical(classes="dialog -explain"):
            yield Label(_("SLA clocks"), classes="dialog-title", markup=False)
            clocks = [c for c in self.clocks if c.get("segments")]
            if not clocks:
                yield Static(_("No clock runs on this incident."), markup=False)
            with VerticalScroll(classes="explain-segments"):
                for data in clocks:
                    tz = ZoneInfo(str(data.get("tz") or self.timezone))
                    name = CLOCK_LABELS.get(data["kind"], data["kind"])
                    if data.get("team"):
                        name += " · " + data["team"]
                    target = format_left(timedelta(minutes=data["target_minutes"]),
                                         data.get("working_day"))
                    head = Text.assemble((name, "bold"), "  ", plain(_(
                        "target {target}, due {due}").format(
                            target=target, due=format_due(data["due_at"], tz))))
                    if data.get("stopped_at"):
                        head.append("  ")
                        head.append(_("met") if data.get("met") else _("stopped"))
                    yield Static(head, classes="explain-head")
                    for seg in data["segments"]:
                        start = seg["start"].astimezone(tz)
                        stop = seg["end"].astimezone(tz)
                        day = f"{weekday_names()[start.weekday()]} {start:%d.%m.%Y}"
                        until = (f"{stop:%H:%M}" if stop.date() == start.date()
                                 else f"{weekday_names()[stop.weekday()]} {stop:%d.%m %H:%M}")
                        yield Static(Text.assemble(
                            f"  {day} {start:%H:%M}–{until}  ",
                            (SEGMENT_LABELS.get(seg["kind"], clean(seg["kind"])), "bold"),
                            "  ", plain(seg.get("label") or ""),
                        ), classes=f"segment -{seg['kind']}")
            yield Label(_("esc: close"), classes="dialog-help", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """A question answered with one key: `choices` are (key, label); escape answers None.

    Used where a single key would otherwise change or drop data without asking."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer('')", _("Cancel"), id="choice.cancel"),
    ]

    def __init__(self, question: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -choice"):
            yield Label(plain(self.question), classes="dialog-title")
            for key, label in self.choices:
                yield Label(Text.assemble((key, "bold"), "  ", plain(label)),
                            classes="dialog-note")
            yield Label(_("esc: cancel"), classes="dialog-help", markup=False)

    def on_key(self, event: Any) -> None:
        for key, _label in self.choices:
            if event.key == key or event.character == key:
                event.stop()
                self.dismiss(key)
                return

    def action_answer(self, key: str) -> None:
        self.dismiss(key or None)


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no before a single key changes data: y or enter says yes; n, escape or any
    other key says no (the default), so a stray key never confirms."""

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -choice"):
            yield Label(plain(self.question), classes="dialog-title")
            yield Label(_("y/enter: yes · n/esc: no"), classes="dialog-help", markup=False)

    def on_key(self, event: Any) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss(event.key in ("y", "enter"))


def confirm(screen: Any, question: str, then: Any) -> None:
    """Ask `question`; call `then()` only on yes."""
    screen.app.push_screen(ConfirmDialog(question), lambda yes: then() if yes else None)
