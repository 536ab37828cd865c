"""Engines, sessions and schema upgrades for SQLite and PostgreSQL.

Every way a database can fail to open (unreachable, wrong password, missing database, an
old or too-new schema) ends in one `DatabaseError` line that names the URL with its password
hidden. Upgrades go through Alembic, on start for SQLite, and on PostgreSQL too unless
`database.auto_upgrade = false`, in which case an old schema names `pob db upgrade`.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import Session

from pob_tui.errors import DatabaseError, SchemaOutOfDate
from pob_tui.i18n import _

if TYPE_CHECKING:
    from pob_tui.config import Settings

# The newest migration. Checked against Alembic by a test; lets a start with an up-to-date
# database skip loading Alembic at all (it costs a noticeable part of start-up).
SCHEMA_HEAD = "0012"
PG_UPGRADE_LOCK = 0x706F62  # "pob": serialises concurrent upgrades on PostgreSQL


def migrations_dir() -> Path:
    """The Alembic scripts: inside the installed package, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "migrations", here.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseError(_("pob is installed without its migrations; reinstall it")
                        )  # pragma: no cover


def _netloc_ats(url: str) -> int:
    """How many `@` the part before the host holds: more than one means a password with an
    unencoded `@`, which URL parsers split in the wrong place."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    return rest.split("/", 1)[0].count("@")


def safe_url(url: str | URL) -> str:
    """The URL as a user may see it: password replaced by ***."""
    if isinstance(url, str) and _netloc_ats(url) > 1:
        # user:p@ss@host: hide everything up to the last @ of the netloc, not up to the first
        scheme, rest = url.split("://", 1)
        netloc, _slash, path = rest.partition("/")
        user = netloc.split(":", 1)[0] if ":" in netloc.split("@", 1)[0] else "***"
        return f"{scheme}://{user}:***@{netloc.rsplit('@', 1)[1]}" + (f"/{path}" if path else "")
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
    if _netloc_ats(url) > 1:
        raise DatabaseError(
            _("database URL {url}: the password holds an '@'; percent-encode it as %40 (e.g. "
              "postgresql+psycopg://user:p%40ss@host/db)").format(url=repr(safe_url(url))))
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            _("database URL {url} is not valid; expected sqlite:///PATH or "
              "postgresql+psycopg://USER@HOST/DB").format(url=repr(safe_url(url)))
        ) from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5, "application_name": "pob"}
    else:
        raise DatabaseError(
            _("database URL {url}: pob supports sqlite and postgresql, not {backend}").format(
                url=repr(safe_url(url)), backend=backend)
        )
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseError(_("cannot use {url}: {error}").format(url=safe_url(url), error=exc)
                            ) from None
    if backend == "sqlite":
        _sqlite_pragmas(engine, busy_timeout_ms)
    return engine


AFTER_TRANSACTION = "pob_after_transaction"
"""`session.info` key of `Database.session()`: writes to run in their own transaction once
this one has ended, committed or not. On SQLite a session holds the write lock, so a second
session that writes (an audited permission denial) must wait for it to end."""

SQLITE_BEGIN = "pob_sqlite_begin"
"""Execution option naming how a SQLite transaction begins: "DEFERRED" (the default, for
reads) or "IMMEDIATE" (a unit of work that may write: `Database.session()`)."""


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL, memory and `file:` URIs."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") \
            or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def prepare_sqlite(url: str | URL, *, create: bool) -> bool:
    """Before SQLite opens a file: refuse a missing one unless `create` (a typo in `--db`
    must not make a new, empty database), or create it and its folder private (0600/0700).
    True if a new file was created. Nothing to do for PostgreSQL."""
    from pob_tui.files import create_private, private_dir

    path = sqlite_path(url)
    if path is None or path.exists():
        return False
    if not create:
        raise DatabaseError(
            _("no database at {path}; create one with `pob db upgrade` or `pob demo`, or check "
              "--db / database.url").format(path=repr(str(path)))
        )
    try:
        private_dir(path.parent)
        return create_private(path)
    except OSError as exc:
        raise DatabaseError(
            _("cannot create the database {path}: {error}").format(
                path=repr(str(path)), error=exc.strerror or exc)
        ) from None


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite starts a transaction only before INSERT/UPDATE/DELETE, so the SELECT
        # that read a version ran outside it and two processes could both save on the same
        # version (issue 12). We switch the driver's own handling off and emit BEGIN below
        # (SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock at its start (waiting up to the busy
        # timeout), so what it reads cannot change before it writes: no lost update, and no
        # SQLITE_BUSY from upgrading a read lock half-way through.
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    @event.listens_for(engine, "close")
    def _on_close(dbapi_conn: Any, _record: Any) -> None:
        # SQLite gathers planner statistics only when asked; `PRAGMA optimize` looks at the
        # queries this connection ran and analyzes the tables they would have profited
        # from (cheap when nothing changed), so it belongs on connections that ran queries.
        with contextlib.suppress(Exception):
            dbapi_conn.execute("PRAGMA optimize")


def gather_statistics(engine: Engine, tables: list[str] | None = None) -> None:
    """Planner statistics after bulk writes (the demo, imports): without `sqlite_stat1`
    SQLite guesses index selectivity and walks the wrong index on big tables; PostgreSQL's
    autovacuum would get there, but later than the first query."""
    names: list[str | None] = list(tables) if tables else [None]
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in names:
            if name is None:
                conn.exec_driver_sql("ANALYZE")
            else:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.exec_driver_sql(f"ANALYZE {quoted}")
        if conn.dialect.name == "sqlite":
            if tables is None or "incident" in tables:
                _status_statistics(conn)
            conn.commit()


def _status_statistics(conn: Any) -> None:
    """SQLite's `sqlite_stat1` keeps one average per index column (no histograms without
    STAT4), and incident.status is skewed: after ten years nearly every row is closed, so
    the average (62,000 rows per status at `history`) makes the planner walk all history
    for the queue's few open incidents. The queues ask for open statuses, so the indexes
    led by status get the open statuses' average instead (a documented use of the table:
    sqlite.org/lang_analyze.html, "fixed results")."""
    from pob_tui.models.incident import OPEN_STATUSES

    marks = ", ".join("?" for _s in OPEN_STATUSES)
    open_rows = conn.exec_driver_sql(
        f"SELECT count(*) FROM incident WHERE status IN ({marks})", tuple(OPEN_STATUSES)
    ).scalar() or 0
    per_status = max(1, -(-int(open_rows) // len(OPEN_STATUSES)))
    rows = conn.exec_driver_sql(
        "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'incident'").all()
    for idx, stat in rows:
        columns = conn.exec_driver_sql(f"PRAGMA index_info('{idx}')").all()
        parts = str(stat).split()
        if columns and columns[0][2] == "status" and len(parts) > 1:
            parts[1:] = [str(min(int(p), per_status)) for p in parts[1:]]
            conn.exec_driver_sql("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = 'incident' "
                                 "AND idx = ?", (" ".join(parts), idx))
    conn.exec_driver_sql("ANALYZE sqlite_master")  # reload the statistics


def check_connection(engine: Engine) -> None:
    """Connect once; turn any failure into one line naming the URL and what failed."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        raise DatabaseError(
            _("cannot open database {url}: {error}").format(
                url=safe_url(engine.url), error=_driver_message(exc))
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
            _("cannot upgrade {url}: {error}").format(
                url=safe_url(engine.url), error=_driver_message(exc))
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
            _("cannot read the schema version of {url}: {error}").format(
                url=safe_url(engine.url), error=_driver_message(exc))
        ) from None
    head = head_revision()
    if current == head:
        return
    refuse_newer(engine, current)
    if current is None and _has_foreign_tables(engine):
        raise DatabaseError(
            _("database {url} holds tables that are not pob's; point pob at an empty "
              "database").format(url=safe_url(engine.url))
        )
    if not auto_upgrade and engine.dialect.name != "sqlite":
        raise SchemaOutOfDate(
            _("database {url} is at schema {current}, pob needs {head}; run `pob db upgrade`")
            .format(url=safe_url(engine.url), current=current or _("empty"), head=head)
        )
    upgrade(engine)


