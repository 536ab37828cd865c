"""`generate`: the demo's steps in one transaction, and what they made (DemoSummary)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, select, text, update

import pob_tui.models as m
from pob_tui.db import (
    SQLITE_BEGIN,
    ensure_schema,
    gather_statistics,
    make_engine,
    prepare_sqlite,
    safe_url,
)
from pob_tui.demo.base import (
    SCALES,
    Progress,
    _domain_tables,
    _t,
    _Writer,
)
from pob_tui.demo.incidents import IncidentSteps
from pob_tui.errors import InvalidInput


@dataclass
class DemoSummary:
    """What was generated: rows per entity, seconds per step and in total."""

    scale: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def __getattr__(self, name: str) -> int:
        """`summary.incidents`, `summary.people`, ... (table names work too)."""
        counts: dict[str, int] = self.__dict__.get("counts", {})
        key = _ALIASES.get(name, name)
        if key in counts:
            return counts[key]
        raise AttributeError(name)


_ALIASES = {"people": "person", "incidents": "incident", "problems": "problem",
            "changes": "change_request", "services": "service", "locations": "location",
            "org_units": "org_unit", "agents": "agent", "teams": "team",
            "config_items": "config_item", "cis": "config_item", "events": "ticket_event",
            "ticket_events": "ticket_event", "usage_records": "usage_record",
            "subscriptions": "subscription", "cab_meetings": "cab_meeting",
            "follow_ups": "follow_up", "relations": "ci_relation"}


def _raw_pragmas(conn: Connection, *pragmas: str) -> None:
    """Run PRAGMAs on the driver connection: pob's engine begins a transaction before any
    SQLAlchemy statement (see db.SQLITE_BEGIN), and these may not run inside one."""
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for pragma in pragmas:
            cur.execute(pragma)
    finally:
        cur.close()


def generate(
    url: str,
    *,
    scale: str = "small",
    seed: int = 1,
    replace: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
    operator: str | None = None,
) -> DemoSummary:
    """Fill the database at `url` with a demo municipality; refuses a non-empty database
    unless `replace`, then wipes every domain table first (same transaction).

    "Now" is noon (Europe/Oslo) of `today`, so a pinned `today` and `seed` always give the
    same data; without `today` it is the earlier of noon and the clock (no future tickets).
    `progress(step, done, total)` is called as steps and incident months advance."""
    if scale not in SCALES:
        raise InvalidInput(f"unknown demo scale {scale!r}; choose one of {', '.join(SCALES)}")
    started = time.perf_counter()
    prepare_sqlite(url, create=True)  # the demo may create the database (private, 0600)
    engine = make_engine(url)
    try:
        ensure_schema(engine)
        now = None
        if today is None:  # no tickets from the future when run before noon
            today, now = date.today(), datetime.now(UTC).replace(microsecond=0)
        gen = _Generator(SCALES[scale], seed, today, progress, now, operator=operator)
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:  # outside any transaction (SQLite refuses these inside one)
                _raw_pragmas(conn, "PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144")
                conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                _clear_or_refuse(conn, url, replace)
                gen.run(_Writer(conn))
                if not sqlite:
                    _reset_sequences(conn)
            if sqlite:
                _raw_pragmas(conn, "PRAGMA synchronous=NORMAL")
        # `PRAGMA optimize` on this connection gathered nothing (it ran no queries):
        # the planner statistics come from a real ANALYZE (issue 17)
        gather_statistics(engine)
    finally:
        engine.dispose()
    summary = DemoSummary(scale=scale, seed=seed, counts=gen.counts(), steps=gen.steps)
    summary.elapsed = time.perf_counter() - started
    return summary


def _clear_or_refuse(conn: Connection, url: str, replace: bool) -> None:
    tables = _domain_tables()
    used = [t for t in tables if conn.execute(select(1).select_from(t).limit(1)).first()]
    if used and not replace:
        people = conn.execute(select(func.count()).select_from(_t(m.Person))).scalar_one()
        incidents = conn.execute(select(func.count()).select_from(_t(m.Incident))).scalar_one()
        raise InvalidInput(
            f"database {safe_url(url)} already holds data ({people} people, {incidents} "
            "incidents); use --replace to overwrite it"
        )
    if used:
        # The audit tables are append-only (triggers, migration 0004). Replacing the demo is
        # the schema owner's operation: it lifts those triggers in this transaction only, and
        # they are back before it commits (on SQLite re-created from their own stored SQL).
        audit = ("ticket_event", "admin_event")
        if conn.dialect.name == "postgresql":
            for name in audit:
                conn.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for name in audit:
                conn.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                "('ticket_event', 'admin_event')")).all()
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            conn.execute(update(_t(m.OrgUnit)).values(customer_manager_id=None))
            conn.execute(update(_t(m.Team)).values(lead_agent_id=None))
            conn.execute(update(_t(m.OrgUnit)).values(parent_id=None))
            for t in reversed(tables):
                conn.execute(t.delete())
            for _name, sql in triggers:
                conn.execute(text(sql))
    conn.execute(update(_t(m.TicketCounter)).values(last_value=0))


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids bypass PostgreSQL's sequences; move each to max(id)."""
    for t in _domain_tables():
        if "id" in t.c and t.c.id.primary_key:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                f"coalesce(max(id), 0) + 1, false) FROM \"{t.name}\""
            ))


class _Generator(IncidentSteps):
    """Builds the rows step by step; each step writes its tables before the next reads."""

    def run(self, w: _Writer) -> None:
        self.w = w
        steps = [("organisation", self.organisation), ("teams and agents", self.teams),
                 ("agreements", self.agreements), ("catalog", self.catalog),
                 ("usage", self.usage), ("cmdb", self.cmdb), ("changes", self.changes),
                 ("incidents", self.incidents), ("counters", self.finish)]
        for name, fn in steps:
            self._step(name, fn)

    # ---------------------------------------------------------------- counters
    def finish(self) -> None:
        tc = _t(m.TicketCounter)
        n_chg = self.w.counts.get("change_request", 0)
        for prefix, value in (("INC", self.inc_id), ("PRB", self.prb_id), ("CHG", n_chg)):
            self.w.conn.execute(update(tc).where(tc.c.prefix == prefix).values(last_value=value))
        self.w.insert(_t(m.AdminEvent), [{
            "id": 1, "at": self.now, "actor": "pob", "action": "demo.generate",
            "target": f"scale={self.sc.name}", "detail": f"demo data up to {self.today}",
            "allowed": True}])
