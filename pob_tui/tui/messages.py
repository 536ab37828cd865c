"""Messages that workers post when database work is done, named in the past tense.

Workers run in threads and hand plain values (from `pob_tui.services`) back to the event
loop through these; no ORM object crosses the thread boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from pob_tui.db import Database
    from pob_tui.services.agents import AgentInfo
    from pob_tui.services.tickets import TicketRef


class DatabaseOpened(Message):
    """The database is reachable and its schema is current."""

    def __init__(self, database: Database, label: str) -> None:
        super().__init__()
        self.database = database
        self.label = label


class DatabaseFailed(Message):
    """The database could not be opened; `message` is the one line to show."""

    def __init__(self, message: str, exit_code: int = 3) -> None:
        super().__init__()
        self.message = message
        self.exit_code = exit_code


class SessionLoaded(Message):
    """Who the agent is, and whether the database is still empty (first start)."""

    def __init__(self, agent: AgentInfo, empty: bool) -> None:
        super().__init__()
        self.agent = agent
        self.empty = empty


class DemoProgressed(Message):
    """The demo generator reported progress."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class DemoLoaded(Message):
    """The demo data is in the database: everything should reload."""


class TicketLoaded(Message):
    """A ticket looked up by number; `ticket` is None when no such number exists."""

    def __init__(self, number: str, ticket: TicketRef | None, context: Any = None) -> None:
        super().__init__()
        self.number = number
        self.ticket = ticket
        self.context = context


class TicketsChanged(Message, bubble=False):
    """Another session (or this one) committed changes to tickets of `kind` (incident,
    problem, change); `ids` are their ids. Kind "resync": changes may have been missed
    (the listener reconnected), so reload what is shown. Does not bubble: the app hands a
    copy to each screen, and a copy bubbling back would go round again."""

    def __init__(self, kind: str, ids: tuple[int, ...]) -> None:
        super().__init__()
        self.kind = kind
        self.ids = ids


class ConnectionChanged(Message):
    """The database connection dropped ("reconnecting") or is back ("connected")."""

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state


class NotificationsArrived(Message):
    """Unread in-app notifications of the current agent (already marked read)."""

    def __init__(self, notes: list[dict[str, Any]]) -> None:
        super().__init__()
        self.notes = notes


class RingTaken(Message):
    """This agent's pob took a phone ring (`services.ring.RingCall`): open the call form."""

    def __init__(self, call: Any) -> None:
        super().__init__()
        self.call = call
