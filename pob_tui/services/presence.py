"""Who else has a ticket open for editing.

An open detail screen writes a `TicketPresence` row and refreshes `seen_at` with a
heartbeat; closing it deletes the row. A row not refreshed for `STALE` counts as gone (a
terminal closed without saying goodbye), so a crashed session never blocks anyone's view
for long. This is information for people ("Also open by: lars"), not a lock: optimistic
locking still decides who saves first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from pob_tui.models import Agent, TicketPresence, utcnow

STALE = timedelta(minutes=2)
HEARTBEAT_SECONDS = 30.0
"""How often an open screen refreshes its row: well inside `STALE`."""


def open_ticket(session: Session, ticket_type: str, ticket_id: int, agent_id: int,
                now: datetime | None = None) -> None:
    """Say that `agent_id` has the ticket open (again): insert or refresh the row."""
    now = now or utcnow()
    row = session.get(TicketPresence, (ticket_type, ticket_id, agent_id))
    if row is None:
        session.add(TicketPresence(ticket_type=ticket_type, ticket_id=ticket_id,
                                   agent_id=agent_id, since=now, seen_at=now))
    else:
        if row.seen_at < now - STALE:
            row.since = now
        row.seen_at = now


def heartbeat(session: Session, ticket_type: str, ticket_id: int, agent_id: int,
              now: datetime | None = None) -> None:
    """Refresh `seen_at`; recreates the row if a cleanup removed it meanwhile."""
    now = now or utcnow()
    result = session.execute(
        update(TicketPresence)
        .where(col(TicketPresence.ticket_type) == ticket_type,
               col(TicketPresence.ticket_id) == ticket_id, col(TicketPresence.agent_id) == agent_id)
        .values(seen_at=now))
    if not getattr(result, "rowcount", 0):
        open_ticket(session, ticket_type, ticket_id, agent_id, now)


def close_ticket(session: Session, ticket_type: str, ticket_id: int, agent_id: int) -> None:
    session.execute(delete(TicketPresence).where(
        col(TicketPresence.ticket_type) == ticket_type, col(TicketPresence.ticket_id) == ticket_id,
        col(TicketPresence.agent_id) == agent_id))


def who_else(session: Session, ticket_type: str, ticket_id: int, agent_id: int | None,
             now: datetime | None = None) -> list[str]:
    """Usernames of the other agents with the ticket open and a fresh heartbeat, by
    arrival."""
    now = now or utcnow()
    stmt = (select(col(Agent.username))
            .join(TicketPresence, col(TicketPresence.agent_id) == Agent.id)
            .where(col(TicketPresence.ticket_type) == ticket_type,
                   col(TicketPresence.ticket_id) == ticket_id,
                   col(TicketPresence.seen_at) >= now - STALE)
            .order_by(col(TicketPresence.since), col(Agent.username)))
    if agent_id is not None:
        stmt = stmt.where(col(TicketPresence.agent_id) != agent_id)
    return list(session.execute(stmt).scalars())

