"""Live queues: tell every running pob that a ticket changed, and hear about it.

PostgreSQL: one `after_flush` session event sends `pg_notify('pob_changes',
'<kind>:<id>:<version>')` for every new or changed incident, problem or change, in the
same transaction as the change. So a notification goes out exactly when the change commits
(and never for a rolled-back one), and no service needs to remember to send it. A
`Listener` holds one dedicated connection doing LISTEN and hands notifications out within
a second; when that connection drops it reconnects with backoff and reports a `resync`
(notifications sent while it was away are lost, so the caller reloads what it shows).

SQLite has no notifications: `Poller` asks `PRAGMA data_version` on a dedicated connection
about once a second (a cheap read of a counter that changes when another connection
commits) and only then fetches the incidents, problems and changes whose `updated_at` is
past the newest one it saw (`ix_incident_updated_at`).

No Textual here: the TUI runs these in a thread worker; tests run them directly.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession

CHANNEL = "pob_changes"
KINDS = ("incident", "problem", "change", "ring")
"""`ring`: a phone ring for an agent's pob (`services.ring`), carried like a ticket change."""
RESYNC = "resync"
"""`Change.kind` after a reconnect (notifications may have been missed) or a bulk write:
reload all."""
BURST_SECONDS = 0.01
"""How long a PostgreSQL notification waits for others of the same burst (one batch)."""
BULK = 200
"""More tickets than this in one flush send a single resync instead of one each."""


@dataclass(frozen=True)
class Change:
    """One ticket changed (`version` 0 when unknown, e.g. from polling a table without it)."""

    kind: str
    id: int
    version: int = 0

    @classmethod
    def parse(cls, payload: str) -> Change | None:
        """`incident:12:3` -> Change; None for anything malformed (never trust the wire)."""
        parts = payload.split(":")
        if len(parts) != 3 or parts[0] not in (*KINDS, RESYNC):
            return None
        try:
            return cls(parts[0], int(parts[1]), int(parts[2]))
        except ValueError:
            return None

    @property
    def payload(self) -> str:
        return f"{self.kind}:{self.id}:{self.version}"


def _kind_of(obj: object) -> str | None:
    from pob_tui.models import CallRing, ChangeRequest, Incident, Problem

    if isinstance(obj, CallRing):
        return "ring"
    if isinstance(obj, Incident):
        return "incident"
    if isinstance(obj, Problem):
        return "problem"
    if isinstance(obj, ChangeRequest):
        return "change"
    return None


def _after_flush(session: OrmSession, _context: Any) -> None:
    """Queue a NOTIFY for every ticket written in this flush (PostgreSQL only)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from pob_tui.models import CabAgendaItem, CabDecision

    payloads: set[str] = set()
    for obj in (*session.new, *session.dirty):
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        if isinstance(obj, CabDecision | CabAgendaItem):  # a vote moves the CAB agenda
            if obj.change_id is not None:
                payloads.add(Change("change", int(obj.change_id), 0).payload)
            continue
        kind = _kind_of(obj)
        ident = getattr(obj, "id", None)
        if kind is None or ident is None:
            continue
        payloads.add(Change(kind, int(ident), int(getattr(obj, "version", 0) or 0)).payload)
    if len(payloads) > BULK:  # an import or the demo: one "reload everything" instead
        payloads = {Change(RESYNC, 0).payload}
    if payloads:  # one round trip however many tickets the flush wrote
        session.connection().exec_driver_sql(
            "SELECT pg_notify(%(c)s, p) FROM unnest(%(p)s::text[]) AS p",
            {"c": CHANNEL, "p": sorted(payloads)})


_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Register the after-flush hook once per process (all sessions; SQLite ones skip it).
    `db.make_engine` calls this for PostgreSQL engines, so the CLI, the TUI, the bench and
    the tests all notify without thinking about it."""
    global _installed
    with _install_lock:
        if not _installed:
            event.listen(OrmSession, "after_flush", _after_flush)
            _installed = True


