"""What every command shares: opening the database, knowing who acts, row output."""

from __future__ import annotations

from pob_tui.config import Settings
from pob_tui.db import Database


def open_database(settings: Settings) -> Database:
    """The configured database; a missing SQLite file is "no database at PATH" (exit 3)."""
    return Database.open(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms,
                         auto_upgrade=settings.auto_upgrade)


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value
