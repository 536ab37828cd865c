"""The wheel is complete: a fresh virtualenv with `pip install .` gives a working pob."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "pob_tui").rglob("__init__.py")
    }
    found |= {"pob_tui.migrations", "pob_tui.migrations.versions"}
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    return next(out.glob("pob-*.whl"))


def test_wheel_ships_migrations_styles_translations_and_demo_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "pob_tui/migrations/env.py" in names
    assert "pob_tui/migrations/script.py.mako" in names
    assert any(n.startswith("pob_tui/migrations/versions/") and n.endswith("_initial_schema.py")
               for n in names)
    assert "pob_tui/tui/pob.tcss" in names
    assert "pob_tui/locale/nb/LC_MESSAGES/pob.mo" in names
    demo_data = {"first_names.txt", "last_names.txt", "places.txt", "services.json",
                 "organisation.json", "catalog.json", "tickets.json", "changes.json",
                 "texts.json"}
    assert {f"pob_tui/demo_data/{name}" for name in demo_data} <= names
    assert "pob_tui/demo/build.py" in names
    assert "pob_tui/mail/templates/acknowledgement.nb.txt" in names


@pytest.mark.slow
def test_fresh_venv_install_runs(wheel: Path, tmp_path: Path) -> None:
    """What a new user does: a new venv, install, load the demo, read it back."""
    venv = tmp_path / "venv"
    # The venv gets pob and its declared dependencies from the index as `pip install` gives
    # them; this process's pip installs into it (`--python`) instead of a copy of pip made
    # for it, and nothing is byte-compiled ahead: 16 s -> 7 s, and the same check.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                           "install", "-q", "--no-compile", str(wheel)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pob = venv / "bin" / "pob"
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    # As on a user's machine, the first start writes the byte-code caches the later ones
    # read (nothing was compiled at install); a PYTHONDONTWRITEBYTECODE in the test
    # environment would have each of the three commands compile everything again.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run = dict(cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    proc = subprocess.run([str(pob), "--db", url, "demo", "--scale", "small"], **run)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([str(pob), "--db", url, "db", "status", "--format", "json"], **run)
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout)["counts"]
    assert counts["people"] > 0 and counts["incidents"] > 0
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from pob_tui import PobApp; import pob_tui.tui.app as a; print(a.__file__)"], **run)
    assert proc.returncode == 0, proc.stderr
    assert str(venv) in proc.stdout
