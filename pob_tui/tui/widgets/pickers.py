"""Pickers for the call form: an input that searches as you type, with results below.

Each keystroke starts a thread worker (exclusive per picker, so a newer keystroke cancels the
older query) that runs one small search from `services.pickers` at once and posts the rows
back; it waits first only when the last search was slow (issue 17: a 5 ms search behind a
fixed 120 ms debounce can never answer a keystroke within 100 ms). Up/down move in the
results, enter picks the highlighted one (the first by default). Enter pressed before the
results for the typed text arrived picks the first row as soon as they do, so a fast typist
never picks a stale row.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from pob_tui.i18n import _
from pob_tui.tui.widgets.limited_input import LimitedInput
from pob_tui.tui.widgets.text import clean, plain

if TYPE_CHECKING:
    from sqlmodel import Session

SLOW_SEARCH = 0.05
"""A search slower than this (seconds) makes the next keystroke wait as long (at most
`MAX_WAIT`), so a fast typist does not queue slow searches; fast ones run at once."""
MAX_WAIT = 0.12


def debounce(seconds: float) -> bool:
    """Sleep in short steps inside a worker; False when the worker was cancelled meanwhile."""
    worker = get_current_worker()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if worker.is_cancelled:
            return False
        time.sleep(0.01)
    return not worker.is_cancelled


class Picker(Vertical):
    """Search-as-you-type with a result list; `selected` holds the picked row."""

    DEFAULT_CSS = """
    Picker { height: auto; }
    Picker .picker-row { height: 1; margin-bottom: 1; }
    Picker .picker-label { width: 9; color: $text-muted; }
    Picker .picker-input {
        width: 1fr; height: 1; border: none; padding: 0 1; background: $boost;
    }
    Picker .picker-input:focus { background: $accent 25%; }
    Picker.-picked .picker-input { color: $success; text-style: bold; }
    Picker .picker-results {
        height: auto; max-height: 6; margin: -1 0 1 9; border: none; padding: 0;
        background: $surface;
    }
    """
    """Its own look, so a picker works outside pob's style sheet (the call form's other
    fields borrow `.picker-label` from pob.tcss)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", _("Next match"), show=False, id="picker.down"),
        Binding("up", "move(-1)", _("Previous match"), show=False, id="picker.up"),
        Binding("escape", "close_results", _("Close the matches"), show=False,
                id="picker.close"),
    ]
    LABEL = ""
    NO_MATCH = _("Nothing matches {text}")
    """Said when enter finds no match; the focus stays in the field."""
    PLACEHOLDER = ""
    SEARCH_EMPTY = False
    """Search with no text typed (the CI picker lists the caller's own devices)."""

    class Picked(Message):
        """A row was picked (or cleared: `row` is None)."""

        def __init__(self, picker: Picker, row: dict[str, Any] | None) -> None:
            super().__init__()
            self.picker = picker
            self.row = row

        @property
        def control(self) -> Picker:
            return self.picker

    class _Results(Message):
        def __init__(self, text: str, rows: list[dict[str, Any]]) -> None:
            super().__init__()
            self.text = text
            self.rows = rows

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.selected: dict[str, Any] | None = None
        self.rows: list[dict[str, Any]] = []
        self._rows_for: str | None = None
        self._display: str | None = None
        self._pick_when_ready = False
        self._last_search = 0.0
        """Seconds the last search took (sets the next keystroke's wait)."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="picker-row"):
            yield Label(self.LABEL, classes="picker-label", markup=False)
            yield LimitedInput(placeholder=self.PLACEHOLDER, classes="picker-input")
        results = OptionList(classes="picker-results")
        results.can_focus = False
        results.display = False
        yield results

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def results(self) -> OptionList:
        return self.query_one(OptionList)

    # -- searching --------------------------------------------------------------------------

    def search(self, session: Session, text: str) -> list[dict[str, Any]]:
        """The rows for `text`; subclasses call one `services.pickers` function."""
        raise NotImplementedError

    def option_text(self, row: dict[str, Any]) -> Text:
        raise NotImplementedError

    def value_text(self, row: dict[str, Any]) -> str:
        raise NotImplementedError

    def refresh_results(self) -> None:
        """Search again for what is typed (e.g. the caller changed the ranking)."""
        if self.selected is None:
            self._start(self.input.value)

    def _start(self, text: str) -> None:
        if not text.strip() and not self.SEARCH_EMPTY:
            self.rows = []
            self._rows_for = text
            self._show([])
            return
        self._rows_for = None
        self.run_search(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker")
    def run_search(self, text: str) -> None:
        database = getattr(self.app, "database", None)
        if database is None:
            return
        last = self._last_search
        if last >= SLOW_SEARCH and not debounce(min(MAX_WAIT, last)):
            return
        started = time.perf_counter()
        with database.session() as session:
            rows = self.search(session, text)
        self._last_search = time.perf_counter() - started
        if not get_current_worker().is_cancelled:
            self.post_message(self._Results(text, rows))

    @on(_Results)
    def _results_arrived(self, message: _Results) -> None:
        message.stop()
        if message.text != self.input.value or self.selected is not None:
            return
        self.rows = message.rows
        self._rows_for = message.text
        self._show(message.rows)
        if self._pick_when_ready:
            self._pick_when_ready = False
            if not message.rows:  # the typist moved on: bring them back to say so
                self._no_match()
                return
            self.pick(0)

    def _show(self, rows: list[dict[str, Any]]) -> None:
        results = self.results
        results.clear_options()
        results.add_options([Option(self.option_text(r)) for r in rows])
        results.display = bool(rows) and self.selected is None
        if rows:
            results.highlighted = 0

    # -- input ------------------------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._display is not None and event.value == self._display:
            return
        self._display = None
        if self.selected is not None:
            self.selected = None
            self.set_class(False, "-picked")
            self.post_message(self.Picked(self, None))
        self._start(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.selected is not None or (not self.input.value.strip() and not self.rows):
            self.screen.focus_next()
            return
        if self._rows_for != self.input.value:
            self._pick_when_ready = True  # results for this text are on their way:
            self.screen.focus_next()  # the typist moves on, the pick lands meanwhile
            return
        if not self.rows:
            self._no_match()
            return
        index = self.results.highlighted or 0
        self.pick(index)

    def _no_match(self) -> None:
        """Say that nothing matched and keep (or put) the focus here, so the next words
        typed do not run into this field's neighbour or this field."""
        self.app.bell()
        self.notify(self.NO_MATCH.format(text=f"“{self.input.value.strip()}”"),
                    severity="warning", markup=False)
        self.input.focus()

    def action_close_results(self) -> None:
        """escape closes the open match list first; with none open it goes on to the
        screen (which leaves the form)."""
        from textual.actions import SkipAction

        if not self.results.display:
            raise SkipAction()
        self.results.display = False
        self._pick_when_ready = False

    def action_move(self, step: int) -> None:
        results = self.results
        if not results.option_count or self.selected is not None:
            return
        current = results.highlighted or 0
        results.highlighted = max(0, min(results.option_count - 1, current + step))

    def pick(self, index: int) -> None:
        """Take row `index` of the results, show it in the input, move on."""
        if not 0 <= index < len(self.rows):
            self.app.bell()
            return
        row = self.rows[index]
        had_focus = self.input.has_focus
        self.set_row(row)
        self.post_message(self.Picked(self, row))
        if had_focus:
            self.screen.focus_next()

    def set_row(self, row: dict[str, Any]) -> None:
        """Show `row` as picked without searching again."""
        self.selected = row
        self._display = clean(self.value_text(row))
        self.input.value = self._display
        self.input.cursor_position = len(self._display)
        self.results.display = False
        self.set_class(True, "-picked")


