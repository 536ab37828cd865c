"""Configuration: precedence, the example file, and one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pob_tui.cli import main
from pob_tui.config import SCHEMA, load_settings
from pob_tui.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    s = load_settings(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert s.timezone == "Europe/Oslo"
    assert s.cab_weekdays == (1, 3)
    assert s.sla_warning_threshold == 0.75
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("pob.sqlite3")


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[database]\nurl = "sqlite:///from-file.db"\n[costs]\nhourly_rate = 800\n'
    )
    assert load_settings(path, env={}).database_url == "sqlite:///from-file.db"
    env = {"POB_DATABASE_URL": "sqlite:///from-env.db", "POB_COSTS_HOURLY_RATE": "1000.5"}
    s = load_settings(path, env=env)
    assert s.database_url == "sqlite:///from-env.db"
    assert s.hourly_rate == Decimal("1000.5")
    s = load_settings(path, env=env, database_url="sqlite:///from-flag.db")
    assert s.database_url == "sqlite:///from-flag.db"


def test_pob_config_env_finds_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[general]\nlanguage = "nb"\n')
    assert load_settings(env={"POB_CONFIG": str(path)}).language == "nb"


def test_example_file_documents_every_key_with_its_default() -> None:
    """config.example.toml loads, and every key in it has the code's default."""
    import tomllib

    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    load_settings(ROOT / "config.example.toml", env={})
    for section, keys in SCHEMA.items():
        for name, key in keys.items():
            assert f"{name} =" in text, f"{section}.{name} is not documented"
            if name in data.get(section, {}):
                assert data[section][name] == key.default or section == "calendar", (
                    section, name)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[database\nurl = 1", "not valid TOML"),
        ("[databse]\nurl = 'x'", "unknown section [databse]"),
        ("[database]\nusername = 'x'", "unknown key database.username"),
        ("[database]\nurl = 5", "database.url: expected a string, got integer 5"),
        ("[sla]\nwarning_threshold = 'high'", "sla.warning_threshold: expected a number"),
        ("[sla]\nwarning_threshold = 1.5", "expected a number between 0 and 1"),
        ("[cab]\nweekdays = ['tuesday', 'caturday']", "cab.weekdays: expected a list of weekdays"),
        ("[cab]\ntime = '25:00'", "cab.time: expected a time"),
        ("[general]\ntimezone = 'Mars/Olympus'", "general.timezone: expected an IANA time zone"),
        ("[general]\nlanguage = 'sv'", "general.language: expected 'en' or 'nb'"),
        ("[keymap]\n'pob.quit' = 3", "keymap.pob.quit: expected keys as a string"),
        ("[[freeze]]\nname = 'x'\nstart = 2026-01-02\nend = 2026-01-01", "before start"),
    ],
)
def test_bad_file_one_line_exit_2(
    tmp_path: Path, text: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert needle in str(err.value)
    assert str(path) in str(err.value)
    assert main(["--config", str(path), "db", "current"]) == 2
    _out, errout = capsys.readouterr()
    assert needle in errout and len(errout.strip().splitlines()) == 1


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="POB_SLA_WARNING_THRESHOLD: expected a number"):
        load_settings(env={"POB_SLA_WARNING_THRESHOLD": "lots"})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_cli_bad_config_exit_status_in_a_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\nurl = true\n")
    proc = subprocess.run([sys.executable, "-m", "pob_tui", "--config", str(path), "db", "status"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"pob: {str(path)!r}: database.url: expected a string, got boolean True"
    )


def test_a_config_file_name_with_control_characters_is_echoed_inert(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file name reaches the terminal as repr(): an escape sequence in it stays text."""
    path = tmp_path / "pob\x1b]0;owned\x07.toml"
    path.write_text("[database\n")
    assert main(["--config", str(path), "db", "status"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert err.startswith(f"pob: {str(path)!r}: not valid TOML")


def test_bad_flag_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--scale", "galaxy"]) == 2
    assert "invalid choice: 'galaxy'" in capsys.readouterr().err
