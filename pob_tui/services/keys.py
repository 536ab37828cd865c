"""Agents' SSH public keys: the only way into `pob serve`.

A key belongs to one agent, or to an integration (the phone system) that may run only
`call ringing`. Fingerprints are SHA256 as `ssh-keygen -l` prints them, so an administrator
can compare what pob lists with what an agent's own machine shows.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound, PermissionDenied
from pob_tui.i18n import _
from pob_tui.models import Agent, AgentKey, utcnow
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import Actor

_INTEGRATION_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ParsedKey:
    key_type: str
    key_data: str  # base64 of the public key blob, as in authorized_keys
    fingerprint: str
    comment: str | None


@dataclass(frozen=True)
class KeyRow:
    """One key as `pob agent key list` shows it."""

    username: str | None
    integration: str | None
    fingerprint: str
    key_type: str
    comment: str | None
    added_at: datetime


@dataclass(frozen=True)
class KeyOwner:
    """Who a presented key lets in: an agent (`agent_id`, `username`) or an integration."""

    key_id: int
    fingerprint: str
    agent_id: int | None
    username: str | None
    integration: str | None

    @property
    def name(self) -> str:
        """How the audit log names the owner."""
        return self.username or f"integration:{self.integration}"


class KeyRefused(PermissionDenied):
    """A key that does not let its holder in; the message says why (for the audit log)."""


def parse_public_key(text: str) -> ParsedKey:
    """An OpenSSH (or RFC 4716) public key, as one line `TYPE BASE64 [COMMENT]`."""
    import asyncssh

    text = text.strip()
    if not text:
        raise InvalidInput(_("no public key given (expected a line like 'ssh-ed25519 AAAA... "
                             "me')"))
    if "PRIVATE KEY" in text:
        raise InvalidInput(_("that is a private key; give the public key (the .pub file)"))
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise InvalidInput(_("not an SSH public key: {error}").format(error=exc)) from None
    comment = key.get_comment()
    return ParsedKey(
        key_type=key.get_algorithm(),
        key_data=base64.b64encode(key.public_data).decode("ascii"),
        fingerprint=key.get_fingerprint("sha256"),
        comment=comment[:200] if comment else None,
    )


def _may_administer(session: Session, actor: Actor, target: str) -> None:
    # Jobs run with the service's credentials act as the system actor (the lead's
    # identity.SYSTEM_ACTOR); they bootstrap the first keys. Everyone else needs agent.admin.
    if getattr(actor, "system", False):
        return
    from pob_tui.services.permissions import require

    require(session, actor, "agent.admin", target=target)


def add_key(session: Session, actor: Actor, text: str, *, username: str | None = None,
            integration: str | None = None) -> KeyRow:
    """Give an agent (or an integration) a key. A key can belong to one owner only."""
    if (username is None) == (integration is None):
        raise InvalidInput(_("give either an agent's username or --integration NAME"))
    target = username or f"integration:{integration}"
    _may_administer(session, actor, target)
    parsed = parse_public_key(text)
    agent: Agent | None = None
    if username is not None:
        agent = session.execute(select(Agent).where(col(Agent.username) == username)
                                ).scalars().first()
        if agent is None:
            raise NotFound(_("unknown agent {username}").format(username=repr(username)))
        if not agent.active:
            raise InvalidInput(_("agent {username} is disabled").format(username=username))
    elif integration is not None and not _INTEGRATION_NAME.match(integration):
        raise InvalidInput(_("integration name {name}: use lowercase letters, digits, '.', "
                             "'-' or '_'").format(name=repr(integration)))
    row = session.execute(
        select(AgentKey).where(col(AgentKey.fingerprint) == parsed.fingerprint)
    ).scalars().first()
    if row is not None and row.removed_at is None:
        owner = _owner_name(session, row)
        raise InvalidInput(_("key {fingerprint} already belongs to {owner}").format(
            fingerprint=parsed.fingerprint, owner=owner))
    if row is None:
        row = AgentKey(fingerprint=parsed.fingerprint, key_type=parsed.key_type,
                       key_data=parsed.key_data)
        session.add(row)
    # A removed key given again comes back as a new grant (its row keeps the fingerprint
    # unique, and the audit log has both the removal and this addition).
    row.agent_id = agent.id if agent else None
    row.integration = integration
    row.comment = parsed.comment
    row.added_at = utcnow()
    row.removed_at = None
    session.flush()
    record_admin_event(session, actor=actor.username, action="agent.key.add", target=target,
                       detail=f"{parsed.key_type} {parsed.fingerprint}")
    return KeyRow(username=username, integration=integration, fingerprint=row.fingerprint,
                  key_type=row.key_type, comment=row.comment, added_at=row.added_at)


def _owner_name(session: Session, row: AgentKey) -> str:
    if row.agent_id is None:
        return f"integration:{row.integration}"
    name = session.execute(select(col(Agent.username))
                           .where(col(Agent.id) == row.agent_id)).scalar()
    return str(name)


def list_keys(session: Session, username: str | None = None) -> list[KeyRow]:
    """Keys in use (removed ones are left out), oldest first; one agent's with `username`."""
    query = (
        select(col(Agent.username), col(AgentKey.integration), col(AgentKey.fingerprint),
               col(AgentKey.key_type), col(AgentKey.comment), col(AgentKey.added_at))
        .select_from(AgentKey)
        .outerjoin(Agent, col(Agent.id) == AgentKey.agent_id)
        .where(col(AgentKey.removed_at).is_(None))
        .order_by(col(AgentKey.added_at), col(AgentKey.id))
    )
    if username is not None:
        if session.execute(select(col(Agent.id))
                           .where(col(Agent.username) == username)).first() is None:
            raise NotFound(_("unknown agent {username}").format(username=repr(username)))
        query = query.where(col(Agent.username) == username)
    return [KeyRow(*row) for row in session.execute(query)]


