"""`pob demo`: fill the configured database with a demo municipality."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from pob_tui.commands.common import CommandContext
from pob_tui.config import Settings
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    demo = sub.add_parser("demo", parents=[common],
                          help=_("fill the database with a demo municipality"))
    demo.add_argument("--scale", choices=("small", "municipality", "history"), default="small")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--replace", action="store_true",
                      help=_("delete the data already in the database first"))
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.settings
    from pob_tui.db import safe_url
    from pob_tui.demo import generate

    tty = sys.stderr.isatty()
    progress = _progress_bar() if tty or os.environ.get("POB_PROGRESS") else _progress_lines()
    summary = generate(
        settings.database_url, scale=args.scale, seed=args.seed, replace=args.replace,
        progress=progress, operator=_operator(settings),
    )
    if tty:
        sys.stderr.write("\r\x1b[K")
    print(
        _("Demo municipality ({scale}, seed {seed}) loaded into {url} in {secs:.1f} s.").format(
            scale=args.scale, seed=args.seed, url=safe_url(settings.database_url),
            secs=summary.elapsed,
        )
    )
    return 0


def _operator(settings: Settings) -> str:
    """Who runs the demo, as identity names them: the OS account on SQLite (by uid), the
    login on PostgreSQL. That one becomes an administrator agent; no one else does."""
    from sqlalchemy import text

    from pob_tui.db import make_engine
    from pob_tui.services.identity import os_account

    if not settings.database_url.startswith("postgresql"):
        return os_account()
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT session_user")).scalar_one())
    finally:
        engine.dispose()


def _progress_bar() -> Callable[[str, int, int], None]:
    def show(step: str, done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        sys.stderr.write(f"\r\x1b[K{step}: {pct:3d}%")
        sys.stderr.flush()

    return show


def _progress_lines() -> Callable[[str, int, int], None]:
    """Without a terminal, one line per step, so logs stay readable."""
    seen: set[str] = set()

    def show(step: str, done: int, total: int) -> None:
        if step not in seen:
            seen.add(step)
            sys.stderr.write(f"{step}...\n")

    return show
