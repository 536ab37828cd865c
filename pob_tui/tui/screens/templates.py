"""Quick-call templates in the TUI: the call form's picker (filter as you type, enter fills
the form) and the administrators' list where templates are added, changed and removed."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from pob_tui.errors import PobError
from pob_tui.i18n import _
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.screens.dialogs import RESOLUTION_LABELS, ChoiceDialog, Field, FormDialog
from pob_tui.tui.widgets.text import clean, plain


class TemplatesLoaded(Message):
    def __init__(self, text: str, rows: list[Any]) -> None:
        super().__init__()
        self.text = text
        self.rows = rows


class TemplateSaved(Message):
    def __init__(self, text: str, ok: bool = True) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


def template_line(row: Any) -> Text:
    line = Text.assemble((clean(row.name), "bold"), "  ", plain(row.summary), "  ",
                         (clean(row.service_name or row.service), "dim"))
    if row.code:
        line.append("  ")
        line.append(_("resolves"), style="italic")
    return line


def _load(widget: Any, text: str) -> None:
    """Worker body shared by the picker and the admin list: one service call."""
    from pob_tui.services import templates

    database = getattr(widget.app, "database", None)
    if database is None:
        return
    with database.session() as session:
        rows = templates.list_templates(session, text, limit=50)
    if not get_current_worker().is_cancelled:
        widget.post_message(TemplatesLoaded(text, rows))


class TemplatePicker(ModalScreen[Any]):
    """Pick a quick-call template: type to filter, up/down, enter fills the call form."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel"), id="template_picker.cancel"),
        Binding("down", "move(1)", _("Next"), show=False, id="template_picker.down"),
        Binding("up", "move(-1)", _("Previous"), show=False, id="template_picker.up"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -templates"):
            yield Label(_("Quick call"), classes="dialog-title", markup=False)
            yield Input(placeholder=_("filter: name, summary or service"),
                        id="template-filter")
            options = OptionList(id="template-list", classes="dialog-choice")
            options.can_focus = False
            yield options
            yield Label(_("enter: fill the form · esc: cancel"), classes="dialog-help",
                        markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.load("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="template-picker")
    def load(self, text: str) -> None:
        _load(self, text)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.load(event.value)

    def on_templates_loaded(self, message: TemplatesLoaded) -> None:
        if message.text != self.query_one(Input).value:
            return
        self.rows = message.rows
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(template_line(r)) for r in self.rows])
        if self.rows:
            options.highlighted = 0

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted)
    def _chosen(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self.rows):
            self.notify(_("No template matches"), severity="warning", markup=False)
            return
        self.dismiss(self.rows[index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class TemplatesScreen(PobScreen):
    """Administrators: the quick-call templates; a adds, enter changes, x removes (asks)."""

    HELP_TITLE = _("Quick-call templates")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back"), id="templates.close"),
        Binding("a", "add", _("Add"), id="templates.add"),
        Binding("enter", "edit", _("Change"), id="templates.edit"),
        Binding("x", "remove", _("Remove"), id="templates.remove"),
        Binding("j", "move(1)", _("Down"), show=False, id="templates.down"),
        Binding("k", "move(-1)", _("Up"), show=False, id="templates.up"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        "add": "agent.admin", "edit": "agent.admin", "remove": "agent.admin"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []

    def compose_body(self) -> ComposeResult:
        yield OptionList(id="templates-list")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_status(_("Quick-call templates"))
        self.query_one(OptionList).focus()

    def load(self) -> None:
        self.load_templates()

    @work(thread=True, exclusive=True, exit_on_error=False, group="templates")
    def load_templates(self) -> None:
        _load(self, "")

    def on_templates_loaded(self, message: TemplatesLoaded) -> None:
        self.rows = message.rows
        options = self.query_one(OptionList)
        keep = options.highlighted
        options.clear_options()
        options.add_options([Option(template_line(r)) for r in self.rows])
        if self.rows:
            options.highlighted = min(keep or 0, len(self.rows) - 1)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = max(0, min(options.option_count - 1,
                                             (options.highlighted or 0) + step))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_edit()

    def _current(self) -> Any | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def _form(self, row: Any | None) -> FormDialog:
        codes = [("", _("none: the call stays open"))] + [
            (code, label) for code, label in RESOLUTION_LABELS.items()]
        return FormDialog(_("Quick-call template"), [
            Field("name", _("Name"), value=row.name if row else None),
            Field("service", _("Service code"), value=row.service if row else None),
            Field("summary", _("Summary"), value=row.summary if row else None),
            Field("impact", _("Impact 1-3"), kind="int", low=1, high=3, required=False,
                  value=row.impact if row else None),
            Field("urgency", _("Urgency 1-3"), kind="int", low=1, high=3, required=False,
                  value=row.urgency if row else None),
            Field("code", _("Resolution code"), kind="choice", choices=codes,
                  value=(row.code or "") if row else ""),
            Field("resolution", _("Resolution note"), required=False,
                  value=row.resolution if row else None),
        ])

    def action_add(self) -> None:
        def saved(values: dict[str, Any] | None) -> None:
            if values:
                self.save(values, None)

        self.app.push_screen(self._form(None), saved)

    def action_edit(self) -> None:
        row = self._current()
        if row is None:
            return

        def saved(values: dict[str, Any] | None) -> None:
            if values:
                self.save(values, row.name)

        self.app.push_screen(self._form(row), saved)

    def action_remove(self) -> None:
        row = self._current()
        if row is None:
            return

        def answered(key: str | None) -> None:
            if key == "y":
                self.remove_template(row.name)

        self.app.push_screen(ChoiceDialog(_("Remove the template {name}?").format(
            name=row.name), [("y", _("yes, remove it"))]), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="templates-save")
    def save(self, values: dict[str, Any], old_name: str | None) -> None:
        from pob_tui.services import templates

        assert self.database is not None
        try:
            with self.database.session() as session:
                actor = self.pob.actor_in(session)
                templates.save_template(session, actor, old_name, values["name"],
                                        service=values["service"], summary=values["summary"],
                                        impact=values.get("impact"),
                                        urgency=values.get("urgency"),
                                        code=values.get("code") or None,
                                        resolution=values.get("resolution"))
        except PobError as exc:
            self.post_message(TemplateSaved(str(exc), ok=False))
            return
        self.post_message(TemplateSaved(_("Template {name} saved").format(
            name=values["name"])))

    @work(thread=True, exclusive=True, exit_on_error=False, group="templates-save")
    def remove_template(self, name: str) -> None:
        from pob_tui.services import templates

        assert self.database is not None
        try:
            with self.database.session() as session:
                templates.remove_template(session, self.pob.actor_in(session), name)
        except PobError as exc:
            self.post_message(TemplateSaved(str(exc), ok=False))
            return
        self.post_message(TemplateSaved(_("Template {name} removed").format(name=name)))

    def on_template_saved(self, message: TemplateSaved) -> None:
        self.notify(message.text, severity="information" if message.ok else "warning",
                    markup=False)
        self.load_templates()

    def action_close(self) -> None:
        self.dismiss()