def remove_key(session: Session, actor: Actor, fingerprint: str) -> KeyRow:
    """Take a key away. Open sessions with it end at the server's next check."""
    fingerprint = fingerprint.strip()
    row = session.execute(
        select(AgentKey).where(col(AgentKey.fingerprint) == fingerprint,
                               col(AgentKey.removed_at).is_(None))
    ).scalars().first()
    owner = _owner_name(session, row) if row is not None else fingerprint
    _may_administer(session, actor, owner)
    if row is None:
        raise NotFound(_("no key with fingerprint {fingerprint} (see `pob agent key list`)").format(
            fingerprint=repr(fingerprint)))
    row.removed_at = utcnow()
    record_admin_event(session, actor=actor.username, action="agent.key.remove", target=owner,
                       detail=f"{row.key_type} {row.fingerprint}")
    return KeyRow(username=owner if row.agent_id else None, integration=row.integration,
                  fingerprint=row.fingerprint, key_type=row.key_type, comment=row.comment,
                  added_at=row.added_at)


def key_owner(session: Session, key_data: str) -> KeyOwner:
    """The owner of a presented key (base64 blob), or KeyRefused saying why not."""
    row = session.execute(
        select(col(AgentKey.id), col(AgentKey.fingerprint), col(AgentKey.agent_id),
               col(AgentKey.integration),
               col(AgentKey.removed_at), col(Agent.username), col(Agent.active))
        .select_from(AgentKey)
        .outerjoin(Agent, col(Agent.id) == AgentKey.agent_id)
        .where(col(AgentKey.key_data) == key_data)
        .order_by(col(AgentKey.removed_at).is_not(None))
    ).first()
    if row is None:
        raise KeyRefused("unknown key")
    key_id, fingerprint, agent_id, integration, removed_at, username, active = row
    if removed_at is not None:
        raise KeyRefused("key removed")
    if agent_id is not None and not active:
        raise KeyRefused(f"agent {username} is disabled")
    return KeyOwner(key_id=key_id, fingerprint=fingerprint, agent_id=agent_id,
                    username=username, integration=integration)


def still_allowed(session: Session, key_ids: Iterable[int]) -> set[int]:
    """Of these keys, those that still let their owner in (not removed, agent active).
    The server asks this every few seconds to end the sessions of disabled agents."""
    ids = sorted(set(key_ids))
    if not ids:
        return set()
    rows = session.execute(
        select(col(AgentKey.id), col(Agent.active))
        .select_from(AgentKey)
        .outerjoin(Agent, col(Agent.id) == AgentKey.agent_id)
        .where(col(AgentKey.id).in_(ids),
               col(AgentKey.removed_at).is_(None))
    )
    return {key_id for key_id, active in rows if active is None or active}