def refuse_newer(engine: Engine, current: str | None) -> None:
    """A schema revision this pob does not know comes from a newer pob: say so (exit 3)
    rather than let Alembic fail with "Can't locate revision"."""
    from alembic.script import ScriptDirectory

    from pob_tui._version import __version__

    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise SchemaOutOfDate(
            _("this database is newer than pob {version}; upgrade pob ({url} is at schema "
              "{current}, this pob knows up to {head})").format(
                version=__version__, url=safe_url(engine.url), current=current,
                head=head_revision())
        )


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
    created: bool = False
    """True when `open(create=True)` made a new SQLite file (callers say where)."""
    _write_engine: Engine = field(init=False, repr=False)
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)

    def __post_init__(self) -> None:
        # Sessions bind to a view of the engine whose transactions begin IMMEDIATE on
        # SQLite (the option means nothing to PostgreSQL, which locks rows instead).
        self._write_engine = self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> Database:
        """Open and upgrade. A missing SQLite file is an error unless `create` (only
        `pob demo`, `pob db upgrade` and the TUI's first run create a database)."""
        created = prepare_sqlite(settings.database_url, create=create)
        engine = make_engine(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
        ensure_schema(engine, auto_upgrade=settings.auto_upgrade)
        return cls(engine, settings, created=created)

    @property
    def url(self) -> str:
        return safe_url(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error. On SQLite it holds
        the write lock from its first statement (`BEGIN IMMEDIATE`).

        A session opened inside another one in the same thread (looking an actor up while
        a save is open) begins DEFERRED instead: it can read, and waiting for the lock its
        own thread holds would only time out."""
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.after = []
        after: list[Callable[[Session], None]] = self._local.after
        bind = self._write_engine if depth == 0 else self.engine
        self._local.depth = depth + 1
        try:
            with Session(bind, expire_on_commit=False) as session:
                session.info[SETTINGS_KEY] = self.settings
                session.info[AFTER_TRANSACTION] = after
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            self._local.depth = depth
            if depth == 0:
                self._local.after = []
                for write in after:  # e.g. an audited denial: written on its own
                    with Session(self._write_engine) as own:
                        own.info[SETTINGS_KEY] = self.settings
                        write(own)
                        own.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def operational_failure(exc: BaseException) -> str | None:
    """One line for a database that cannot be used mid-command (exit 3), or None when
    `exc` is not such a failure (then it is a bug). SQLite busy and read-only files are
    the usual ones."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return None
    reason = _driver_message(exc)
    low = reason.lower()
    if "database is locked" in low or "database is busy" in low:
        return _("the database is busy: another program has held a lock for longer than the "
                 "busy timeout; nothing was saved, try again")
    if "readonly" in low or "read-only" in low:
        return _("the database is read-only for you (the file or its folder, where SQLite "
                 "keeps its WAL file): {reason}").format(reason=reason)
    return _("the database failed: {reason}").format(reason=reason)

