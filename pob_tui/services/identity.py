"""Who is acting: the agent behind this session.

On SQLite the agent is the operating-system user; on PostgreSQL it is the database login
role (`session_user`), which the server has authenticated. Nothing in the configuration can
change either, so nobody can act as someone else.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlmodel import Session

from pob_tui.errors import PermissionDenied
from pob_tui.models import Agent, AgentRole, Person, Team


@dataclass(frozen=True)
class Actor:
    """The acting agent as plain values. `agent_id` is None for an unregistered user."""

    username: str
    agent_id: int | None = None
    name: str = ""
    team_id: int | None = None
    team_name: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def registered(self) -> bool:
        return self.agent_id is not None

    def has(self, role: str) -> bool:
        return role in self.roles


def login_name(session: Session) -> str:
    """The authenticated user name: PostgreSQL's session_user, else the OS user."""
    if session.get_bind().dialect.name == "postgresql":
        return str(session.execute(text("SELECT session_user")).scalar_one())
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def load_actor(session: Session, username: str) -> Actor:
    """The Actor for `username`, registered or not."""
    row = session.execute(
        select(Agent.id, Agent.team_id, Person.first_name, Person.last_name, Team.name)
        .join(Person, Person.id == Agent.person_id)
        .outerjoin(Team, Team.id == Agent.team_id)
        .where(Agent.username == username, Agent.active)
    ).first()
    if row is None:
        return Actor(username=username)
    roles = frozenset(
        session.execute(select(AgentRole.role).where(AgentRole.agent_id == row[0])).scalars()
    )
    return Actor(
        username=username, agent_id=row[0], name=f"{row[2]} {row[3]}", team_id=row[1],
        team_name=row[4], roles=roles,
    )


def current_actor(session: Session) -> Actor:
    return load_actor(session, login_name(session))


def require_agent(actor: Actor) -> int:
    """The agent id, or a refusal that says what to do."""
    if actor.agent_id is None:
        raise PermissionDenied(
            f"{actor.username} is not registered as an agent; an administrator can add you "
            f"with `pob agent add {actor.username}`"
        )
    return actor.agent_id
