"""A read-only view of one ticket, reached from the queue or the palette by number.

The incident, problem and change issues replace it with their full detail screens.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Static

from pob_tui.i18n import _
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.widgets.text import plain

if TYPE_CHECKING:
    from pob_tui.services.system import TicketRef

KIND_LABELS = {"incident": _("Incident"), "problem": _("Problem"), "change": _("Change")}


class TicketScreen(PobScreen):
    """Number, status, summary and who/what it concerns."""

    HELP_TITLE = _("Ticket")
    BINDINGS = [Binding("escape", "close", _("Back"), id="ticket.close")]

    def __init__(self, ticket: TicketRef, *, timezone: str = "Europe/Oslo") -> None:
        super().__init__()
        self.ticket = ticket
        self.timezone = timezone

    def compose_body(self) -> ComposeResult:
        t = self.ticket
        with VerticalScroll(id="ticket-body"):
            yield Static(plain(f"{t.number}  {t.summary}"), id="ticket-title")
            yield from self._field(_("Type"), KIND_LABELS.get(t.kind, t.kind))
            yield from self._field(_("Status"), t.status.replace("_", " "))
            if t.priority is not None:
                yield from self._field(_("Priority"), str(t.priority))
            if t.caller is not None:
                label = _("Caller") if t.kind == "incident" else _("Requester")
                yield from self._field(label, t.caller)
            yield from self._field(_("Service"), t.service or "–")
            yield from self._field(_("Team"), t.team or "–")
            if t.opened_at is not None:
                yield from self._field(_("Opened"), self._local(t.opened_at))
            if t.description:
                yield Static(plain(t.description, multiline=True), id="ticket-description")

    def _field(self, name: str, value: str) -> ComposeResult:
        yield Horizontal(
            Label(plain(name), classes="ticket-field-name"),
            Label(plain(value), classes="ticket-field-value"),
            classes="ticket-field",
        )

    def _local(self, when: datetime) -> str:
        from zoneinfo import ZoneInfo

        return when.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = self.ticket.number
        self.set_status(self.ticket.number)

    def action_close(self) -> None:
        self.dismiss()
