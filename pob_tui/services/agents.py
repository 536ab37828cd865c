"""Agents: who may work in pob, with which roles. Administrators manage them.

Agents work through `pob serve` (their SSH key is their identity). On PostgreSQL an agent
may also have a read-only login of their own: `add_agent(create_role=True)` creates it and
grants `pob_reader` (see services/grants.py). Creating roles needs CREATEROLE.
Bootstrap: while no active administrator exists, anyone may add the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import exists, func, select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import ROLES, Agent, AgentRole, Person, Team
from pob_tui.services import grants
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import Actor
from pob_tui.services.incidents import find_team
from pob_tui.services.permissions import require

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_.\-]{0,62}$")


def _has_admin(session: Session) -> bool:
    return bool(session.execute(select(exists().where(
        col(AgentRole.role) == "administrator", col(AgentRole.agent_id) == Agent.id,
        col(Agent.active)
    ))).scalar())


def add_agent(session: Session, actor: Actor, username: str, *, first_name: str,
              last_name: str, team: str | None = None, roles: list[str] | None = None,
              person: str | None = None, create_role: bool = False) -> Agent:
    roles = list(dict.fromkeys(roles or ["first_line"]))
    if _has_admin(session):
        require(session, actor, "agent.admin", target=username)
    elif "administrator" not in roles:
        raise InvalidInput(_("there is no administrator yet; the first agent added must have "
                             "the administrator role"))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(_("unknown role {role}; expected one of {choices}").format(
            role=repr(unknown[0]), choices=", ".join(ROLES)))
    username = username.strip()
    if not _ROLE_NAME.match(username):
        raise InvalidInput(_("agent username {username}: use lowercase letters, digits, '.', "
                             "'-' or '_' (it is also the database login)").format(
            username=repr(username)))
    if session.execute(select(Agent).where(func.lower(col(Agent.username)) == username.lower())
                       ).first():
        raise InvalidInput(_("agent {username} already exists").format(username=username))
    team_row: Team | None = find_team(session, team) if team else None
    if person:
        who = session.execute(select(Person).where(col(Person.username) == person)
                              ).scalars().first()
        if who is None:
            raise NotFound(_("unknown person {username}").format(username=repr(person)))
    else:
        who = session.execute(select(Person).where(col(Person.username) == username)
                              ).scalars().first()
        if who is None:
            who = Person(username=username, first_name=first_name, last_name=last_name,
                         search=f"{first_name} {last_name} {username}".lower())
            session.add(who)
            session.flush()
    assert who.id is not None  # flushed or loaded: the row has its id
    agent = Agent(username=username, person_id=who.id, team_id=team_row.id if team_row else None)
    session.add(agent)
    session.flush()
    assert agent.id is not None  # set by the flush
    session.add_all([AgentRole(agent_id=agent.id, role=r) for r in roles])
    if create_role:
        _create_login_role(session, username)
    record_admin_event(session, actor=actor.username, action="agent.add", target=username,
                       detail="roles: " + ", ".join(roles))
    return agent


def _create_login_role(session: Session, username: str) -> None:
    """A read-only database login for the agent (`pob_reader`): their work goes through
    `pob serve`, which alone holds credentials that can write."""
    if session.get_bind().dialect.name != "postgresql":
        raise InvalidInput(_("--create-role is for PostgreSQL; on SQLite the agent is the "
                             "operating-system user"))
    grants.grant_reader(session, username)


class AgentRow(TypedDict):
    """A row of `pob agent list` (the keys are its JSON/CSV fields)."""

    username: str
    name: str
    team: str | None
    active: bool
    roles: str


def list_agents(session: Session, *, include_disabled: bool = False) -> list[AgentRow]:
    roles = func.coalesce(
        select(func.group_concat(col(AgentRole.role)) if session.get_bind().dialect.name == "sqlite"
               else func.string_agg(col(AgentRole.role), ","))
        .where(col(AgentRole.agent_id) == Agent.id).correlate(Agent).scalar_subquery(), "")
    stmt = (select(col(Agent.username), col(Person.first_name), col(Person.last_name),
                   col(Team.name), col(Agent.active), roles)
            .join(Person, col(Person.id) == Agent.person_id)
            .outerjoin(Team, col(Team.id) == Agent.team_id)
            .order_by(col(Agent.username)))
    if not include_disabled:
        stmt = stmt.where(col(Agent.active))
    return [AgentRow(username=u, name=f"{f} {la}", team=t, active=a,
                     roles=",".join(sorted(r.split(","))) if r else "")
            for u, f, la, t, a, r in session.execute(stmt)]


def disable_agent(session: Session, actor: Actor, username: str) -> None:
    require(session, actor, "agent.admin", target=username)
    agent = session.execute(select(Agent).where(col(Agent.username) == username)).scalars().first()
    if agent is None:
        raise NotFound(_("unknown agent {username}").format(username=repr(username)))
    if username == actor.username:
        raise InvalidInput(_("you cannot disable yourself"))
    agent.active = False
    if session.get_bind().dialect.name == "postgresql":
        grants.revoke_reader(session, username)
    record_admin_event(session, actor=actor.username, action="agent.disable", target=username)


@dataclass(frozen=True)
class AgentInfo:
    """The agent the app runs as; `name`/`team` are None when no Agent row matches."""

    username: str
    name: str | None = None
    team: str | None = None
    no_administrator: bool = False
    """No active administrator yet (a fresh database): the next agent added must be one,
    and anyone may add it."""

    @property
    def known(self) -> bool:
        return self.name is not None


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
        return AgentInfo(username=username, no_administrator=not _has_admin(session))
    first, last, team = row
    return AgentInfo(username=username, name=f"{first} {last}", team=team)
