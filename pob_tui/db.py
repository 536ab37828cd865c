"""Engines, sessions and schema upgrades for SQLite and PostgreSQL.

Every way a database can fail to open (unreachable, wrong password, missing database, an
old or too-new schema) ends in one `DatabaseError` line that names the URL with its password
hidden. Upgrades go through Alembic, on start for SQLite, and on PostgreSQL too unless
`database.auto_upgrade = false`, in which case an old schema names `pob db upgrade`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import Session

from pob_tui.errors import DatabaseError, SchemaOutOfDate

if TYPE_CHECKING:
    from pob_tui.config import Settings

# The newest migration. Checked against Alembic by a test; lets a start with an up-to-date
# database skip loading Alembic at all (it costs a noticeable part of start-up).
SCHEMA_HEAD = "0007"
PG_UPGRADE_LOCK = 0x706F62  # "pob": serialises concurrent upgrades on PostgreSQL


def migrations_dir() -> Path:
    """The Alembic scripts: inside the installed package, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseError("pob is installed without its migrations; reinstall it")  # pragma: no cover


def safe_url(url: str | URL) -> str:
    """The URL as a user may see it: password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", str(url))


def _driver_message(exc: BaseException) -> str:
    """The first meaningful line of a driver error, without SQLAlchemy's boilerplate."""
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    # psycopg puts "connection to server at ... failed: " before the reason
    msg = lines[0] if lines else type(orig).__name__
    # psycopg: 'connection failed: connection to server at "h" (ip), port 5432 failed: FATAL:
    # database "x" does not exist' -> keep the server and the reason, drop the repetition.
    msg = re.sub(r"^connection failed: ", "", msg)
    server = re.match(r'^connection to server at "?([^",]*)"?(?: \([^)]*\))?, port (\d+) '
                      r"failed: (.*)$", msg)
    if server:
        host, port, reason = server.groups()
        reason = re.sub(r"^FATAL:\s+", "", reason)
        msg = f"{reason} (server {host}:{port})"
    msg = re.sub(r"^\(sqlite3\.\w+\) ", "", msg)
    return msg


def make_engine(url: str, *, busy_timeout_ms: int = 5000, echo: bool = False) -> Engine:
    """An engine with pob's connection settings. Nothing is connected yet."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"database URL {safe_url(url)!r} is not valid; expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the folder for {safe_url(url)}: {exc.strerror}"
                ) from None
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5, "application_name": "pob"}
    else:
        raise DatabaseError(
            f"database URL {safe_url(url)!r}: pob supports sqlite and postgresql, not {backend}"
        )
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use {safe_url(url)}: {exc}") from None
    if backend == "sqlite":
        _sqlite_pragmas(engine, busy_timeout_ms)
    return engine


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def check_connection(engine: Engine) -> None:
    """Connect once; turn any failure into one line naming the URL and what failed."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        raise DatabaseError(
            f"cannot open database {safe_url(engine.url)}: {_driver_message(exc)}"
        ) from None


def alembic_config(engine: Engine | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return heads[0] if heads else ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run Alembic's upgrade; on PostgreSQL under an advisory lock so two starting
    processes do not both try."""
    from alembic import command

    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_UPGRADE_LOCK})
                conn.commit()
                try:
                    cfg = alembic_config(engine)
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_UPGRADE_LOCK})
                    conn.commit()
        else:
            command.upgrade(alembic_config(engine), revision)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise DatabaseError(
            f"cannot upgrade {safe_url(engine.url)}: {_driver_message(exc)}"
        ) from None


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine, *, auto_upgrade: bool = True) -> None:
    """Bring the database to the current schema, or say what to run."""
    check_connection(engine)
    if _fast_revision(engine) == SCHEMA_HEAD:
        return
    try:
        current = current_revision(engine)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise DatabaseError(
            f"cannot read the schema version of {safe_url(engine.url)}: {_driver_message(exc)}"
        ) from None
    head = head_revision()
    if current == head:
        return
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise SchemaOutOfDate(
            f"database {safe_url(engine.url)} has schema revision {current}, newer than this "
            f"pob knows ({head}); upgrade pob"
        )
    if current is None and _has_foreign_tables(engine):
        raise DatabaseError(
            f"database {safe_url(engine.url)} holds tables that are not pob's; "
            "point pob at an empty database"
        )
    if not auto_upgrade and engine.dialect.name != "sqlite":
        raise SchemaOutOfDate(
            f"database {safe_url(engine.url)} is at schema {current or 'empty'}, pob needs "
            f"{head}; run `pob db upgrade`"
        )
    upgrade(engine)


def _fast_revision(engine: Engine) -> str | None:
    """The stored revision with a plain query (no Alembic import); None if unknown."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (DBAPIError, SQLAlchemyError):
        return None


def _has_foreign_tables(engine: Engine) -> bool:
    names = set(inspect(engine).get_table_names())
    return bool(names - {"alembic_version"})


SETTINGS_KEY = "pob.settings"


def _default_settings() -> Settings:
    from pob_tui.config import Settings

    return Settings()


def settings_of(session: Session) -> Settings:
    """The settings of the unit of work: `Database.session()` hands them to every session it
    opens, so a rule that needs configuration (closing days, the SLA warning threshold)
    reads the very settings the entry point loaded, and no module keeps a copy."""
    found = session.info.get(SETTINGS_KEY)
    if found is None:
        raise RuntimeError("session opened without settings; use Database.session()")
    return found  # type: ignore[no-any-return]


@dataclass
class Database:
    """An engine, the settings it was opened with, and a session factory: the one object
    services and the TUI share. Entry points open it with the settings they loaded; tests
    that build one from an engine get the documented defaults."""

    engine: Engine
    settings: Settings = field(default_factory=_default_settings)

    @classmethod
    def open(cls, settings: Settings) -> Database:
        engine = make_engine(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
        ensure_schema(engine, auto_upgrade=settings.auto_upgrade)
        return cls(engine, settings)

    @property
    def url(self) -> str:
        return safe_url(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            session.info[SETTINGS_KEY] = self.settings
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
