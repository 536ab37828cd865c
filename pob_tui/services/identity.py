"""Who is acting: one function, `resolve_actor`, decides it for every entry point.

- SQLite: the operating-system account of the process, looked up by its uid (never
  `LOGNAME`/`USER`, which anyone can set).
- PostgreSQL: the login the server authenticated (`session_user`). A login that is a member
  of `pob_service` (the credentials only `pob serve` and server jobs hold) acts as the system
  actor `pob`.
- A `pob serve` session: the agent whose SSH key authenticated. The server writes a one-use,
  short-lived session record and starts the session's program with the record's id; the
  record, not the id, names the agent, and it is honoured only in a process that holds the
  service's write credentials.

No environment variable, flag or configuration value names the agent. Tests inject an
`Actor` as a Python argument (`PobApp(actor=...)`, `cli.main(argv, actor=...)`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlmodel import Session, col

from pob_tui.errors import PermissionDenied
from pob_tui.i18n import _
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
    system: bool = False
    """The system actor `pob`: server jobs (mail, directory sync, SLA checks, demo) that run
    with the service's own credentials. It may do what any role may; it has no agent id."""
    integration: bool = False
    """An integration key of `pob serve` (the phone system): role `integration` only, which
    lets it ring (`call.ring`) and nothing else; it has no agent id."""

    @property
    def registered(self) -> bool:
        return self.agent_id is not None or self.system or self.integration

    def has(self, role: str) -> bool:
        return role in self.roles


SYSTEM_USERNAME = "pob"
SYSTEM_ACTOR = Actor(username=SYSTEM_USERNAME, name="pob", system=True)
SERVICE_ROLE = "pob_service"
INTEGRATION_PREFIX = "integration:"
"""How a serve session record names an integration key's owner (services/serve_sessions)."""
SERVE_SESSION_ENV = "POB_SERVE_SESSION"
"""Carries a serve session record's id from `pob serve` to the session's program. The id is
not an identity claim: the record it points to is, and only pob_service can write those."""


def os_account() -> str:
    """The process's operating-system account, by uid (environment variables are ignored)."""
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (containers): the uid is still who runs
        return f"uid{uid}"


def login_name(session: Session) -> str:
    """The authenticated user name: PostgreSQL's session_user, else the OS account."""
    if session.get_bind().dialect.name == "postgresql":
        return str(session.execute(text("SELECT session_user")).scalar_one())
    return os_account()


def holds_service_credentials(session: Session) -> bool:
    """Whether this process may write as pob itself: on PostgreSQL a login in pob_service;
    on SQLite the account that owns the database file (the serve account's 0600 file)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # A superuser can write everything anyway: it counts as holding them, whether or not
        # `pob db grant` has created pob_service yet.
        return bool(session.execute(text(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) OR ("
            "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) "
            "AND pg_has_role(session_user, :r, 'MEMBER'))"), {"r": SERVICE_ROLE}).scalar())
    path = bind.engine.url.database
    if not path or path == ":memory:":
        return True
    try:
        return os.stat(path).st_uid == os.getuid()
    except OSError:
        return False


def load_actor(session: Session, username: str) -> Actor:
    """The Actor for `username`, registered or not."""
    row = session.execute(
        select(col(Agent.id), col(Agent.team_id), col(Person.first_name),
               col(Person.last_name), col(Team.name))
        .join(Person, col(Person.id) == col(Agent.person_id))
        .outerjoin(Team, col(Team.id) == col(Agent.team_id))
        .where(col(Agent.username) == username, col(Agent.active))
    ).first()
    if row is None:
        return Actor(username=username)
    roles = frozenset(
        session.execute(select(col(AgentRole.role))
                        .where(col(AgentRole.agent_id) == row[0])).scalars()
    )
    return Actor(
        username=username, agent_id=row[0], name=f"{row[2]} {row[3]}", team_id=row[1],
        team_name=row[4], roles=roles,
    )


def resolve_actor(session: Session, *, injected: Actor | None = None,
                  serve_record: str | None = None) -> Actor:
    """The one place that decides who acts in a session (see the module docstring).

    `injected` is for tests and in-process callers only (a Python argument, never argv,
    environment or configuration); its roles are reloaded from the database.
    """
    if injected is not None:
        return injected if injected.system else load_actor(session, injected.username)
    if serve_record is not None:
        if not holds_service_credentials(session):
            raise PermissionDenied(
                _("a serve session id was given to a process without pob's service "
                  "credentials; connect with ssh instead"))
        import importlib

        # services/serve_sessions.py comes with pob serve; imported by name so this module
        # (below every entry point) loads without the SSH front door's code.
        serve_sessions = importlib.import_module("pob_tui.services.serve_sessions")
        username = str(serve_sessions.claim_record(session, serve_record))
        if username.startswith(INTEGRATION_PREFIX):
            return Actor(username=username, name=username[len(INTEGRATION_PREFIX):],
                         roles=frozenset({"integration"}), integration=True)
        return load_actor(session, username)
    name = login_name(session)
    if session.get_bind().dialect.name == "postgresql" and holds_service_credentials(session):
        actor = load_actor(session, name)
        return actor if actor.agent_id is not None else SYSTEM_ACTOR
    return load_actor(session, name)


def require_agent(actor: Actor) -> int | None:
    """The agent id (None for the system actor), or a refusal that says what to do."""
    if actor.system:
        return None
    if actor.agent_id is None:
        raise PermissionDenied(
            _("{username} is not registered as an agent; an administrator can add you with "
              "`pob agent add {username}`").format(username=actor.username)
        )
    return actor.agent_id
