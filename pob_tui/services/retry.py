"""Saving through a dropped connection, exactly once.

A save runs in its own transaction under `audit.once(session, request_id)`. When the
connection breaks (PostgreSQL restarted, the backend was killed, a network blip) the pool is
disposed, we wait a little longer each time and run the whole transaction again with the
same request id. If the lost attempt had in fact committed (COMMIT reached the server, its
answer did not reach us), `audit.once` finds its event and the retry changes nothing: the
save is never applied twice.

SQLite "database is locked" is not retried here: the driver already waited the busy timeout
inside the call, so we turn it into one clear line instead of freezing longer.

No Textual here: the TUI calls `run_with_retry` from its save workers, with `on_retry`
posting a "reconnecting…" status.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from pob_tui.errors import DatabaseError
from pob_tui.i18n import _
from pob_tui.services import audit

if TYPE_CHECKING:
    from sqlmodel import Session

    from pob_tui.db import Database

T = TypeVar("T")
DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds before each retry: quick for a blip, patient enough for a server restart."""


class DatabaseBusy(DatabaseError):
    """SQLite stayed locked by another program for longer than the busy timeout."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a save came to. `replayed`: an earlier, unconfirmed attempt had committed, so
    nothing was written this time and `value` is None."""

    value: T | None
    replayed: bool
    attempts: int


def new_request_id() -> str:
    """A fresh id for one save (the same id across its retries)."""
    return uuid.uuid4().hex


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy"."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text


def is_disconnect(exc: BaseException) -> bool:
    """A failure that a new connection may cure: dropped, refused, reset, server restarting,
    or a transaction the server rolled back (serialization, deadlock)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return not is_busy(exc) and not _sqlite_schema_error(exc)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def _sqlite_schema_error(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or "no such column" in text or "syntax error" in text


def run_with_retry(
    database: Database,
    fn: Callable[[Session], T],
    request_id: str | None = None,
    attempts: int = 6,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome[T]:
    """Run `fn(session)` in one transaction; on a dropped connection dispose the pool, wait
    and run it again with the same `request_id`. Domain errors (PobError) pass through at
    once; a busy SQLite gives `DatabaseBusy`; the last connection failure `DatabaseError`."""
    request_id = request_id or new_request_id()
    last: BaseException | None = None
    for attempt in range(1, max(1, attempts) + 1):
        try:
            with database.session() as session, audit.once(session, request_id) as fresh:
                if not fresh:
                    return Outcome(None, True, attempt)
                value = fn(session)
            return Outcome(value, False, attempt)
        except (DBAPIError, OSError) as exc:
            if is_busy(exc):
                raise DatabaseBusy(_(
                    "the database is busy: another program has held a lock for longer "
                    "than the busy timeout; nothing was saved, try again")) from None
            if not is_disconnect(exc) and not isinstance(exc, OSError):
                raise
            last = exc
            if attempt >= attempts:
                break
            delay = DELAYS[min(attempt - 1, len(DELAYS) - 1)]
            database.engine.dispose()  # drop every pooled connection to the dead server
            if on_retry is not None:
                on_retry(attempt, delay, exc)
            sleep(delay)
    reason = str(getattr(last, "orig", last) or "").strip().splitlines()
    raise DatabaseError(_(
        "lost the connection to the database and could not reconnect after {n} tries "
        "({reason}); nothing is lost: try the save again").format(
            n=attempts, reason=reason[0] if reason else type(last).__name__))
