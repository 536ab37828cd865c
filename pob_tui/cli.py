"""The `pob` command: no arguments opens the TUI; subcommands run the same use cases.

Every failure a user can cause ends in one line on stderr and a non-zero exit status
(2 for bad input or configuration, 3 for the database); tracebacks only with POB_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pob_tui import __version__
from pob_tui.commands import AREAS
from pob_tui.commands.common import CommandContext
from pob_tui.config import Settings, load_settings
from pob_tui.errors import PobError
from pob_tui.i18n import _, set_language

if TYPE_CHECKING:
    from pob_tui.services.identity import Actor

# Named here rather than imported so that `pob --help` stays free of the ORM; a test checks
# it equals identity.SERVE_SESSION_ENV.
SERVE_SESSION_ENV = "POB_SERVE_SESSION"


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and one line, the pob way."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


class _QuietParser(argparse.ArgumentParser):
    """Reads the global options only; a bad one is left to the real parser to report."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


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

    for area in AREAS:
        importlib.import_module(f"pob_tui.commands.{area}").register(sub, common)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        getattr(args, "config", None),
        database_url=getattr(args, "db", None),
        language=getattr(args, "lang", None),
    )


FRAME_RATE = "120"
"""Textual's frame cap for pob's TUI (TEXTUAL_FPS; Textual's default is 60)."""


def prepare_textual() -> None:
    """Textual settings read when Textual is first imported: call before that.

    Textual paces frames at TEXTUAL_FPS and, once the screen was idle, a keystroke's echo is
    drawn at once but the frame with its answer (a worker's rows) waits one to two frame
    intervals: at 60 fps that wait was half of a people-filter keystroke (bench/people.py:
    p95 52 -> 45 ms at 120). Frames are still drawn only when something changed. A value the
    user set wins."""
    os.environ.setdefault("TEXTUAL_FPS", FRAME_RATE)


def cmd_tui(args: argparse.Namespace, ctx: CommandContext) -> int:
    prepare_textual()
    from pob_tui.tui.app import PobApp

    if hasattr(signal, "SIGHUP"):
        # A TUI ends with its terminal. Started under `nohup` (or by a parent that ignores
        # SIGHUP) it inherited SIG_IGN, kept running after the terminal closed and its
        # input thread spun on the dead terminal: seen as an orphan pob at half a core.
        signal.signal(signal.SIGHUP, signal.SIG_DFL)

    # The first screen shows at once and the database opens in a worker; if it cannot be
    # used the app ends and its one line goes to stderr with status 3, as for any command.
    app = PobApp(settings=ctx.settings, exit_on_database_error=True, actor=ctx.injected_actor,
                 serve_record=ctx.serve_record, freeze_heap=True)
    app.run()
    if app.failure:
        print(f"pob: {app.failure}", file=sys.stderr)
    return int(app.return_code or 0)


def _early_language(words: list[str]) -> None:
    """Choose the language before the parser is built, so `--help`, the parser's own lines and
    every message use `--lang` or `[general] language`. A configuration that cannot be read
    is reported later, by the full load, as one line."""
    early = _QuietParser(add_help=False)
    _global_options(early, suppress=False)
    try:
        known, _rest = early.parse_known_args(words)
    except ValueError:  # e.g. `--lang sv`: the real parser says so
        return
    try:
        set_language(_settings(known).language)
    except (PobError, ValueError, OSError):  # e.g. a NUL byte in --config: reported below
        set_language(known.lang)


def main(argv: Sequence[str] | None = None, *, actor: Actor | None = None) -> int:
    """Run one `pob` command. `actor` is for tests and in-process callers: who acts is never
    taken from argv, the environment or the configuration (see services/identity.py)."""
    words = list(sys.argv[1:] if argv is None else argv)
    _early_language(words)
    for i, word in enumerate(words, 1):
        if "\x00" in word:  # no database stores it, and PostgreSQL refuses it in any query
            print(_("pob: argument {n} contains a NUL byte").format(n=i), file=sys.stderr)
            return 2
    parser = build_parser()
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # --help, --version, or a bad flag (status 2, one line)
        return int(exc.code or 0)
    debug = bool(os.environ.get("POB_DEBUG"))
    try:
        settings = _settings(args)
        set_language(settings.language)
        handler = getattr(args, "handler", cmd_tui)
        ctx = CommandContext(settings, injected_actor=actor,
                             serve_record=os.environ.get(SERVE_SESSION_ENV) or None,
                             remote=bool(os.environ.get(SERVE_SESSION_ENV)))
        try:
            return int(handler(args, ctx))
        finally:
            ctx.close()
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
        if getattr(getattr(exc, "orig", None), "sqlstate", None) == "42501":
            # The database refused (pob_reader logins read only; audit rows are append-only).
            print(_("pob: not permitted by the database: {reason}").format(
                reason=str(getattr(exc, "orig", exc)).splitlines()[0]), file=sys.stderr)
            return 5
        from pob_tui.db import operational_failure

        line = operational_failure(exc)
        if line:
            print(f"pob: {line}", file=sys.stderr)
            return 3
        print(
            _("pob: unexpected error: {error} (run with POB_DEBUG=1 for details)").format(
                error=f"{type(exc).__name__}: {exc}"
            ),
            file=sys.stderr,
        )
        return 1
