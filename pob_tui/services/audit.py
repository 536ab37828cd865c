"""Writing the audit trail. Rows are only ever inserted: nothing updates or deletes them."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.models import AdminEvent, TicketEvent, utcnow

_request: contextvars.ContextVar[str | None] = contextvars.ContextVar("request", default=None)


@contextlib.contextmanager
def once(session: Session, request_id: str | None) -> Iterator[bool]:
    """Apply a save at most once. Yields False when an event with this request id exists
    (an earlier attempt committed but its answer was lost); else True, and the first audit
    event written inside carries the id, in the same transaction as the change."""
    if request_id and session.execute(
        select(col(TicketEvent.id)).where(col(TicketEvent.request_id) == request_id)
    ).first():
        yield False
        return
    token = _request.set(request_id)
    try:
        yield True
    finally:
        _request.reset(token)


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
    request_id = _request.get()
    if request_id:
        event.request_id = request_id
        _request.set(None)
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
