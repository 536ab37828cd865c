"""What every command shares: the settings, the database, who acts, and the streams.

A handler is `run(args, ctx) -> exit status`. `ctx` opens the database once and resolves the
actor once (through `identity.resolve_actor`, the one function every entry point uses), and
carries the streams so the same handler serves a local terminal and a `pob serve` exec
session (`remote`: file names other than `-` are refused there).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from pob_tui.config import Settings
from pob_tui.i18n import _

if TYPE_CHECKING:
    from sqlmodel import Session

    from pob_tui.db import Database
    from pob_tui.services.identity import Actor


def _stdin() -> IO[bytes]:
    return sys.stdin.buffer


def _stdout() -> IO[str]:
    return sys.stdout


@dataclass
class CommandContext:
    """One command's run: settings, lazily opened database, the actor resolved once."""

    settings: Settings
    injected_actor: Actor | None = None
    """Set by tests and in-process callers only (a Python argument, never argv/env/config)."""
    serve_record: str | None = None
    """The id of a `pob serve` session record (the record names the agent)."""
    remote: bool = False
    stdin: IO[bytes] = field(default_factory=_stdin)
    stdout: IO[str] = field(default_factory=_stdout)
    _database: Database | None = None
    _actor: Actor | None = None

    def database(self) -> Database:
        if self._database is None:
            self._database = open_database(self.settings)
        return self._database

    def actor(self, session: Session) -> Actor:
        """Who acts, resolved on first use and kept for the rest of the command."""
        if self._actor is None:
            from pob_tui.services.identity import resolve_actor

            self._actor = resolve_actor(session, injected=self.injected_actor,
                                        serve_record=self.serve_record)
        return self._actor

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


def open_database(settings: Settings) -> Database:
    """The configured database, schema checked, with live notifications wired in. A missing
    SQLite file is "no database at PATH" (exit 3): only demo and db upgrade create one."""
    from pob_tui.db import Database
    from pob_tui.services import live

    live.install()
    return Database.open(settings)


MAX_COUNT = 1_000_000_000
"""The largest --limit/--offset/count a command takes: far beyond any table pob has."""


def positive_int(text: str) -> int:
    import argparse

    if not re.fullmatch(r"[+-]?[0-9]+", text):  # int() also takes 1_000 and ٣
        raise argparse.ArgumentTypeError(
            _("expected a whole number, got {text}").format(text=repr(text)))
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(
            _("expected a number >= 0, got {value}").format(value=value))
    if value > MAX_COUNT:  # a database integer (SQLite's is 64-bit) must hold it
        raise argparse.ArgumentTypeError(
            _("expected a number <= {limit}, got {value}").format(limit=MAX_COUNT,
                                                                 value=value))
    return value


def search_text(text: str) -> str:
    """argparse type for --search: at most MAX_SEARCH_CHARS characters (exit 2 beyond)."""
    import argparse

    from pob_tui.textsafe import MAX_SEARCH_CHARS

    if len(text) > MAX_SEARCH_CHARS:
        raise argparse.ArgumentTypeError(_("at most {limit} characters, got {n}").format(
            limit=MAX_SEARCH_CHARS, n=len(text)))
    return text

