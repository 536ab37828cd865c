"""Test databases: every test that touches the database runs on SQLite and PostgreSQL.

Each test gets its own fresh database: a copy of a migrated SQLite file, or a PostgreSQL
database created from a migrated template (CREATE DATABASE ... TEMPLATE copies the files, far
faster than running the migrations per test). An empty PostgreSQL database is handed to the
next test of the same worker once it is back to the template's state, under a new name
(`PgReuse`): a copy and a drop per test were most of a PostgreSQL test's setup.
`--db sqlite|postgresql|both` picks backends.
PostgreSQL comes from $POB_TEST_PG_URL (default the CI server on 127.0.0.1:5432); when it is
unreachable those tests skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from pob_tui.db import Database, make_engine, upgrade
from pob_tui.services import live

# Entry points wire the live-update hook (commands.common.open_database, PobApp); tests that
# build a Database from an engine get it here, once per process, as the entry points do.
live.install()

# The oldest generation is collected after 1000 collections of the middle one, not 10: a
# Pilot test makes and drops hundreds of thousands of objects (widgets, styles, segments),
# and each full collection walked all of the process's objects again -- a quarter of a Pilot
# test's CPU time. Garbage is still collected, later: a worker holds more (the largest
# peaked at 0.9 GB in a full `-n 2` run; test_desk_flows alone: 162 -> 298 MB).
gc.set_threshold(*gc.get_threshold()[:2], 1000)

PG_URL = os.environ.get("POB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEMO_TODAY = date(2026, 11, 20)  # the demo fixture's "today": same data on every day


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default="both",
        choices=("sqlite", "postgresql", "both"),
        help="database backends to run database tests on",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests (bench smoke runs, the fresh-venv install: 5-15 s each) run first, so
    `-n 2` does not end with one worker on a long test while the other has nothing left."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        backends = BACKENDS if choice == "both" else (choice,)
        # Backend-only tests are chosen here, at collection, not skipped at run time.
        if metafunc.definition.get_closest_marker("pg_only"):
            backends = tuple(b for b in backends if b == "postgresql")
        # Pilot flows and snapshots run on SQLite; what differs by backend (live updates,
        # reconnects) is marked both_backends, and the services have their own tests on both.
        in_tui = "tests/tui/" in str(metafunc.definition.path).replace("\\", "/")
        if metafunc.definition.get_closest_marker("sqlite_only") or (
                in_tui and not metafunc.definition.get_closest_marker("both_backends")):
            backends = tuple(b for b in backends if b == "sqlite")
        metafunc.parametrize("backend", backends, scope="function")


_pg_status: dict[str, str | None] = {}


def pg_unavailable_reason() -> str | None:
    """None when the test PostgreSQL answers, else why not (checked once)."""
    if "reason" not in _pg_status:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_status["reason"] = None
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _pg_status["reason"] = f"PostgreSQL at {PG_URL} unreachable: {first}"
    return _pg_status["reason"]


def require_pg() -> None:
    reason = pg_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pg_admin_engine():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


_admin: list[Engine] = []


def _shared_admin() -> Engine:
    """One admin engine per process for creating and dropping the tests' databases: a new
    engine per call connected and ran SQLAlchemy's first-connect queries twice a test,
    several times what CREATE DATABASE ... TEMPLATE itself takes."""
    if not _admin:
        _admin.append(pg_admin_engine())
    return _admin[0]


# A forked child (multiprocessing) must not use, nor close, the parent's connections.
os.register_at_fork(after_in_child=lambda: _admin and _admin[0].dispose(close=False))


def pg_url_for(dbname: str) -> str:
    return make_url(PG_URL).set(database=dbname).render_as_string(hide_password=False)


def pg_create_database(template: str | None = None) -> str:
    name = f"pob_t_{uuid.uuid4().hex[:12]}"
    with _shared_admin().connect() as conn:
        tmpl = f" TEMPLATE {template}" if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{tmpl}'))
    return name


def pg_drop_database(name: str) -> None:
    with _shared_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _libpq_url(dbname: str) -> str:
    return make_url(PG_URL).set(drivername="postgresql", database=dbname).render_as_string(
        hide_password=False)


# What a test could change in a database besides its rows: tables, columns, defaults,
# constraints, triggers, functions, grants, policies, rules, types, extensions and the
# database's own settings. Temporary schemas (one per session that used a temporary table)
# are not the database's state.
_SCHEMA_FINGERPRINT = r"""
SELECT md5(string_agg(item, '|' ORDER BY item)) FROM (
  SELECT 'c:' || n.nspname || '.' || c.relname || ':' || c.relkind::text || ':'
         || c.relpersistence::text
         || ':' || coalesce(c.relacl::text, '') || ':' || c.relrowsecurity::text
         || c.relforcerowsecurity::text || ':' || coalesce(c.reloptions::text, '') AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT LIKE 'pg\_%temp\_%' AND c.relpersistence <> 't'
  UNION ALL
  SELECT 'a:' || a.attrelid::regclass::text || '.' || a.attname || ':' || a.atttypid::text
         || ':' || a.attnotnull::text || ':' || a.attidentity::text || a.attgenerated::text || ':'
         || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ':' || coalesce(a.attacl::text, '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname = 'public'
  UNION ALL
  SELECT 'k:' || conrelid::regclass::text || '.' || conname || ':' || contype::text
         || convalidated::text || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 't:' || tgrelid::regclass::text || '.' || tgname || ':' || tgenabled::text || ':'
         || tgfoid::regproc::text FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'p:' || p.oid::regprocedure::text || ':' || md5(coalesce(p.prosrc, '')) || ':'
         || coalesce(p.proacl::text, '') || ':' || p.prosecdef::text || ':'
         || coalesce(p.proconfig::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'n:' || nspname || ':' || coalesce(nspacl::text, '') FROM pg_namespace
   WHERE nspname NOT LIKE 'pg\_%temp\_%'
  UNION ALL
  SELECT 'y:' || t.typname || ':' || coalesce(t.typacl::text, '') || ':'
         || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                        FROM pg_enum WHERE enumtypid = t.oid), '')
    FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'r:' || ev_class::regclass::text || '.' || rulename FROM pg_rewrite r
    JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = 'public'::regnamespace
   AND rulename <> '_RETURN'
  UNION ALL
  SELECT 'o:' || polrelid::regclass::text || '.' || polname FROM pg_policy
  UNION ALL
  SELECT 'e:' || extname || ':' || extversion FROM pg_extension
  UNION ALL
  SELECT 'g:' || defaclrole::text || ':' || defaclobjtype::text || ':' || defaclacl::text
    FROM pg_default_acl
  UNION ALL
  SELECT 'v:' || evtname FROM pg_event_trigger
  UNION ALL
  SELECT 'd:' || coalesce(datacl::text, '') || ':' || datconnlimit::text || ':'
         || datallowconn::text || ':' || datdba::text
    FROM pg_database WHERE datname = current_database()
  UNION ALL
  SELECT 's:' || setrole::text || ':' || setconfig::text FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS state
"""


class PgReuse:
    """Gives a worker's empty PostgreSQL databases to its next tests, each time under a new
    name and back in the template's state.

    After a test: no one may connect, every session on it ends, it gets a new name (a
    thread or process the test left behind finds its database gone, as after a drop), then
    its rows and sequences go back to what the template holds. A test that changed more
    than rows (grants, columns, triggers: the schema fingerprint differs) or that the reset
    cannot handle gets its database dropped instead, as before. Copying the template and
    dropping the copy took about 0.1-0.3 s of the server's time per test; this takes a few
    milliseconds.
    """

    def __init__(self, template: str) -> None:
        with psycopg.connect(_libpq_url(template), autocommit=True) as conn:
            self.fingerprint = conn.execute(_SCHEMA_FINGERPRINT).fetchone()[0]  # type: ignore[index]
            tables = [row[0] for row in conn.execute(
                "SELECT quote_ident(relname) FROM pg_class WHERE relkind IN ('r', 'p') "
                "AND relnamespace = 'public'::regnamespace ORDER BY relname")]
            self.rows: dict[str, bytes] = {}
            for table in tables:
                if conn.execute(f"SELECT EXISTS (SELECT FROM {table})").fetchone()[0]:  # type: ignore[index]
                    with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                        self.rows[table] = b"".join(bytes(block) for block in copy)
            sequences = conn.execute(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value "
                "FROM pg_sequences WHERE schemaname = 'public'").fetchall()
        # Triggers (and the foreign keys' own triggers) do not fire for a replication role:
        # the append-only audit tables may be emptied by the reset, never by pob.
        self.script = "; ".join(
            ["SET LOCAL session_replication_role = replica"]
            + [f"DELETE FROM {table}" for table in tables]
            + [f"ALTER SEQUENCE {name} RESTART" if last is None
               else f"SELECT setval('{name}', {int(last)}, true)" for name, last in sequences])
        self.free: list[str] = []

    def take(self) -> str | None:
        return self.free.pop() if self.free else None

    def give_back(self, name: str) -> None:
        """Reset `name` for the next test, or drop it when it cannot be."""
        fresh = f"pob_t_{uuid.uuid4().hex[:12]}"
        try:
            with _shared_admin().connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(text("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                                  "WHERE datname = :name"), {"name": name})
                conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{fresh}"'))
                conn.execute(text(f'ALTER DATABASE "{fresh}" ALLOW_CONNECTIONS true'))
            with psycopg.connect(_libpq_url(fresh)) as db:
                same = db.execute(_SCHEMA_FINGERPRINT).fetchone()[0] == self.fingerprint  # type: ignore[index]
                if same:
                    db.execute(self.script)
                    for table, data in self.rows.items():
                        with db.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                            copy.write(data)
                    db.commit()
        except Exception:
            same = False
        if same:
            self.free.append(fresh)
        else:
            pg_drop_database(name)
            pg_drop_database(fresh)

    def cleanup(self) -> None:
        while self.free:
            pg_drop_database(self.free.pop())


class Templates:
    """Migrated (and optionally demo-filled) template databases, built once per worker."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.sqlite: dict[str, Path] = {}
        self.pg: dict[str, str] = {}
        self.reuse: dict[str, PgReuse] = {}

    def sqlite_template(self, kind: str, fill: Callable[[str], None] | None) -> Path:
        if kind not in self.sqlite:
            path = self.tmp / f"template-{kind}.sqlite3"
            url = f"sqlite:///{path}"
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            if fill:
                fill(url)
            with create_engine(url).connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            self.sqlite[kind] = path
        return self.sqlite[kind]

    def pg_template(self, kind: str, fill: Callable[[str], None] | None) -> str:
        if kind not in self.pg:
            name = f"pob_tmpl_{kind}_{_worker()}_{os.getpid()}"
            pg_drop_database(name)
            with _shared_admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = pg_url_for(name)
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            if fill:
                fill(url)
            self.pg[kind] = name
        return self.pg[kind]

    def pg_reuse(self, kind: str) -> PgReuse:
        if kind not in self.reuse:
            self.reuse[kind] = PgReuse(self.pg[kind])
        return self.reuse[kind]

    def cleanup(self) -> None:
        for reuse in self.reuse.values():
            reuse.cleanup()
        for name in self.pg.values():
            pg_drop_database(name)


@pytest.fixture(autouse=True, scope="session")
def _temporary_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """pob keeps a copy of the holidays package's answer in the user's cache folder
    (services/holiday_cache.py); the tests keep theirs in a temporary one."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    if t.pg and not pg_unavailable_reason():
        t.cleanup()
    if _admin:
        _admin.pop().dispose()


def _fresh_url(
    backend: str, tmp_path: Path, templates: Templates, kind: str,
    fill: Callable[[str], None] | None,
) -> Iterator[str]:
    if backend == "sqlite":
        src = templates.sqlite_template(kind, fill)
        dst = tmp_path / f"pob-{kind}.sqlite3"
        shutil.copyfile(src, dst)
        yield f"sqlite:///{dst}"
        return
    require_pg()
    template = templates.pg_template(kind, fill)
    if fill is not None:  # a filled copy is quicker to make again than to restore
        name = pg_create_database(template)
        try:
            yield pg_url_for(name)
        finally:
            pg_drop_database(name)
        return
    reuse = templates.pg_reuse(kind)
    name = reuse.take() or pg_create_database(template)
    try:
        yield pg_url_for(name)
    finally:
        reuse.give_back(name)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """URL of a fresh, migrated, empty database on `backend`."""
    yield from _fresh_url(backend, tmp_path, templates, "empty", None)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database with no tables at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'bare.sqlite3'}"
        return
    require_pg()
    name = pg_create_database()
    try:
        yield pg_url_for(name)
    finally:
        pg_drop_database(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(make_engine(db_url))
    yield database
    database.dispose()


def _fill_small_demo(url: str) -> None:
    from pob_tui.demo import generate

    generate(url, scale="small", seed=7, progress=None, today=DEMO_TODAY)


@pytest.fixture
def demo_url(backend: str, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """URL of a fresh database holding the `small` demo (seed 7)."""
    yield from _fresh_url(backend, tmp_path, templates, "demo", _fill_small_demo)


@pytest.fixture
def demo_db(demo_url: str) -> Iterator[Database]:
    database = Database(make_engine(demo_url))
    yield database
    database.dispose()


@pytest.fixture
def world(db: Database):
    """A small hand-made organisation (see tests/factories.py)."""
    from tests.factories import build_world

    return build_world(db)
