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
