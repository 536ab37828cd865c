"""In-app notifications for one agent (breach warnings to a team lead, follow-ups).

`sla.check_breaches` writes them; the running app shows the current agent's unread ones and
marks them read in the same transaction, so each is shown once even with two terminals
open (the second finds them read).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.models import Incident, Notification, utcnow


def take_unread(session: Session, agent_id: int, *, limit: int = 20,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """The agent's unread notifications, oldest first, marked read as they are taken.
    Rows are locked (PostgreSQL) so two sessions of the same agent do not both show one."""
    now = now or utcnow()
    stmt = (select(Notification).where(col(Notification.agent_id) == agent_id,
                                       col(Notification.read_at).is_(None))
            .order_by(col(Notification.created_at), col(Notification.id)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    out: list[dict[str, Any]] = []
    for note in session.execute(stmt).scalars():
        number = None
        if note.ticket_type == "incident" and note.ticket_id is not None:
            number = session.execute(select(col(Incident.number))
                                     .where(col(Incident.id) == note.ticket_id)).scalar()
        note.read_at = now
        out.append({"id": note.id, "text": note.text, "created_at": note.created_at,
                    "ticket_type": note.ticket_type, "number": number})
    return out
