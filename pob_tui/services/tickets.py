"""Any ticket by its number: the palette's and the shell's read-only look-up.

Plain values out (a frozen dataclass), so the TUI never holds ORM objects across threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.models import ChangeRequest, Incident, Person, Problem, Service, Team
from pob_tui.services.numbers import KINDS_BY_PREFIX, normalize_ticket_number


@dataclass(frozen=True)
class TicketRef:
    """Enough of any ticket (incident, problem, change) to show a read-only view."""

    kind: str  # incident | problem | change
    id: int
    number: str
    status: str
    summary: str
    priority: int | None = None
    caller: str | None = None
    service: str | None = None
    team: str | None = None
    opened_at: datetime | None = None
    description: str | None = None


def find_ticket(session: Session, number: str) -> TicketRef | None:
    """Any ticket by its full number, case-insensitive ('inc-000123' works)."""
    normal = normalize_ticket_number(number)
    if normal is None:
        return None
    kind = KINDS_BY_PREFIX[normal[:3]]
    if kind == "incident":
        return _find_incident(session, normal)
    if kind == "problem":
        p = session.scalars(select(Problem).where(col(Problem.number) == normal)).first()
        if p is None:
            return None
        service = session.get(Service, p.service_id) if p.service_id else None
        team = session.get(Team, p.team_id) if p.team_id else None
        return TicketRef(
            kind=kind, id=p.id or 0, number=p.number, status=p.status, summary=p.title,
            priority=p.priority, service=service.name if service else None,
            team=team.name if team else None, opened_at=p.opened_at, description=p.description,
        )
    c = session.scalars(select(ChangeRequest).where(col(ChangeRequest.number) == normal)).first()
    if c is None:
        return None
    requester = session.get(Person, c.requester_id) if c.requester_id else None
    team = session.get(Team, c.owner_team_id) if c.owner_team_id else None
    return TicketRef(
        kind=kind, id=c.id or 0, number=c.number, status=c.status, summary=c.title,
        caller=requester.name if requester else None, team=team.name if team else None,
        opened_at=c.created_at, description=c.description,
    )


def _find_incident(session: Session, number: str) -> TicketRef | None:
    caller = aliased(Person)
    row = session.execute(
        select(
            col(Incident.id), col(Incident.number), col(Incident.status), col(Incident.summary),
            col(Incident.priority), col(caller.first_name), col(caller.last_name),
            col(Service.name), col(Team.name), col(Incident.opened_at), col(Incident.description),
        )
        .join(caller, col(caller.id) == Incident.caller_id)
        .outerjoin(Service, col(Service.id) == Incident.service_id)
        .outerjoin(Team, col(Team.id) == Incident.team_id)
        .where(col(Incident.number) == number)
    ).first()
    if row is None:
        return None
    return TicketRef(
        kind="incident", id=row[0], number=row[1], status=row[2], summary=row[3],
        priority=row[4], caller=f"{row[5]} {row[6]}", service=row[7], team=row[8],
        opened_at=row[9], description=row[10],
    )
