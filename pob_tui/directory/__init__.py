"""Directory sync: people (and their org units) from Active Directory / LDAP.

read (ldap3, paged search) -> map (entry -> PersonRecord) -> diff (pure: what would change)
-> apply (one transaction). Importing this package does not import ldap3: the org screens ask
`directory_configured` and `DIRECTORY_OWNED_FIELDS` on every start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pob_tui.errors import PobError
from pob_tui.models.directory import DIRECTORY_OWNED_FIELDS

if TYPE_CHECKING:
    from datetime import date

    from pob_tui.config import Settings
    from pob_tui.db import Database
    from pob_tui.directory.diff import SyncResult



class DirectoryUnavailable(PobError):
    """The directory server cannot be reached, refused the bind, or failed the search."""

    exit_code = 3


class SafetyLimitExceeded(PobError):
    """A run would deactivate more than `max_deactivate_share`: refused without --force."""

    exit_code = 4


def directory_configured(settings: Settings) -> bool:
    """True when `[directory] url` is set: people's directory-owned fields are read-only."""
    return settings.directory_configured


def run_sync(settings: Settings, *, dry_run: bool = False, force: bool = False,
             create_units: bool = False, database: Database | None = None,
             today: date | None = None) -> SyncResult:
    """One sync (what `pob directory sync` and `pob serve`'s nightly job run).

    Opens the database from `settings` unless `database` is given. Raises
    DirectoryUnavailable (exit 3), SafetyLimitExceeded (exit 4), ConfigError (exit 2).
    """
    from pob_tui.directory.sync import run_sync as _run

    return _run(settings, dry_run=dry_run, force=force, create_units=create_units,
                database=database, today=today)


__all__ = [
    "DIRECTORY_OWNED_FIELDS",
    "DirectoryUnavailable",
    "SafetyLimitExceeded",
    "directory_configured",
    "run_sync",
]
