"""`pob db ...` and how pob fails on databases it cannot use: one line, non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pob_tui.cli import main
from pob_tui.db import Database, head_revision, make_engine
from pob_tui.models import Person
from tests.conftest import IN_CI, pg_create_database, pg_drop_database, pg_url_for, require_pg
from tests.pgcluster import PrivateCluster


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_status_json_counts(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    database = Database(make_engine(db_url))
    with database.session() as s:
        s.add(Person(username="kari", first_name="Kari", last_name="Nordmann"))
    code, out, err = run(capsys, "--db", db_url, "db", "status", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["revision"] == head_revision()
    assert data["counts"]["people"] == 1
    assert data["counts"]["incidents"] == 0


def test_db_upgrade_and_current(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", empty_url, "db", "current")
    if empty_url.startswith("sqlite"):  # a missing file is not created (issue 12, item 6)
        assert code == 3 and "no database at" in err
    else:
        assert (code, out.strip()) == (0, "(empty database)")
    code, out, _ = run(capsys, "db", "upgrade", "--db", empty_url)  # flag after the command
    assert code == 0 and head_revision() in out
    code, out, _ = run(capsys, "--db", empty_url, "db", "current")
    assert out.strip() == head_revision()
    code, out, _ = run(capsys, "--db", empty_url, "db", "status")
    assert code == 0 and "people" in out


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////proc/no/such/dir/pob.sqlite3", "no database at '/proc/no/such/dir"),
        ("mysql://user@host/db", "pob supports sqlite and postgresql"),
        ("not a url", "is not valid"),
        ("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/x", "Connection refused"),
    ],
)
def test_unusable_database_gives_one_line(
    url: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "--db", url, "db", "status")
    assert code == 3
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "hunter2" not in err
    assert "Traceback" not in err


def test_not_a_sqlite_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a database\n" * 100)
    code, _, err = run(capsys, "--db", f"sqlite:///{bogus}", "db", "status")
    assert code == 3 and "file is not a database" in err


def test_missing_postgres_database(capsys: pytest.CaptureFixture[str]) -> None:
    require_pg()
    url = pg_url_for("pob_no_such_database")
    code, _, err = run(capsys, "--db", url, "db", "upgrade")
    assert code == 3
    assert 'database "pob_no_such_database" does not exist' in err


def test_unknown_postgres_role(capsys: pytest.CaptureFixture[str]) -> None:
    require_pg()
    url = pg_url_for("test").replace("postgres@", "nobody_here:pw@", 1)
    code, _, err = run(capsys, "--db", url, "db", "status")
    assert code == 3 and 'role "nobody_here" does not exist' in err and ":pw@" not in err


@pytest.fixture(scope="module")
def private_cluster():
    cluster = PrivateCluster()
    reason = cluster.available()
    if reason:
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    cluster.start()
    yield cluster
    cluster.stop()


def test_wrong_password(private_cluster: PrivateCluster) -> None:
    """The real server refuses the password: the user sees one line, password hidden."""
    url = private_cluster.url(password="wrong-password")
    proc = subprocess.run(
        [sys.executable, "-m", "pob_tui", "--db", url, "db", "status"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1
    assert 'password authentication failed for user "postgres"' in proc.stderr
    assert "wrong-password" not in proc.stderr and "***" in proc.stderr


def test_right_password_works(private_cluster: PrivateCluster, capsys) -> None:
    code, _out, err = run(capsys, "--db", private_cluster.url(), "db", "upgrade")
    assert code == 0, err


def test_postgres_without_auto_upgrade_names_the_command(tmp_path, capsys) -> None:
    require_pg()
    name = pg_create_database()
    try:
        config = tmp_path / "config.toml"
        config.write_text("[database]\nauto_upgrade = false\n")
        from pob_tui.config import load_settings
        from pob_tui.errors import SchemaOutOfDate

        settings = load_settings(config, database_url=pg_url_for(name), env={})
        with pytest.raises(SchemaOutOfDate, match="run `pob db upgrade`"):
            Database.open(settings)
        assert main(["--db", pg_url_for(name), "db", "upgrade"]) == 0
        Database.open(settings).dispose()
    finally:
        pg_drop_database(name)


def test_sqlite_upgrades_on_open(tmp_path) -> None:
    from pob_tui.config import Settings

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    settings = Settings(database_url=url, auto_upgrade=False)
    database = Database.open(settings, create=True)  # SQLite always upgrades on start
    with database.session() as s:
        s.add(Person(username="ola", first_name="Ola", last_name="Nordmann"))
    database.dispose()
    assert (tmp_path / "fresh.sqlite3").stat().st_mode & 0o777 == 0o600  # issue 12, item 7


@pytest.mark.sqlite_only
def test_sqlite_pragmas(db_url: str, backend: str) -> None:
    engine = make_engine(db_url, busy_timeout_ms=1234)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
