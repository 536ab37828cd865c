"""The outage banner: open outages on top of the queue, or the ones reaching the caller
on the call form. It loads in its own worker (one service function) and hides when empty."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from pob_tui.i18n import _
from pob_tui.tui.widgets.text import plain


class OutagesLoaded(Message):
    def __init__(self, rows: list[Any], caller_id: int | None) -> None:
        super().__init__()
        self.rows = rows
        self.caller_id = caller_id


class OutageBanner(Static):
    """`for_caller=False`: every open outage (the queue). True: those reaching the caller
    set with `show_for(person_id)` (the call form), with the key that links the call."""

    def __init__(self, *, for_caller: bool = False, link_key: str = "ctrl+l",
                 id: str | None = None) -> None:
        super().__init__("", id=id, classes="outage-banner -empty", markup=False)
        self.for_caller = for_caller
        self.link_key = link_key
        self.rows: list[Any] = []
        self.caller_id: int | None = None

    @property
    def outage(self) -> str | None:
        """The number of the outage a call would be linked to (the newest shown)."""
        return self.rows[0].number if self.rows else None

    def reload(self) -> None:
        if self.for_caller and self.caller_id is None:
            self._show([])
            return
        self.load(self.caller_id)

    def show_for(self, person_id: int | None) -> None:
        self.caller_id = person_id
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="outage-banner")
    def load(self, caller_id: int | None) -> None:
        from pob_tui.services import outages

        database = self.app.database  # type: ignore[attr-defined]
        if database is None:
            return
        with database.session() as session:
            rows = (outages.outages_for_caller(session, caller_id) if caller_id is not None
                    else outages.list_outages(session, limit=5))
        if not get_current_worker().is_cancelled:
            self.post_message(OutagesLoaded(rows, caller_id))

    def on_outages_loaded(self, message: OutagesLoaded) -> None:
        message.stop()
        if message.caller_id == self.caller_id:
            self._show(message.rows)

    def _show(self, rows: list[Any]) -> None:
        self.rows = rows
        self.set_class(not rows, "-empty")
        if not rows:
            self.update("")
            return
        out = Text()
        for i, o in enumerate(rows[:2]):
            if i:
                out.append("\n")
            out.append("⚠ " + _("OUTAGE") + " " + o.number, style="bold")
            if self.for_caller and i == 0:
                out.append(" · " + _("{key} links this call").format(key=self.link_key),
                           style="bold")
            out.append(" · ")
            out.append_text(plain(o.summary))
            out.append(" · " + _("calls linked: {n}").format(n=o.children))
            if o.services:
                out.append(" · " + ", ".join(o.services[:4]))
        self.update(out)