class CallerPicker(Picker):
    """People by name, username, phone or e-mail (`pickers.search_people`)."""

    LABEL = _("Caller")
    NO_MATCH = _("No caller matches {text}")
    PLACEHOLDER = _("name, username, phone or e-mail")

    def search(self, session: Session, text: str) -> list[dict[str, Any]]:
        from pob_tui.services import pickers

        return pickers.search_people(session, text, limit=8)

    def option_text(self, row: dict[str, Any]) -> Text:
        text = Text.assemble(plain(row["name"]), " ", (clean(row["username"]), "dim"))
        if row.get("vip"):
            text.append(" VIP", style="bold")
        if row.get("org_unit"):
            text.append(" · ")
            text.append_text(plain(row["org_unit"]))
        return text

    def value_text(self, row: dict[str, Any]) -> str:
        return f"{row['name']} ({row['username']})"


class ServicePicker(Picker):
    """Live services by name, code or keyword; the caller's subscribed services first."""

    LABEL = _("Service")
    NO_MATCH = _("No service matches {text}")
    PLACEHOLDER = _("name, code or keyword")
    caller_id: int | None = None

    def search(self, session: Session, text: str) -> list[dict[str, Any]]:
        from pob_tui.services import pickers

        return pickers.search_services(session, text, caller_id=self.caller_id, limit=8)

    def option_text(self, row: dict[str, Any]) -> Text:
        text = Text.assemble(("★ " if row.get("subscribed") else "  "), plain(row["name"]),
                             " ", (clean(row["code"]), "dim"))
        return text

    def value_text(self, row: dict[str, Any]) -> str:
        return f"{row['name']} ({row['code']})"


class CiPicker(Picker):
    """Configuration items by name; the caller's own devices first (listed when empty)."""

    LABEL = _("CI")
    NO_MATCH = _("No CI matches {text}")
    PLACEHOLDER = _("optional: device or system name")
    SEARCH_EMPTY = True
    caller_id: int | None = None

    def search(self, session: Session, text: str) -> list[dict[str, Any]]:
        from pob_tui.services import pickers

        return pickers.search_cis(session, text, caller_id=self.caller_id, limit=8)

    def option_text(self, row: dict[str, Any]) -> Text:
        return Text.assemble(("● " if row.get("own") else "  "), plain(row["name"]), " ",
                             (clean(row["ci_class"]), "dim"))

    def value_text(self, row: dict[str, Any]) -> str:
        return str(row["name"])
