"""Writing the audit trail. Rows are only ever inserted: nothing updates or deletes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from pob_tui.models import AdminEvent, TicketEvent, utcnow


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record_ticket_event(
    session: Session,
    *,
    ticket_type: str,
    ticket_id: int,
    kind: str,
    actor_id: int | None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    comment: str | None = None,
    minutes: int | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_type=ticket_type,
        ticket_id=ticket_id,
        kind=kind,
        actor_id=actor_id,
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        comment=comment,
        minutes=minutes,
        at=at or utcnow(),
    )
    session.add(event)
    return event


def record_admin_event(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    allowed: bool = True,
) -> AdminEvent:
    event = AdminEvent(actor=actor, action=action, target=target, detail=detail, allowed=allowed)
    session.add(event)
    return event
