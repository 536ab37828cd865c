"""Issue 13 item 10: the CLI's error lines follow `--lang` and `[general] language`.

Errors raised below the CLI (services, the CSV importer, config.py, db.py) are translated when
raised, so the language the CLI chose applies to them. Each command here fails on purpose;
the same command runs without `--lang` (English, as scripts and the other tests expect it)
and with `--lang nb`, and the line and the exit status are checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pob_tui import i18n
from pob_tui.cli import main
from pob_tui.models import Agent, AgentRole
from pob_tui.services.identity import Actor
from tests.factories import person

# SQLite only: what is checked here is the language of the error line, which no backend
# changes; the same lookups and refusals run on both backends in the services' and commands'
# own tests (test_org, test_incidents, test_cli_incident, test_cmdb, test_changes, test_cab,
# test_import).
pytestmark = pytest.mark.sqlite_only


@pytest.fixture(autouse=True)
def english_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """English unless a test says otherwise, whatever the machine's locale, and no user
    config file; `main` switches the process's language, so put it back afterwards."""
    monkeypatch.setenv("LANGUAGE", "en")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for var in ("POB_GENERAL_LANGUAGE", "POB_CONFIG", "POB_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    yield
    i18n.set_language("en")


@pytest.fixture
def admin(world) -> Actor:
    """The world plus an administrator, ada, for the commands that need one."""
    with world.db.session() as s:
        p = person("ada", "Ada", "Admin")
        s.add(p)
        s.flush()
        ada = Agent(username="ada", person_id=p.id)
        s.add(ada)
        s.flush()
        s.add(AgentRole(agent_id=ada.id, role="administrator"))
    return Actor("ada")


def pob(capsys: pytest.CaptureFixture[str], *argv: str,
        actor: Actor | None = None) -> tuple[int, str]:
    code = main(list(argv), actor=actor)
    return code, capsys.readouterr().err


LOOKUPS = [
    (("person", "show", "nobody"), "pob: unknown person 'nobody'",
     "pob: ukjent person 'nobody'"),
    (("unit", "show", "NOPE"), "pob: unknown org unit 'NOPE'", "pob: ukjent enhet 'NOPE'"),
    (("agreement", "show", "Gull"), "pob: unknown agreement 'Gull'",
     "pob: ukjent avtale 'Gull'"),
]


@pytest.mark.parametrize(("argv", "english", "norwegian"), LOOKUPS,
                         ids=[" ".join(a[:2]) for a, _e, _n in LOOKUPS])
def test_unknown_name_in_both_languages(world, db_url, capsys, argv, english,
                                        norwegian) -> None:
    assert pob(capsys, "--db", db_url, *argv) == (2, english + "\n")
    assert pob(capsys, "--db", db_url, "--lang", "nb", *argv) == (2, norwegian + "\n")


def test_service_error_needing_an_actor(admin, db_url, capsys) -> None:
    argv = ("template", "remove", "Skriver")
    assert pob(capsys, "--db", db_url, *argv, actor=admin) == (
        2, "pob: no template named 'Skriver'\n")
    assert pob(capsys, "--db", db_url, "--lang", "nb", *argv, actor=admin) == (
        2, "pob: ingen mal med navnet 'Skriver'\n")


def test_bad_csv_lines_in_both_languages(admin, db_url, tmp_path, capsys) -> None:
    path = tmp_path / "units.csv"
    path.write_text("code,name,kind,parent\nX,,unit,NOPE\nY,Ypsilon,planet,\n",
                    encoding="utf-8")
    argv = ("import", "org-units", str(path))
    code, err = pob(capsys, "--db", db_url, *argv, actor=admin)
    assert code == 2
    assert err.splitlines() == [
        "pob: 3 error(s), nothing imported:",
        f"{path}:2: column 'name': required, but empty",
        f"{path}:2: column 'parent': no parent 'NOPE' in the database or this file",
        f"{path}:3: column 'kind': expected one of sector, unit, got 'planet'",
    ]
    code, err = pob(capsys, "--db", db_url, "--lang", "nb", *argv, actor=admin)
    assert code == 2
    assert err.splitlines() == [
        "pob: 3 feil, ingenting importert:",
        f"{path}:2: kolonne 'name': påkrevd, men tom",
        f"{path}:2: kolonne 'parent': ingen parent 'NOPE' i databasen eller denne filen",
        f"{path}:3: kolonne 'kind': forventet en av sector, unit, fikk 'planet'",
    ]


def test_bad_config_value_in_both_languages(tmp_path, capsys) -> None:
    """The configuration cannot be read, so only `--lang` can choose the language."""
    cfg = tmp_path / "pob.toml"
    cfg.write_text('[general]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    assert pob(capsys, "--config", str(cfg), "db", "status") == (
        2, f"pob: '{cfg}': general.timezone: expected an IANA time zone like Europe/Oslo, "
        "got 'Mars/Olympus'\n")
    assert pob(capsys, "--config", str(cfg), "--lang", "nb", "db", "status") == (
        2, f"pob: '{cfg}': general.timezone: forventet en IANA-tidssone som Europe/Oslo, "
        "fikk 'Mars/Olympus'\n")


def test_config_language_applies_to_database_errors(tmp_path, capsys) -> None:
    """`language = "nb"` in the file reaches an error of db.py; `--lang en` overrides it."""
    cfg = tmp_path / "pob.toml"
    cfg.write_text('[general]\nlanguage = "nb"\n', encoding="utf-8")
    missing = tmp_path / "none.sqlite3"
    argv = ("--config", str(cfg), "--db", f"sqlite:///{missing}", "incident", "list")
    assert pob(capsys, *argv) == (
        3, f"pob: ingen database i '{missing}'; opprett en med `pob db upgrade` eller "
        "`pob demo`, eller sjekk --db / database.url\n")
    assert pob(capsys, *argv, "--lang", "en") == (
        3, f"pob: no database at '{missing}'; create one with `pob db upgrade` or "
        "`pob demo`, or check --db / database.url\n")


@pytest.fixture
def voter(world) -> Actor:
    """The world plus a CAB member, cm, who may vote."""
    with world.db.session() as s:
        p = person("cm", "Cecilie", "Member")
        s.add(p)
        s.flush()
        cm = Agent(username="cm", person_id=p.id)
        s.add(cm)
        s.flush()
        s.add(AgentRole(agent_id=cm.id, role="cab_member"))
    return Actor("cm")


TICKET_ERRORS = [
    (("incident", "show", "INC-999999"), "pob: unknown incident 'INC-999999'",
     "pob: ukjent hendelse 'INC-999999'"),
    (("problem", "show", "PRB-999999"), "pob: unknown problem 'PRB-999999'",
     "pob: ukjent problem 'PRB-999999'"),
    (("ci", "show", "NOPE-1"), "pob: unknown configuration item 'NOPE-1'",
     "pob: ukjent konfigurasjonselement 'NOPE-1'"),
    (("change", "submit", "CHG-999999"), "pob: unknown change 'CHG-999999'",
     "pob: ukjent endring 'CHG-999999'"),
    (("change", "new", "--title", "Bytt svitsj", "--ci", "PC-LAB-17",
      "--start", "2026-12-02 10:00", "--end", "2026-12-01 10:00"),
     "pob: the planned end must be after the planned start",
     "pob: planlagt slutt må være etter planlagt start"),
    (("change", "new", "--title", "Bytt svitsj", "--start", "i morgen",
      "--end", "2026-12-01 10:00"),
     "pob: planned start 'i morgen' is not a time like \"2026-12-01 18:00\"",
     "pob: planlagt start 'i morgen' er ikke et tidspunkt som «2026-12-01 18:00»"),
    (("change", "new", "--title", "Bytt svitsj", "--answer", "colour=blue"),
     "pob: unknown risk question 'colour'; expected one of ",
     "pob: ukjent risikospørsmål 'colour'; forventet en av "),
]


@pytest.mark.parametrize(("argv", "english", "norwegian"), TICKET_ERRORS,
                         ids=[" ".join(a[:3]) for a, _e, _n in TICKET_ERRORS])
def test_ticket_errors_in_both_languages(world, db_url, capsys, argv, english,
                                         norwegian) -> None:
    """Incident, problem, CI and change services: a lookup or a refused input, status 2."""
    anne = Actor("anne")
    code, err = pob(capsys, "--db", db_url, *argv, actor=anne)
    assert code == 2 and err.startswith(english) and err.count("\n") == 1, err
    code, err = pob(capsys, "--db", db_url, "--lang", "nb", *argv, actor=anne)
    assert code == 2 and err.startswith(norwegian) and err.count("\n") == 1, err


def test_change_submit_refused_in_both_languages(world, db_url, capsys) -> None:
    """A draft without a window cannot be submitted, nor started: the change service's
    checks and its state machine's reason."""
    anne = Actor("anne")
    assert main(["--db", db_url, "change", "new", "--title", "Bytt svitsj"], actor=anne) == 0
    number = capsys.readouterr().out.split()[0]
    argv = ("--db", db_url, "change", "submit", number)
    assert pob(capsys, *argv, actor=anne) == (
        2, f"pob: {number} needs a planned start and end before submitting\n")
    assert pob(capsys, *argv[:2], "--lang", "nb", *argv[2:], actor=anne) == (
        2, f"pob: {number} trenger planlagt start og slutt før innsending\n")
    argv = ("--db", db_url, "change", "start", number)
    assert pob(capsys, *argv, actor=anne) == (
        2, f"pob: {number} cannot go from draft to in_progress: it is a draft; submit it "
        "first\n")
    assert pob(capsys, "--lang", "nb", *argv, actor=anne) == (
        2, f"pob: {number} kan ikke gå fra draft til in_progress: den er et utkast; send den "
        "inn først\n")


def test_cab_errors_in_both_languages(voter, db_url, capsys) -> None:
    """A CAB member's vote on no change, and a meeting that is no date: the CAB service's
    lookups, status 2."""
    argv = ("cab", "vote", "CHG-999999", "approve")
    assert pob(capsys, "--db", db_url, *argv, actor=voter) == (
        2, "pob: unknown change 'CHG-999999'\n")
    assert pob(capsys, "--db", db_url, "--lang", "nb", *argv, actor=voter) == (
        2, "pob: ukjent endring 'CHG-999999'\n")
    cmd = ("--db", db_url, "cab", "agenda", "--meeting", "1. desember")
    assert pob(capsys, *cmd, actor=voter) == (
        2, "pob: meeting '1. desember' is not a time like \"2026-12-01 18:00\"\n")
    assert pob(capsys, "--lang", "nb", *cmd, actor=voter) == (
        2, "pob: møte '1. desember' er ikke et tidspunkt som «2026-12-01 18:00»\n")
