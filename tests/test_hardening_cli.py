"""Issue 12, items 4-7 and 10: one clean line and the documented exit status for every
failure a user can cause; files pob creates are private; a typo in --db creates nothing.

Exit statuses (README "Exit status"): 0 done, 1 a bug, 2 bad input or configuration,
3 database or external server unusable, 4 conflict, 5 not permitted.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pob_tui.cli import main
from pob_tui.db import Database, make_engine
from pob_tui.errors import ConflictError
from pob_tui.importers import csvio
from pob_tui.models import OrgUnit


def pob(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "unexpected error" not in err, err
    return lines[0]


@pytest.fixture
def admin(world, db_url):
    from tests.test_teamwork import _make_me

    _make_me(world, "administrator")
    return world, db_url


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- item 4: encodings and NUL ---------------------------------------------------------------

UNITS = "code;name;kind\nØST;Østre Aker skole;unit\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (UNITS.encode("cp1252"), "Windows-1252"),
    (UNITS.encode("utf-8"), "UTF-8"),
    (b"\xef\xbb\xbf" + UNITS.encode("utf-8"), "UTF-8 with BOM"),
    (UNITS.encode("utf-16"), "UTF-16"),
])
def test_norwegian_spreadsheet_encodings(db, data: bytes, encoding: str) -> None:
    with db.session() as s:
        result = csvio.import_csv(s, "org-units", data, name="units.csv")
    assert result.encoding == encoding and result.created == 1
    with db.session() as s:
        assert s.execute(select(OrgUnit.name)).scalar_one() == "Østre Aker skole"


def test_a_nul_byte_is_a_file_line_column_error(db) -> None:
    data = b"code,name,kind\nA,Al\x00fa,unit\n"
    with db.session() as s, pytest.raises(csvio.ImportFailed) as err:
        csvio.import_csv(s, "org-units", data, name="units.csv")
    assert "units.csv:2: column 'name': contains a NUL byte" in str(err.value)
    with db.session() as s:
        assert s.execute(select(OrgUnit.id)).first() is None


def test_cli_says_which_encoding_it_read(admin, capsys, tmp_path) -> None:
    _world, url = admin
    path = tmp_path / "units.csv"
    path.write_bytes(UNITS.encode("cp1252"))
    code, out, err = pob(capsys, "--db", url, "import", "org-units", str(path))
    assert code == 0, err
    assert "Windows-1252" in out


# --- item 5: one clean line --------------------------------------------------------------------

def test_import_limits(admin, capsys, tmp_path) -> None:
    _world, url = admin
    code, _out, err = pob(capsys, "--db", url, "import", "org-units", "/dev/zero")
    assert code == 2 and "line longer than 1048576 bytes" in one_line(err)
    assert "max_line_bytes" in err and "'/dev/zero'" in err
    cfg = tmp_path / "config.toml"
    cfg.write_text("[import]\nmax_line_bytes = 100\nmax_file_mb = 1\n")
    long = tmp_path / "long.csv"
    long.write_text("code,name\nA," + "x" * 200 + "\n")
    code, _out, err = pob(capsys, "--config", str(cfg), "--db", url, "import", "org-units",
                          str(long))
    assert code == 2 and f"{str(long)!r}:2: line longer than 100 bytes" in one_line(err)
    big = tmp_path / "big.csv"
    big.write_bytes(b"code,name\n" + b"A,b\n" * 300_000)
    code, _out, err = pob(capsys, "--config", str(cfg), "--db", url, "import", "org-units",
                          str(big))
    assert code == 2 and "larger than 1 MiB" in one_line(err) and "max_file_mb" in err


def test_export_to_a_folder_or_a_missing_folder(admin, capsys, tmp_path) -> None:
    _world, url = admin
    for target in (tmp_path, tmp_path / "missing" / "x.csv"):
        code, _out, err = pob(capsys, "--db", url, "export", "services", "-o", str(target))
        assert code == 2 and repr(str(target)) in one_line(err)


def test_search_over_1000_characters(admin, capsys) -> None:
    _world, url = admin
    for area in ("incident", "problem", "change"):
        code, _out, err = pob(capsys, "--db", url, area, "list", "--search", "x" * 1001)
        assert code == 2 and "at most 1000 characters" in one_line(err)
    code, _out, err = pob(capsys, "--db", url, "incident", "list", "--search", "x" * 1000)
    assert code == 0, err


def test_a_limit_beyond_a_database_integer_is_one_line_exit_2(admin, capsys) -> None:
    """The fuzz test found `--limit 9223372036854775808` as an OverflowError on SQLite."""
    _world, url = admin
    code, _out, err = pob(capsys, "--db", url, "incident", "list", "--limit",
                          "9223372036854775808")
    assert code == 2 and "expected a number <= 1000000000" in one_line(err), err
    code, _out, err = pob(capsys, "--db", url, "incident", "list", "--limit", "1000000000")
    assert code == 0, err


@pytest.mark.parametrize(("toml", "expected"), [
    ("[costs]\nhourly_rate = nan\n", "costs.hourly_rate"),
    ("[costs]\nhourly_rate = inf\n", "costs.hourly_rate"),
    ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ('[keymap]\n"queue.new" = "ctrl+nonsense"\n', "keymap.queue.new"),
    ("[import]\nmax_file_mb = 0\n", "import.max_file_mb"),
])
def test_bad_configuration_is_one_line_exit_2(tmp_path, capsys, toml: str,
                                              expected: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(toml)
    code, _out, err = pob(capsys, "--config", str(cfg), "--db",
                          f"sqlite:///{tmp_path / 'x.sqlite3'}", "db", "current")
    assert code == 2 and expected in one_line(err)


@pytest.mark.sqlite_only  # SQLite's lock
def test_busy_sqlite_is_one_line_exit_3(admin, capsys, tmp_path) -> None:
    world, url = admin
    cfg = tmp_path / "config.toml"
    cfg.write_text("[database]\nbusy_timeout_ms = 100\n")
    units = tmp_path / "u.csv"
    units.write_text("code,name\nA,Alfa\n")
    holder = sqlite3.connect(world.db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        code, _out, err = pob(capsys, "--config", str(cfg), "--db", url, "import",
                              "org-units", str(units))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 3 and "the database is busy" in one_line(err)


@pytest.mark.sqlite_only  # a read-only SQLite file
def test_read_only_database_is_one_line_exit_3(admin, capsys, tmp_path) -> None:
    world, _url = admin
    world.db.dispose()
    path = world.db.engine.url.database
    ro = f"sqlite:///file:{path}?mode=ro&uri=true"
    units = tmp_path / "u.csv"
    units.write_text("code,name\nA,Alfa\n")
    code, _out, err = pob(capsys, "--db", ro, "import", "org-units", str(units))
    assert code == 3 and "read-only" in one_line(err)


def test_a_newer_database_says_upgrade_pob(db_url, capsys) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    from pob_tui import __version__

    for argv in (["db", "status"], ["db", "upgrade"], ["incident", "list"]):
        code, _out, err = pob(capsys, "--db", db_url, *argv)
        assert code == 3, (argv, err)
        assert f"this database is newer than pob {__version__}; upgrade pob" in one_line(err)


# --- item 6: a typo in --db creates nothing ----------------------------------------------------

def test_a_missing_sqlite_file_is_not_created(tmp_path, capsys) -> None:
    path = tmp_path / "typo.sqlite3"
    for argv in (["incident", "list"], ["db", "status"], ["db", "current"],
                 ["export", "services"]):
        code, _out, err = pob(capsys, "--db", f"sqlite:///{path}", *argv)
        assert code == 3 and f"no database at {str(path)!r}" in one_line(err)
        assert not path.exists()


# --- item 7: private files ---------------------------------------------------------------------

def test_created_files_are_private_whatever_the_umask(tmp_path, capsys) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "new" / "deeper" / "pob.sqlite3"
        code, out, err = pob(capsys, "--db", f"sqlite:///{path}", "db", "upgrade")
        assert code == 0, err
        assert f"Created a new database at {path}" in out
        database = Database(make_engine(f"sqlite:///{path}"))
        with database.session() as s:
            s.add(OrgUnit(code="A", name="Alfa"))
            for suffix in ("-wal", "-shm"):
                extra = Path(f"{path}{suffix}")
                assert extra.exists() and _mode(extra) == 0o600, suffix
        database.dispose()
        assert _mode(path) == 0o600
        assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
        export = tmp_path / "units.csv"
        export.write_text("old")
        export.chmod(0o666)
        code, _out, err = pob(capsys, "--db", f"sqlite:///{path}", "export", "org-units",
                              "-o", str(export))
        assert code == 0, err
        assert _mode(export) == 0o600
    finally:
        os.umask(old)


def test_demo_creates_the_database_and_says_where(tmp_path, capsys, monkeypatch) -> None:
    path = tmp_path / "demo" / "pob.sqlite3"
    import pob_tui.demo as demo
    from pob_tui.demo import build

    seen: list[bool] = []

    class Stop(Exception):
        pass

    def spy(url: str, **kw):  # stop once the file exists: the data is test_demo's job
        seen.append(path.exists())
        raise Stop

    monkeypatch.setattr(build, "make_engine", spy)
    with pytest.raises(Stop):
        demo.generate(f"sqlite:///{path}", scale="small")
    assert seen == [True] and _mode(path) == 0o600


# --- item 10: every exit status ------------------------------------------------------------------

def test_exit_statuses(admin, capsys, monkeypatch, tmp_path) -> None:
    world, url = admin
    code, out, err = pob(capsys, "--db", url, "incident", "new", "--caller", "kari.n",
                         "--service", "M365", "--summary", "Skriver")
    assert code == 0, err
    number = out.strip()
    code, _out, err = pob(capsys, "--db", url, "incident", "show", "INC-999999")
    assert code == 2 and "unknown incident" in one_line(err)
    code, _out, err = pob(capsys, "--db", f"sqlite:///{tmp_path / 'none.sqlite3'}",
                          "incident", "list")
    assert code == 3 and "no database at" in one_line(err)

    from pob_tui.services import incidents

    def conflict(*_a, **_kw):
        raise ConflictError(f"{number} was changed by lars since you opened it")

    monkeypatch.setattr(incidents, "update_fields", conflict)
    code, _out, err = pob(capsys, "--db", url, "incident", "update", number, "--impact", "1")
    assert code == 4 and "changed by lars" in one_line(err)
    monkeypatch.undo()

    with world.db.session() as s:
        from pob_tui.models import AgentRole

        s.execute(AgentRole.__table__.delete().where(AgentRole.role == "administrator"))
    code, _out, err = pob(capsys, "--db", url, "audit")
    assert code == 5 and "audit.read" in one_line(err)

    def bug(*_a, **_kw):
        raise RuntimeError("a bug")

    monkeypatch.setattr(incidents, "list_incidents", bug)
    code, _out, err = pob(capsys, "--db", url, "incident", "list")
    assert code == 1 and "unexpected error" in err and len(err.strip().splitlines()) == 1