def notify(session: OrmSession, change: Change) -> None:
    """Send one notification by hand (for writes that bypass the ORM, e.g. bulk UPDATEs)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "SELECT pg_notify(%(c)s, %(p)s)", {"c": CHANNEL, "p": change.payload})


# --- receiving -----------------------------------------------------------------------------


@dataclass
class Listener:
    """LISTEN on a dedicated psycopg connection. `batches()` yields lists of changes
    (possibly empty, once per `wait` seconds, so a caller can check for cancellation)."""

    url: str
    wait: float = 0.5
    backoff: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 5.0)
    on_state: Callable[[str], None] | None = None
    """Told "reconnecting" when the connection drops and "connected" when it is back."""
    _conn: Any = field(default=None, init=False, repr=False)
    _stopped: threading.Event = field(default_factory=threading.Event, init=False)

    def _dsn(self) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        url = url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def connect(self) -> None:
        import psycopg

        self._conn = psycopg.connect(self._dsn(), autocommit=True, connect_timeout=5,
                                     application_name="pob-listen")
        self._conn.execute(f"LISTEN {CHANNEL}")

    def stop(self) -> None:
        self._stopped.set()
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def batches(self) -> Iterator[list[Change]]:
        """Changes as they arrive; `[Change(RESYNC, 0)]` after a reconnect."""
        import psycopg

        attempt = 0
        while not self._stopped.is_set():
            if self._conn is None:
                try:
                    self.connect()
                except psycopg.Error:
                    if attempt == 0 and self.on_state:
                        self.on_state("reconnecting")
                    delay = self.backoff[min(attempt, len(self.backoff) - 1)]
                    attempt += 1
                    yield []
                    self._stopped.wait(delay)
                    continue
                if attempt:
                    attempt = 0
                    if self.on_state:
                        self.on_state("connected")
                    yield [Change(RESYNC, 0)]
            try:
                # The first notification ends the wait (a generator that runs to its timeout
                # would hold a phone ring back up to `wait` seconds); what arrives with it
                # in the next few milliseconds joins its batch.
                out = [c for c in (Change.parse(n.payload) for n in
                                   self._conn.notifies(timeout=self.wait, stop_after=1))
                       if c is not None]
                if out:
                    for note in self._conn.notifies(timeout=BURST_SECONDS, stop_after=499):
                        change = Change.parse(note.payload)
                        if change is not None:
                            out.append(change)
                yield out
            except psycopg.Error:
                self.close()
                if self._stopped.is_set():
                    return
                attempt = 1
                if self.on_state:
                    self.on_state("reconnecting")
                yield []


@dataclass
class Poller:
    """SQLite: `PRAGMA data_version` on its own connection; fetch changed rows only when it
    moves. Tracks the newest `updated_at` seen per table, plus the versions at that instant,
    so a row is reported once per change even when clocks give equal timestamps."""

    path: str
    interval: float = 1.0
    _conn: sqlite3.Connection | None = field(default=None, init=False, repr=False)
    _data_version: int | None = field(default=None, init=False)
    _marks: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict, init=False)
    _stopped: threading.Event = field(default_factory=threading.Event, init=False)

    TABLES = (("incident", "incident"), ("problem", "problem"), ("change", "change_request"),
              ("ring", "call_ring"))

    @classmethod
    def for_engine(cls, engine: Engine, interval: float = 1.0) -> Poller:
        return cls(str(engine.url.database), interval)

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False)
            self._conn.execute("PRAGMA query_only=ON")
            self._data_version = self._version()
            for kind, table in self.TABLES:
                self._marks[kind] = self._mark(table)
        return self._conn

    def _version(self) -> int:
        assert self._conn is not None
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _mark(self, table: str) -> tuple[str, dict[int, int]]:
        assert self._conn is not None
        top = self._conn.execute(f"SELECT max(updated_at) FROM {table}").fetchone()[0]
        if top is None:
            return ("", {})
        rows = self._conn.execute(
            f"SELECT id, version FROM {table} WHERE updated_at = ?", (top,)).fetchall()
        return (str(top), {int(r[0]): int(r[1]) for r in rows})

    def poll(self) -> list[Change]:
        """The changes since the previous call (empty when nothing was committed)."""
        conn = self._connect()
        version = self._version()
        if version == self._data_version:
            return []
        self._data_version = version
        out: list[Change] = []
        for kind, table in self.TABLES:
            top, at_top = self._marks.get(kind, ("", {}))
            rows = conn.execute(
                f"SELECT id, version, updated_at FROM {table} WHERE updated_at >= ? "
                "ORDER BY updated_at LIMIT 1000", (top,)).fetchall()
            new_top, new_at_top = top, dict(at_top)
            for ident, ver, updated in rows:
                ident, ver, updated = int(ident), int(ver), str(updated)
                if updated == top and at_top.get(ident) == ver:
                    continue
                out.append(Change(kind, ident, ver))
                if updated > new_top:
                    new_top, new_at_top = updated, {}
                if updated == new_top:
                    new_at_top[ident] = ver
            self._marks[kind] = (new_top, new_at_top)
        return out

    def batches(self) -> Iterator[list[Change]]:
        while not self._stopped.is_set():
            try:
                yield self.poll()
            except sqlite3.Error:
                self.close()  # locked or the file moved: try again next round
                yield []
            self._stopped.wait(self.interval)

    def stop(self) -> None:
        self._stopped.set()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def watcher(engine: Engine, *, interval: float = 1.0,
            on_state: Callable[[str], None] | None = None) -> Listener | Poller:
    """The right way to hear about changes for this engine's backend."""
    if engine.dialect.name == "postgresql":
        return Listener(engine.url.render_as_string(hide_password=False),
                        wait=min(interval, 0.5), on_state=on_state)
    return Poller.for_engine(engine, interval)

