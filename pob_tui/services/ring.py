"""The phone rings: the phone system tells pob that an agent answered a call from a number,
and the agent's running pob opens the call form with the caller and their open incidents.

`ring` (the CLI's `pob call ringing`, and the SSH front door) writes one `call_ring` row and
commits, which the live-update channel carries to every running pob (PostgreSQL NOTIFY, the
SQLite poll). Only the named agent's pob can `claim` it: one conditional UPDATE, so two pobs
of the same agent never both open it. `ring` then waits a moment to tell the phone system
whether a pob took it; either way it succeeds (a phone system must not retry).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import Agent, CallRing, Person, utcnow
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require
from pob_tui.services.pickers import _digits, caller_context, phone_forms

if TYPE_CHECKING:
    from sqlalchemy import CursorResult


@dataclass(frozen=True)
class RingResult:
    """What `pob call ringing` reports."""

    ring_id: int
    agent: str
    number: str
    caller: str | None  # the caller's username when the number is known
    taken: bool


@dataclass(frozen=True)
class RingCall:
    """A ring this pob took: the number, the caller's picker row (or None) and context."""

    ring_id: int
    number: str
    caller: dict[str, Any] | None
    context: dict[str, Any] = field(default_factory=dict)


def find_caller(session: Session, number: str, *, region: str) -> Person | None:
    """The active person whose phone is `number` however either is written."""
    forms = phone_forms(number, region=region)
    if not forms:
        return None
    return session.execute(
        select(Person).where(col(Person.active), _digits(col(Person.phone)).in_(forms))
        .order_by(col(Person.id)).limit(1)).scalars().first()


def ring(session: Session, actor: Actor, agent_username: str, number: str, *,
         settings: Settings, wait: float | None = None,
         sleep: Callable[[float], None] = time.sleep) -> RingResult:
    """Tell `agent_username`'s running pob that they answered a call from `number`.

    Administrators, the system actor and an integration key may ring. Commits the ring
    (so the live channel carries it), then waits up to `wait` seconds (default
    `settings.ring_wait_seconds`) for a pob to take it."""
    require(session, actor, "call.ring", agent_username)
    number = " ".join((number or "").split())
    if not number or len(number) > 40:
        raise InvalidInput(_("give the caller's phone number (at most 40 characters)"))
    agent = session.execute(select(Agent).where(col(Agent.username) == agent_username.strip(),
                                                col(Agent.active))).scalars().first()
    if agent is None or agent.id is None:
        raise NotFound(_("no active agent {username}").format(username=repr(agent_username)))
    person = find_caller(session, number, region=settings.phone_region)
    now = utcnow()
    row = CallRing(agent_id=agent.id, number=number,
                   person_id=person.id if person else None, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    ring_id = int(row.id or 0)
    session.commit()  # the ring is one transaction; the wait below only reads
    deadline = time.monotonic() + (settings.ring_wait_seconds if wait is None else wait)
    taken = False
    while True:
        taken = session.execute(select(col(CallRing.taken_at)).where(col(CallRing.id) == ring_id)
                                ).scalar() is not None
        session.commit()  # end the read so the next one sees the pob's commit
        if taken or time.monotonic() >= deadline:
            break
        sleep(0.05)
    return RingResult(ring_id, agent.username, number, person.username if person else None,
                      taken)


def claim(session: Session, agent_id: int, ring_id: int,
          now: datetime | None = None) -> RingCall | None:
    """Take ring `ring_id` for this agent's pob; None when it is another agent's or was
    already taken (by this agent's other pob, or an earlier claim)."""
    now = now or utcnow()
    taken = cast("CursorResult[Any]", session.execute(
        update(CallRing).where(col(CallRing.id) == ring_id, col(CallRing.agent_id) == agent_id,
                               col(CallRing.taken_at).is_(None))
        .values(taken_at=now, updated_at=now, version=col(CallRing.version) + 1)
        .execution_options(synchronize_session=False))).rowcount
    if taken != 1:
        return None
    ring_row = session.get(CallRing, ring_id)
    assert ring_row is not None
    caller = None
    context: dict[str, Any] = {}
    if ring_row.person_id is not None:
        context = caller_context(session, ring_row.person_id)
        caller = {"id": context["id"], "username": context["username"],
                  "name": context["name"], "phone": context["phone"],
                  "email": context["email"], "vip": context["vip"],
                  "org_unit": context["org_unit"], "location": context["location"]}
    return RingCall(ring_id, ring_row.number, caller, context)
