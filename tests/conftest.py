"""Test databases: every test that touches the database runs on SQLite and PostgreSQL.

Each test gets its own fresh database: a copy of a migrated SQLite file, or a PostgreSQL
database created from a migrated template (CREATE DATABASE ... TEMPLATE is a file copy, far
faster than running the migrations per test). `--db sqlite|postgresql|both` picks backends.
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


class Templates:
    """Migrated (and optionally demo-filled) template databases, built once per worker."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.sqlite: dict[str, Path] = {}
        self.pg: dict[str, str] = {}

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

    def cleanup(self) -> None:
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
    name = pg_create_database(templates.pg_template(kind, fill))
    try:
        yield pg_url_for(name)
    finally:
        pg_drop_database(name)


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
