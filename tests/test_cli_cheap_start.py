"""`pob --help` and argument errors answer without loading the ORM (issue 17): importing
SQLAlchemy and SQLModel costs as much as importing Textual, for output that needs neither."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlmodel", "textual", "alembic")
CASES = (
    (["--help"], 0),
    (["incident", "--help"], 0),
    (["--no-such-flag"], 2),
    (["incident", "list", "--no-such-flag"], 2),
    (["no-such-command"], 2),
)


def test_help_and_argument_errors_do_not_import_the_orm() -> None:
    # One process for all cases: none may load a heavy module, so none can hide another.
    code = (
        "import contextlib, io, json, sys\n"
        "from pob_tui.cli import main\n"
        "out = []\n"
        f"for argv, _want in {CASES!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), "
        "contextlib.redirect_stderr(io.StringIO()):\n"
        "        status = main(argv)\n"
        f"    out.append([status, [m for m in {HEAVY!r} if m in sys.modules]])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for (argv, want), (status, loaded) in zip(CASES, results, strict=True):
        assert loaded == [], f"pob {' '.join(argv)} imported {loaded}"
        assert status == want, f"pob {' '.join(argv)} exited {status}"


def test_the_tui_runs_at_pobs_frame_rate_unless_the_user_chose_one() -> None:
    """`pob` sets Textual's frame cap before Textual is imported (cli.prepare_textual):
    the frame with a keystroke's answer waits less; TEXTUAL_FPS from the user wins."""
    import os

    code = ("import pob_tui.cli as cli\n"
            "import textual.app\n"  # what cmd_tui imports, after prepare_textual
            "before = textual.constants.MAX_FPS\n"
            "print(before)\n")
    probe = ("import sys, pob_tui.cli as cli\n"
             "cli.prepare_textual()\n"
             "import textual.constants as c\n"
             "print(c.MAX_FPS)\n")
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    ours = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, check=True)
    assert ours.stdout.strip() == "120"
    users = subprocess.run([sys.executable, "-c", probe], env={**env, "TEXTUAL_FPS": "30"},
                           capture_output=True, text=True, check=True)
    assert users.stdout.strip() == "30"
    plain_textual = subprocess.run([sys.executable, "-c", code], env=env,
                                   capture_output=True, text=True, check=True)
    assert plain_textual.stdout.strip() == "60"  # importing pob's CLI alone changes nothing
