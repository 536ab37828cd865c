"""What the app shell needs from the database: who is working, what is open, ticket lookup.

Plain values out (frozen dataclasses, tuples), so the TUI never holds ORM objects across
threads and the CLI can reuse the same functions. No Textual here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.models import (
    Agent,
    ChangeRequest,
    ConfigItem,
    Incident,
    Person,
    Problem,
    Service,
    Team,
)
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.services.numbers import PREFIXES, WIDTH, format_number

KINDS_BY_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}
_NUMBER_RE = re.compile(rf"^\s*(INC|PRB|CHG)-(\d{{1,{WIDTH}}})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class AgentInfo:
    """The agent the app runs as; `name`/`team` are None when no Agent row matches."""

    username: str
    name: str | None = None
    team: str | None = None

    @property
    def known(self) -> bool:
        return self.name is not None


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


def database_label(url: str) -> str:
    """Short, password-free name of a database for the header: 'sqlite pob.sqlite3',
    'postgresql db.example.no/pob'. Parsed without SQLAlchemy: it runs on the UI's path."""
    scheme, _, rest = url.partition("://")
    dialect = scheme.split("+")[0] or "database"
    if dialect == "sqlite":
        path = rest.lstrip("/").split("?")[0]
        name = path.replace("\\", "/").rsplit("/", 1)[-1] if path else ":memory:"
        return f"sqlite {name or ':memory:'}"
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        dbname = unquote(parts.path.lstrip("/")) or "?"
    except ValueError:
        return dialect
    return f"{dialect} {host}/{dbname}"


def normalize_ticket_number(text: str) -> str | None:
    """'inc-123' -> 'INC-000123'; None unless it is a full number with a known prefix."""
    match = _NUMBER_RE.match(text)
    if not match:
        return None
    return format_number(match.group(1).upper(), int(match.group(2)))


def is_empty(session: Session) -> bool:
    """True on a fresh database (no people and no incidents): offer the demo data."""
    has_person = session.execute(select(col(Person.id)).limit(1)).first() is not None
    has_incident = session.execute(select(col(Incident.id)).limit(1)).first() is not None
    return not (has_person or has_incident)


def agent_info(session: Session, username: str) -> AgentInfo:
    """Who the header shows: the Agent with this username, its person and team."""
    row = session.execute(
        select(col(Person.first_name), col(Person.last_name), col(Team.name))
        .select_from(Agent)
        .join(Person, col(Person.id) == Agent.person_id)
        .outerjoin(Team, col(Team.id) == Agent.team_id)
        .where(col(Agent.username) == username)
    ).first()
    if row is None:
        return AgentInfo(username=username)
    first, last, team = row
    return AgentInfo(username=username, name=f"{first} {last}", team=team)


def count_open_incidents(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Incident).where(col(Incident.status).in_(OPEN_STATUSES))
        ).scalar_one()
    )


def ci_counts_by_class(session: Session) -> list[tuple[str, int]]:
    """Configuration items per class, largest first: the CMDB area's overview."""
    rows = session.execute(
        select(col(ConfigItem.ci_class), func.count())
        .group_by(col(ConfigItem.ci_class))
        .order_by(func.count().desc(), col(ConfigItem.ci_class))
    ).all()
    return [(cls, int(n)) for cls, n in rows]


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
