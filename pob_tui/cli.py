"""The `pob` command: no arguments opens the TUI; subcommands run the same use cases.

Every failure a user can cause ends in one line on stderr and a non-zero exit status
(2 for bad input or configuration, 3 for the database); tracebacks only with POB_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pob_tui import __version__
from pob_tui.config import Settings, load_settings
from pob_tui.errors import PobError
from pob_tui.i18n import _, set_language


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and one line, the pob way."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="PATH", default=default,
                        help=_("configuration file (default: the user config dir)"))
    parser.add_argument("--db", metavar="URL", default=default,
                        help=_("database URL, e.g. postgresql+psycopg://user@host/db"))
    parser.add_argument("--lang", choices=("en", "nb"), default=default,
                        help=_("language of the interface"))


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)

    parser = _Parser(prog="pob", description=_("Keyboard-driven IT service management."))
    parser.add_argument("--version", action="version", version=f"pob {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    db = sub.add_parser("db", parents=[common], help=_("database schema and status"))
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True,
                              parser_class=_Parser)
    dbsub.add_parser("upgrade", parents=[common], help=_("bring the schema up to date"))
    dbsub.add_parser("current", parents=[common], help=_("print the schema revision"))
    status = dbsub.add_parser("status", parents=[common],
                              help=_("schema revision and row counts"))
    status.add_argument("--format", choices=("text", "json"), default="text")

    demo = sub.add_parser("demo", parents=[common],
                          help=_("fill the database with a demo municipality"))
    demo.add_argument("--scale", choices=("small", "municipality", "history"), default="small")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--replace", action="store_true",
                      help=_("delete the data already in the database first"))
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        getattr(args, "config", None),
        database_url=getattr(args, "db", None),
        language=getattr(args, "lang", None),
    )


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from pob_tui.db import (
        check_connection,
        current_revision,
        head_revision,
        make_engine,
        upgrade,
    )

    engine = make_engine(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    check_connection(engine)
    if args.db_command == "upgrade":
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
        if before == after:
            print(_("Schema is up to date at {rev}.").format(rev=after))
        else:
            print(_("Upgraded schema from {old} to {new}.").format(old=before or "-", new=after))
        return 0
    if args.db_command == "current":
        print(current_revision(engine) or _("(empty database)"))
        return 0
    # status
    from sqlmodel import Session

    from pob_tui.services.dbinfo import entity_counts

    revision = current_revision(engine)
    head = head_revision()
    counts: dict[str, int] = {}
    if revision == head:
        with Session(engine) as session:
            counts = entity_counts(session)
    elif revision is not None:
        from pob_tui.errors import SchemaOutOfDate

        raise SchemaOutOfDate(
            f"database is at schema {revision}, pob needs {head}; run `pob db upgrade`"
        )
    if args.format == "json":
        print(json.dumps({"revision": revision, "counts": counts}, indent=2))
        return 0
    from pob_tui.db import safe_url

    print(_("Database: {url}").format(url=safe_url(engine.url)))
    print(_("Revision: {rev} (pob needs {head})").format(rev=revision or "-", head=head))
    width = max((len(k) for k in counts), default=0)
    for name, count in counts.items():
        print(f"  {name:<{width}}  {count:>9,}".replace(",", " "))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from pob_tui.db import safe_url
    from pob_tui.demo import generate

    progress = _progress_printer() if sys.stderr.isatty() or os.environ.get("POB_PROGRESS") \
        else _progress_lines()
    summary = generate(
        settings.database_url, scale=args.scale, seed=args.seed, replace=args.replace,
        progress=progress,
    )
    sys.stderr.write("\n" if sys.stderr.isatty() else "")
    print(
        _("Demo municipality ({scale}, seed {seed}) loaded into {url} in {secs:.1f} s.").format(
            scale=args.scale, seed=args.seed, url=safe_url(settings.database_url),
            secs=summary.elapsed,
        )
    )
    return 0


def _progress_printer() -> Callable[[str, int, int], None]:
    def show(step: str, done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        sys.stderr.write(f"\r\x1b[K{step}: {pct:3d}%")
        sys.stderr.flush()

    return show


def _progress_lines() -> Callable[[str, int, int], None]:
    """Without a terminal, one line per step (so logs stay readable)."""
    seen: set[str] = set()

    def show(step: str, done: int, total: int) -> None:
        if step not in seen:
            seen.add(step)
            sys.stderr.write(f"{step}...\n")

    return show


def cmd_tui(args: argparse.Namespace, settings: Settings) -> int:
    from pob_tui.tui.app import PobApp

    app = PobApp(settings=settings)
    app.run()
    return int(app.return_code or 0)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "db": cmd_db,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(os.environ.get("POB_DEBUG"))
    try:
        settings = _settings(args)
        set_language(settings.language)
        handler = COMMANDS.get(args.command or "", cmd_tui)
        return handler(args, settings)
    except PobError as exc:
        if debug:
            raise
        print(f"pob: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(_("pob: interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            raise
        print(
            _("pob: unexpected error: {error} (run with POB_DEBUG=1 for details)").format(
                error=f"{type(exc).__name__}: {exc}"
            ),
            file=sys.stderr,
        )
        return 1


def run_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
