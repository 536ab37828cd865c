"""One-use session records: how a program started by `pob serve` learns its agent.

The server, having checked the SSH key, writes a record naming the key's owner and starts the
session's program with the record's random token. The program claims the record once, within
`RECORD_LIFETIME`; a used, expired or unknown token names nobody. The token is not an identity
claim by itself: only a process holding the service's write credentials can claim (the
identity resolver checks that), and the record, not the variable, names the agent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from pob_tui.errors import PermissionDenied
from pob_tui.i18n import _
from pob_tui.models import Agent, AgentKey, ServeSession, utcnow
from pob_tui.services.keys import KeyOwner

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

RECORD_LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True)
class ServeClaim:
    """Whom a claimed record names: an agent (`username`) or an integration."""

    username: str | None
    agent_id: int | None
    integration: str | None
    fingerprint: str
    client_address: str | None


def create_record(session: Session, owner: KeyOwner, *, client_address: str | None = None,
                  lifetime: timedelta = RECORD_LIFETIME) -> str:
    """Write a record for a session of `owner`; returns its token (43 url-safe characters,
    256 random bits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(ServeSession(token=token, agent_id=owner.agent_id,
                             integration=owner.integration, fingerprint=owner.fingerprint,
                             client_address=(client_address or "")[:100] or None,
                             created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


def claim_record(session: Session, token: str) -> str:
    """Claim the record (see `claim`) and return the name it acts under: the agent's
    username, or `integration:NAME` for an integration key (no agent has that name, so it
    resolves to an unregistered actor that the command policy of `pob serve` confines)."""
    found = claim(session, token)
    return found.username or f"integration:{found.integration}"


def claim(session: Session, token: str) -> ServeClaim:
    """Mark the record used and return whom it names; PermissionDenied when the token is
    unknown, used or expired, or its key was removed or its agent disabled since."""
    now = utcnow()
    # One UPDATE with the conditions in its WHERE: two processes racing for one token cannot
    # both win, on either backend.
    claimed = cast("CursorResult[Any]", session.execute(
        update(ServeSession)
        .where(col(ServeSession.token) == token,
               col(ServeSession.used_at).is_(None),
               col(ServeSession.expires_at) > now)
        .values(used_at=now)
    )).rowcount
    if claimed != 1:
        raise PermissionDenied(_("the pob serve session record is unknown, used or expired"))
    row = session.execute(
        select(col(ServeSession.agent_id), col(ServeSession.integration),
               col(ServeSession.fingerprint), col(ServeSession.client_address),
               col(Agent.username), col(Agent.active), col(AgentKey.removed_at))
        .select_from(ServeSession)
        .outerjoin(Agent, col(Agent.id) == ServeSession.agent_id)
        .outerjoin(AgentKey, col(AgentKey.fingerprint) == ServeSession.fingerprint)
        .where(col(ServeSession.token) == token)
    ).one()
    agent_id, integration, fingerprint, address, username, active, removed_at = row
    if removed_at is not None or (agent_id is not None and not active):
        raise PermissionDenied(_("the key of this pob serve session was removed or its "
                                 "agent disabled"))
    return ServeClaim(username=username, agent_id=agent_id, integration=integration,
                      fingerprint=fingerprint, client_address=address)


def purge_records(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete records past use: they are not the audit trail (admin_event is)."""
    cutoff = utcnow() - older_than
    return cast("CursorResult[Any]", session.execute(
        delete(ServeSession).where(col(ServeSession.expires_at) < cutoff)
    )).rowcount
