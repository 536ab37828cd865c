"""Database rights on PostgreSQL: only pob writes; agents' own logins only read.

`pob db grant` (run by the schema owner; idempotent) keeps two group roles true to the schema:

- `pob_service`: what `pob serve` and the server jobs log in as. Reads and writes pob's
  tables, never changes or removes audit rows (grants here, triggers in migration 0004).
- `pob_reader`: an agent's own login, if one exists. Reads, writes nothing, and cannot read
  costs, funding or serve session records.

It replaces the earlier `pob_agent` group (read-write for every agent): its members become
readers and the role is dropped. Role rules still live in services/permissions.py; these
grants are the database backing them up, so a rule holds however a user comes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel import Session

from pob_tui.errors import InvalidInput, PermissionDenied
from pob_tui.i18n import _

SERVICE_ROLE = "pob_service"
READER_ROLE = "pob_reader"
LEGACY_ROLE = "pob_agent"
APPEND_ONLY = ("ticket_event", "admin_event")
DELETABLE = ("sla_clock", "ticket_presence", "cab_agenda_item", "cab_member", "change_ci",
             "notification", "serve_session")
NOT_FOR_READERS = ("service_cost", "funding", "serve_session", "alembic_version")
"""Tables a reader may not see: money (costs.read is a role rule), and live session secrets."""
GRANT_LOCK = 0x706F6267  # "pobg"
_LOGIN = re.compile(r"^[a-z_][a-z0-9_.\-]{0,62}$")


@dataclass
class GrantReport:
    created: list[str] = field(default_factory=list)
    members_moved: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    service_login: str | None = None


def _exists(session: Session, role: str) -> bool:
    return session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"),
                           {"n": role}).first() is not None


def _quote(name: str) -> str:
    if not _LOGIN.match(name):
        raise InvalidInput(_("login name {name}: use lowercase letters, digits, '.', '-', '_'")
                           .format(name=repr(name)))
    return f'"{name}"'


def _tables(session: Session) -> list[str]:
    return list(session.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )).scalars())


def grant(session: Session, *, service_login: str | None = None) -> GrantReport:
    """Create and grant pob_service and pob_reader (idempotent); optionally make
    `service_login` (created as a login if missing) a member of pob_service."""
    if session.get_bind().dialect.name != "postgresql":
        raise InvalidInput(_("pob db grant is for PostgreSQL; on SQLite the database file's "
                             "permissions decide (pob creates it 0600)"))
    owner = session.execute(text(
        "SELECT pg_has_role(session_user, tableowner, 'USAGE') FROM pg_tables "
        "WHERE schemaname = 'public' AND tablename = 'incident'")).scalar()
    if not owner:
        raise PermissionDenied(_("pob db grant must be run by the owner of pob's schema"))
    # Roles are cluster-wide: two databases granting at once must not both create them.
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": GRANT_LOCK})
    report = GrantReport()
    for role in (SERVICE_ROLE, READER_ROLE):
        if not _exists(session, role):
            session.execute(text(f"CREATE ROLE {role} NOLOGIN"))
            report.created.append(role)
    db = session.execute(text("SELECT current_database()")).scalar()
    tables = _tables(session)
    for role in (SERVICE_ROLE, READER_ROLE):
        session.execute(text(f'GRANT CONNECT ON DATABASE "{db}" TO {role}'))
        session.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        session.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
        session.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}"))
    # the service: read and write, never rewrite the audit trail
    session.execute(text(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public "
                         f"TO {SERVICE_ROLE}"))
    session.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public "
                         f"TO {SERVICE_ROLE}"))
    for table in DELETABLE:
        if table in tables:
            session.execute(text(f"GRANT DELETE ON {table} TO {SERVICE_ROLE}"))
    for table in APPEND_ONLY:
        session.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {SERVICE_ROLE}"))
    session.execute(text(f"REVOKE INSERT, UPDATE ON alembic_version FROM {SERVICE_ROLE}"))
    # readers: SELECT only, and not the money or the session records
    for table in tables:
        if table not in NOT_FOR_READERS:
            session.execute(text(f'GRANT SELECT ON "{table}" TO {READER_ROLE}'))
    if "alembic_version" in tables:  # pob checks the schema version on start
        session.execute(text(f"GRANT SELECT ON alembic_version TO {READER_ROLE}"))
    # the old read-write group: its members become readers, then it goes
    if _exists(session, LEGACY_ROLE):
        members = list(session.execute(text(
            "SELECT m.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid "
            "JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = :g ORDER BY 1"),
            {"g": LEGACY_ROLE}).scalars())
        for member in members:
            session.execute(text(f'GRANT {READER_ROLE} TO "{member}"'))
            session.execute(text(f'REVOKE {LEGACY_ROLE} FROM "{member}"'))
            report.members_moved.append(member)
        session.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {LEGACY_ROLE}"))
        session.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {LEGACY_ROLE}"))
        session.execute(text(f"REVOKE ALL ON SCHEMA public FROM {LEGACY_ROLE}"))
        session.execute(text(f'REVOKE ALL ON DATABASE "{db}" FROM {LEGACY_ROLE}'))
        others = session.execute(text(
            "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a "
            "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :r)"),
            {"r": LEGACY_ROLE}).scalar()
        if not others:  # still used by another pob database on this cluster: keep it
            session.execute(text(f"DROP ROLE {LEGACY_ROLE}"))
            report.dropped.append(LEGACY_ROLE)
    if service_login:
        quoted = _quote(service_login)
        if not _exists(session, service_login):
            session.execute(text(f"CREATE ROLE {quoted} LOGIN"))
            report.created.append(service_login)
        session.execute(text(f"GRANT {SERVICE_ROLE} TO {quoted}"))
        report.service_login = service_login
    return report


def grant_reader(session: Session, login: str) -> None:
    """Make `login` (created if missing) a read-only pob login."""
    if not _exists(session, READER_ROLE):
        raise InvalidInput(_("the pob_reader role does not exist yet; the schema owner runs "
                             "`pob db grant` first"))
    quoted = _quote(login)
    if not _exists(session, login):
        session.execute(text(f"CREATE ROLE {quoted} LOGIN"))
    session.execute(text(f"GRANT {READER_ROLE} TO {quoted}"))


def revoke_reader(session: Session, login: str) -> None:
    if _exists(session, login) and _exists(session, READER_ROLE):
        session.execute(text(f"REVOKE {READER_ROLE} FROM {_quote(login)}"))


def can_write(session: Session) -> bool:
    """Whether this login may change pob's data (the TUI needs it; readers use ssh)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text(
        "SELECT has_table_privilege(session_user, 'incident', 'INSERT')")).scalar())
