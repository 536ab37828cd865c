"""The CAB area: the agenda of the next meeting, votes and the chair's decisions.

Items are ordered by risk, then planned start; the pane below the list shows the selected
item's risk reasons, impact, conflicts, earlier decisions and votes. `[`/`]` walk the
meetings; a/r/d vote (with optional conditions), c is the chair's decision; e and m export
the agenda and the minutes as Markdown files.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import get_current_worker

from pob_tui.errors import PobError
from pob_tui.files import open_export
from pob_tui.i18n import _, ngettext
from pob_tui.tui.exports import export_folder
from pob_tui.tui.messages import TicketsChanged
from pob_tui.tui.screens.base import AreaScreen
from pob_tui.tui.widgets.text import plain

if TYPE_CHECKING:  # the services are imported by the workers, after the first frame
    from pob_tui.reports.cab import Agenda, AgendaItem
    from pob_tui.services.cab import MeetingAgenda, MeetingRef


class AgendaLoaded(Message):
    """The agenda of one meeting and the meeting itself (`services.cab.meeting_agenda`)."""

    def __init__(self, loaded: MeetingAgenda) -> None:
        super().__init__()
        self.data = loaded.agenda
        self.ref = loaded.ref


class CabActed(Message):
    """A vote, decision or export is done; `note` is the line to show."""

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note


class ConditionsScreen(ModalScreen[str | None]):
    """One line of optional conditions; enter confirms, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="cab.conditions.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="cab-conditions"):
            yield Label(plain(self.title_text))
            yield Input(placeholder=_("conditions (optional); enter to confirm"),
                        id="cab-conditions-input", compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DecisionScreen(ModalScreen[str | None]):
    """The chair picks the decision with one key."""

    BINDINGS = [
        Binding("a", "pick('approve')", _("Approve"), id="cab.decision.approve"),
        Binding("r", "pick('reject')", _("Reject"), id="cab.decision.reject"),
        Binding("d", "pick('defer')", _("Defer"), id="cab.decision.defer"),
        Binding("escape", "pick('')", _("Cancel"), id="cab.decision.cancel"),
    ]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number

    def compose(self) -> ComposeResult:
        with Vertical(id="cab-decision"):
            yield Label(plain(_("Decision on {number}").format(number=self.number)))
            yield Label(_("a approve · r reject · d defer · esc cancel"))

    def action_pick(self, value: str) -> None:
        self.dismiss(value or None)


class CabScreen(AreaScreen):
    """The agenda of one CAB meeting (the next one at first)."""

    _pending_move: tuple[datetime, int] | None = None  # a [ or ] still loading

    AREA = "cab"
    BINDINGS = [
        Binding("left_square_bracket", "meeting(-1)", _("Previous"), id="cab.previous"),
        Binding("right_square_bracket", "meeting(1)", _("Next"), id="cab.next"),
        Binding("a", "vote('approve')", _("Approve"), id="cab.approve"),
        Binding("r", "vote('reject')", _("Reject"), id="cab.reject"),
        Binding("d", "vote('defer')", _("Defer"), id="cab.defer"),
        Binding("c", "decide", _("Chair"), id="cab.decide"),
        Binding("e", "export('agenda')", _("Agenda.md"), id="cab.export_agenda"),
        Binding("m", "export('minutes')", _("Minutes.md"), id="cab.export_minutes"),
        Binding("f5", "refresh", _("Refresh"), show=False, id="cab.refresh"),
        Binding("j", "row(1)", _("Down"), show=False, id="cab.down"),
        Binding("k", "row(-1)", _("Up"), show=False, id="cab.up"),
    ]

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {"vote": "cab.vote",
                                                     "decide": "cab.chair"}

    def __init__(self) -> None:
        super().__init__()
        self.ref: MeetingRef | None = None
        self.data: Agenda | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="cab-body"):
            yield Static("", id="cab-meeting", markup=False)
            table: DataTable[Text] = DataTable(id="cab-items", cursor_type="row",
                                               zebra_stripes=True)
            table.add_column(_("Risk"), key="risk", width=7)
            table.add_column(_("Change"), key="number", width=10)
            table.add_column(_("Start"), key="start", width=11)
            table.add_column(_("Impact"), key="impact", width=10)
            table.add_column(_("!"), key="conflicts", width=2)
            table.add_column(_("Votes"), key="votes", width=7)
            table.add_column(_("Title"), key="title", width=60)
            table.loading = True
            yield table
            yield Static("", id="cab-detail", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#cab-items", DataTable)

    def load(self) -> None:
        self.load_agenda(self._at())

    def _at(self) -> datetime | None:
        """The meeting on screen (None: the next one)."""
        return self.ref.starts_at if self.ref is not None else None

    def action_refresh(self) -> None:
        """Fetch the meeting on screen again; while a move to another meeting is still
        loading, repeat that move instead (a refresh must not undo the agent's `[`/`]`)."""
        if self.database is None:
            return
        if self._pending_move is not None:
            self.load_agenda(*self._pending_move)
        else:
            self.load_agenda(self._at())

    def on_tickets_changed(self, message: TicketsChanged) -> None:
        """A change was saved somewhere (a vote, a decision, a new submission): the agenda
        is one meeting's few rows, so it is fetched again."""
        if message.kind in ("change", "resync"):
            self.action_refresh()

    @work(thread=True, exclusive=True, exit_on_error=False, group="cab")
    def load_agenda(self, at: datetime | None = None, step: int = 0) -> None:
        """The meeting at `at` (None: the next one), or the one before or after it."""
        from pob_tui.services import cab

        database = self.database
        if database is None:
            return
        with database.session() as session:
            loaded = cab.meeting_agenda(session, at, step, now=self.pob.now(),
                                        settings=self.pob.settings)
        if not get_current_worker().is_cancelled:
            self.post_message(AgendaLoaded(loaded))

    def on_agenda_loaded(self, message: AgendaLoaded) -> None:
        self._pending_move = None
        self.ref, self.data = message.ref, message.data
        tz = self.pob.settings.tzinfo
        m = message.data["meeting"]
        kind = _("Emergency CAB") if m["kind"] == "emergency" else _("CAB")
        from pob_tui.reports.cab import WORD_LABELS

        status = WORD_LABELS.get(m["status"], m["status"])
        self.query_one("#cab-meeting", Static).update(plain(
            f"{kind} {m['date']} {m['time']} · {status} · "
            + ngettext("{n} change", "{n} changes", len(message.data["items"])).format(
                n=len(message.data["items"]))
            + (" · " + _("chair {name}").format(name=m["chair"]) if m.get("chair") else "")))
        table = self.table
        row = table.cursor_row
        table.clear()
        for item in message.data["items"]:
            table.add_row(*self._cells(item, tz), key=item["number"])
        table.loading = False
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))
        if self.focused is None:
            table.focus()
        self.set_status(_("[ ] meetings"))
        self._show_detail()

    @staticmethod
    def _cells(item: AgendaItem, tz: tzinfo) -> list[Text]:
        from pob_tui.reports.cab import DECISION_LABELS, WORD_LABELS

        imp = item.get("impact")
        people, services = (imp["people"], imp["services"]) if imp else (0, 0)
        start = item["planned_start"]
        votes = item["votes"]
        yes = sum(v["vote"] == "approve" for v in votes)
        no = sum(v["vote"] == "reject" for v in votes)
        decision = item["decision"]
        risk = plain(WORD_LABELS.get(item["risk"] or "", "-"))
        if item["risk"] == "high":
            risk.stylize("bold red")
        elif item["risk"] == "medium":
            risk.stylize("yellow")
        return [
            risk,
            plain(item["number"]),
            plain(start.astimezone(tz).strftime("%d.%m %H:%M") if start else ""),
            plain(f"{people:,}p {services}s".replace(",", " ")),
            plain(str(len(item.get("conflicts") or [])) if item.get("conflicts") else ""),
            plain(DECISION_LABELS[decision][:7] if decision else f"+{yes} -{no}"),
            plain(item["title"]),
        ]

    def _current(self) -> AgendaItem | None:
        if not self.data or not self.data["items"]:
            return None
        row = self.table.cursor_row
        items = self.data["items"]
        return items[row] if 0 <= row < len(items) else None

    def action_row(self, step: int) -> None:
        """j/k move in the agenda like everywhere else."""
        table = self.table
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        from pob_tui.reports.cab import item_lines

        item = self._current()
        detail = self.query_one("#cab-detail", Static)
        if item is None:
            detail.update(plain(_("No changes on this meeting's agenda."), multiline=True))
            return
        detail.update(plain("\n".join(item_lines(item, self.pob.settings.tzinfo)),
                            multiline=True))

    # -- actions ----------------------------------------------------------------------------

    def action_meeting(self, step: int) -> None:
        if self.database is not None and self.ref is not None:
            self._pending_move = (self.ref.starts_at, step)
            self.load_agenda(self.ref.starts_at, step)

    def action_vote(self, value: str) -> None:
        from pob_tui.reports.cab import VOTE_LABELS

        item = self._current()
        if item is None:
            return
        number = item["number"]

        def done(conditions: str | None) -> None:
            if conditions is not None:
                self.act(number, value, conditions, False)

        self.app.push_screen(ConditionsScreen(
            _("{vote} {number}: conditions").format(vote=VOTE_LABELS[value], number=number)),
            done)

    def action_decide(self) -> None:
        from pob_tui.reports.cab import DECISION_LABELS

        item = self._current()
        if item is None:
            return
        number = item["number"]

        def picked(value: str | None) -> None:
            if not value:
                return

            def done(conditions: str | None) -> None:
                if conditions is not None:
                    self.act(number, value, conditions, True)

            self.app.push_screen(ConditionsScreen(
                _("Decision {vote} on {number}: conditions").format(
                    vote=DECISION_LABELS[value], number=number)), done)

        self.app.push_screen(DecisionScreen(number), picked)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cab-act")
    def act(self, number: str, value: str, conditions: str, final: bool) -> None:
        from pob_tui.reports.cab import DECISION_LABELS, VOTE_LABELS
        from pob_tui.services import cab

        database = self.database
        if database is None:
            return
        with database.session() as session:
            actor = self.pob.actor_in(session)
            if final:
                res = cab.decide(session, actor, number, value, conditions=conditions,
                                 meeting=self.ref, now=self.pob.now(), settings=self.pob.settings)
                note = _("{number}: {decision}").format(number=number,
                                                       decision=DECISION_LABELS[value])
                nxt = res.get("next_meeting")
                if nxt is not None:
                    note += " → " + nxt.astimezone(self.pob.settings.tzinfo).strftime(
                        "%Y-%m-%d")
            else:
                cab.vote(session, actor, number, value, conditions=conditions, meeting=self.ref,
                         now=self.pob.now())
                note = _("{number}: your vote {vote} is recorded").format(
                    number=number, vote=VOTE_LABELS[value])
        self.post_message(CabActed(note))

    def on_cab_acted(self, message: CabActed) -> None:
        self.notify(message.note, markup=False)
        self.load_agenda(self._at())

    def action_export(self, what: str) -> None:
        if self.database is not None and self.ref is not None:
            if self.pob.remote:  # the file would land on the server: say how to get it
                from pob_tui.tui.exports import show_remote_export, ssh_command

                day = self.ref.starts_at.astimezone(self.pob.settings.tzinfo).strftime(
                    "%Y-%m-%d")
                show_remote_export(self.app, ssh_command(
                    self.pob.settings, ["cab", what, "--meeting", day, "--format", "md"],
                    f"cab-{what}-{day}.md"))
                return
            if what == "minutes":
                self.export_minutes(self.ref)
            else:
                self.export_agenda(self.ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cab-export-agenda")
    def export_agenda(self, ref: MeetingRef) -> None:
        self._export("agenda", ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cab-export-minutes")
    def export_minutes(self, ref: MeetingRef) -> None:
        self._export("minutes", ref)

    def _export(self, what: str, ref: MeetingRef) -> None:
        """Runs in an export worker: writes the Markdown file, then says where."""
        from pob_tui.reports import cab as report
        from pob_tui.services import cab

        database = self.database
        if database is None:
            return
        settings = self.pob.settings
        with database.session() as session:
            if what == "minutes":
                text = report.minutes_markdown(
                    cab.minutes(session, ref, now=self.pob.now(), settings=settings),
                    settings.tzinfo)
            else:
                text = report.agenda_markdown(
                    cab.agenda(session, ref, now=self.pob.now(), settings=settings),
                    settings.tzinfo)
        day = ref.starts_at.astimezone(settings.tzinfo).strftime("%Y-%m-%d")
        try:
            path = export_folder(settings) / f"cab-{what}-{day}.md"
            with open_export(path) as out:
                out.write(text)
        except PobError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        label = _("Minutes") if what == "minutes" else _("Agenda")
        self.post_message(CabActed(_("{what} written to {path}").format(what=label,
                                                                         path=path)))
