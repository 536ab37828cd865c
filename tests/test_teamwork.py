"""Team work on one database: live changes across processes, presence, merging after a
conflict, saves that survive a dropped connection exactly once, SQLite busy, the audit
trail. Both backends unless the behaviour only exists on PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from pob_tui.cli import main
from pob_tui.db import Database, make_engine
from pob_tui.errors import ConflictError, DatabaseError
from pob_tui.models import AgentRole, Incident, TicketEvent
from pob_tui.services import incidents as svc
from pob_tui.services import live, merge, presence, retry
from pob_tui.services.identity import login_name
from tests.conftest import require_pg

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def _incident(world, summary: str = "Skriveren virker ikke") -> str:  # type: ignore[no-untyped-def]
    with world.db.session() as s:
        inc = svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="PRINT", summary=summary), now=NOW)
        return inc.number


def _events(db: Database, **where: object) -> int:
    with db.session() as s:
        stmt = select(func.count()).select_from(TicketEvent)
        for key, value in where.items():
            stmt = stmt.where(getattr(TicketEvent, key) == value)
        return int(s.execute(stmt).scalar_one())


# --- live changes ----------------------------------------------------------------------------

CHILD = """
import sys
from pob_tui.db import Database, make_engine
from pob_tui.services import incidents
from pob_tui.services import live
from pob_tui.services.identity import load_actor
live.install()  # as every entry point does
db = Database(make_engine(sys.argv[1]))
with db.session() as s:
    incidents.comment(s, load_actor(s, "lars"), sys.argv[2], "fra en annen prosess")
"""


def _collect(watcher, want: int, timeout: float) -> tuple[list[live.Change], float]:  # type: ignore[no-untyped-def]
    """Changes until one for incident `want` arrives (or `timeout`), and when it came."""
    seen: list[live.Change] = []
    deadline = time.monotonic() + timeout
    for batch in watcher.batches():
        seen.extend(batch)
        if any(c.kind == "incident" and c.id == want for c in batch):
            return seen, time.monotonic()
        if time.monotonic() > deadline:
            break
    return seen, float("inf")


def test_another_process_commit_is_seen_within_a_second(world, backend: str) -> None:
    number = _incident(world)
    with world.db.session() as s:
        ident = svc.get_incident(s, number).id
    watcher = live.watcher(world.db.engine, interval=0.1)
    try:
        assert watcher.batches is not None
        # Prime: the listener connects (LISTEN) / the poller reads its starting point.
        next(iter(watcher.batches())) if backend == "sqlite" else watcher.connect()
        proc = subprocess.run([sys.executable, "-c", CHILD, str(world.db.engine.url
                               .render_as_string(hide_password=False)), number],
                              capture_output=True, text=True, timeout=60)
        committed = time.monotonic()
        assert proc.returncode == 0, proc.stderr
        seen, arrived = _collect(watcher, ident, timeout=5)
    finally:
        watcher.stop()
        watcher.close()
    assert arrived - committed < 1.0, seen
    change = next(c for c in seen if c.id == ident)
    assert change.kind == "incident" and change.version == 2


@pytest.mark.pg_only
def test_notification_only_after_commit_and_not_for_rollback(world, backend: str) -> None:
    number = _incident(world)
    listener = live.Listener(world.db.engine.url.render_as_string(hide_password=False),
                             wait=0.2)
    listener.connect()
    try:
        with contextlib.suppress(RuntimeError), world.db.session() as s:
            svc.comment(s, world.anne, number, "rulles tilbake")
            s.flush()
            raise RuntimeError("rollback")
        batches = listener.batches()
        assert next(batches) == []
        with world.db.session() as s:
            svc.comment(s, world.anne, number, "lagres")
        got = next(batches) or next(batches)
        assert [c.kind for c in got] == ["incident"]
    finally:
        listener.stop()


@pytest.mark.pg_only
def test_a_notification_ends_the_listeners_wait(world, backend: str) -> None:
    """A phone ring must not sit out the listener's wait: the batch comes when the first
    notification does, with the rest of its burst."""
    number = _incident(world)
    listener = live.Listener(world.db.engine.url.render_as_string(hide_password=False),
                             wait=30)
    listener.connect()
    try:
        with world.db.session() as s:
            svc.comment(s, world.anne, number, "en")
            svc.comment(s, world.anne, number, "to")
        started = time.monotonic()
        got = next(listener.batches())
        assert time.monotonic() - started < 10  # the old loop waited all 30 s
        assert [c.kind for c in got] == ["incident", "incident"]  # one batch
    finally:
        listener.stop()


@pytest.mark.pg_only
def test_listener_reconnects_after_its_backend_is_killed(world, backend: str) -> None:
    states: list[str] = []
    listener = live.Listener(world.db.engine.url.render_as_string(hide_password=False),
                             wait=0.2, backoff=(0.1,), on_state=states.append)
    listener.connect()
    number = _incident(world)
    try:
        with world.db.engine.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'pob-listen'"))
        batches = listener.batches()
        got: list[live.Change] = []
        deadline = time.monotonic() + 10
        while not any(c.kind == live.RESYNC for c in got) and time.monotonic() < deadline:
            got += next(batches)
        assert states[:1] == ["reconnecting"] and "connected" in states
        with world.db.session() as s:
            svc.comment(s, world.anne, number, "etter gjenoppkobling")
        got = []
        while not got and time.monotonic() < deadline:
            got = next(batches)
        assert got and got[0].kind == "incident"
    finally:
        listener.stop()


@pytest.mark.sqlite_only
def test_sqlite_poller_reports_each_change_once(world, backend: str) -> None:
    number = _incident(world)
    poller = live.Poller.for_engine(world.db.engine, interval=0.05)
    assert poller.poll() == []  # starting point
    assert poller.poll() == []  # nothing committed: no query beyond data_version
    with world.db.session() as s:  # same pinned "now" as the creation: equal timestamps
        svc.comment(s, world.anne, number, "en gang", now=NOW)
    first = poller.poll()
    assert [(c.kind, c.version) for c in first] == [("incident", 2)]
    assert poller.poll() == []
    poller.close()


def test_change_payloads_are_parsed_strictly() -> None:
    assert live.Change.parse("incident:12:3") == live.Change("incident", 12, 3)
    for bad in ("incident:x:1", "drop table:1:1", "incident:1", ""):
        assert live.Change.parse(bad) is None


# --- presence --------------------------------------------------------------------------------

def test_presence_shows_the_other_agent_until_stale(world) -> None:
    number = _incident(world)
    with world.db.session() as s:
        ident = svc.get_incident(s, number).id
        presence.open_ticket(s, "incident", ident, world.lars.agent_id, now=NOW)
        presence.open_ticket(s, "incident", ident, world.anne.agent_id, now=NOW)
    with world.db.session() as s:
        assert presence.who_else(s, "incident", ident, world.anne.agent_id, NOW) == ["lars"]
        assert presence.who_else(s, "incident", ident, world.lars.agent_id, NOW) == ["anne"]
        later = NOW + timedelta(minutes=3)
        presence.heartbeat(s, "incident", ident, world.anne.agent_id, later)
        assert presence.who_else(s, "incident", ident, world.anne.agent_id, later) == []
        presence.close_ticket(s, "incident", ident, world.anne.agent_id)
    with world.db.session() as s:
        assert presence.who_else(s, "incident", ident, None, NOW) == ["lars"]


# --- conflicts: merge field by field ---------------------------------------------------------

def test_merge_keeps_mine_where_chosen_and_takes_theirs_elsewhere(world) -> None:
    number = _incident(world, "Min tittel")
    with world.db.session() as s:
        inc = svc.get_incident(s, number)
        seen, version = svc.snapshot(inc), inc.version
    with world.db.session() as s:  # lars edits in between
        svc.update_fields(s, world.lars, number, {"summary": "Hans tittel", "urgency": 1})
    with world.db.session() as s, pytest.raises(ConflictError) as err:
        svc.assign(s, world.anne, number, to_me=True, expected_version=version, seen=seen)
    changes = err.value.changes
    assert changes["summary"] == ("Min tittel", "Hans tittel")
    assert changes["urgency"][1] == 1
    assert not merge.mergeable("priority") and merge.mergeable("summary")
    with world.db.session() as s:
        lock = merge.prepare(s, world.anne, number, changes, ["summary"])
        svc.assign(s, world.anne, number, to_me=True, **lock)
    with world.db.session() as s:
        inc = svc.get_incident(s, number)
        assert (inc.summary, inc.urgency) == ("Min tittel", 1)  # mine kept, theirs taken
        assert inc.assignee_id == world.anne.agent_id
    # Merging against a state that moved on again is another conflict, not an overwrite.
    with world.db.session() as s:
        svc.update_fields(s, world.lars, number, {"summary": "Tredje"})
    with world.db.session() as s, pytest.raises(ConflictError):
        merge.prepare(s, world.anne, number, {"summary": ("Min tittel", "Hans tittel")},
                      ["summary"])


# --- faults ----------------------------------------------------------------------------------

def test_save_with_the_same_request_id_is_applied_once(world) -> None:
    number = _incident(world)

    def save(s):  # type: ignore[no-untyped-def]
        svc.comment(s, world.anne, number, "bare en gang")
        return "ok"

    first = retry.run_with_retry(world.db, save, "req-1")
    again = retry.run_with_retry(world.db, save, "req-1")  # the answer "was lost"
    assert (first.value, first.replayed) == ("ok", False)
    assert (again.value, again.replayed) == (None, True)
    assert _events(world.db, kind="comment") == 1
    assert _events(world.db, request_id="req-1") == 1


class LosesFirstAnswer(Database):
    """COMMIT goes through, then the connection 'drops' before the answer arrives."""

    lost = False

    @contextlib.contextmanager
    def session(self) -> Iterator:  # type: ignore[override]
        with super().session() as s:
            yield s
        if not self.lost:
            self.lost = True
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))


def test_commit_whose_answer_was_lost_is_not_applied_twice(world) -> None:
    number = _incident(world)
    db = LosesFirstAnswer(world.db.engine)
    retries: list[int] = []
    outcome = retry.run_with_retry(
        db, lambda s: svc.comment(s, world.anne, number, "svar tapt"), "req-lost",
        on_retry=lambda n, _d, _e: retries.append(n), sleep=lambda _s: None)
    assert retries == [1] and outcome.replayed and outcome.attempts == 2
    assert _events(world.db, kind="comment") == 1


@pytest.mark.pg_only
def test_killed_backend_save_goes_through_exactly_once(world, backend: str) -> None:
    require_pg()
    number = _incident(world)
    with world.db.session() as s:  # a pooled connection that is about to die
        s.execute(text("SELECT 1"))
    admin = create_engine(world.db.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert killed >= 1
    retries: list[int] = []
    outcome = retry.run_with_retry(
        world.db, lambda s: svc.comment(s, world.anne, number, "etter brudd"), "req-kill",
        on_retry=lambda n, _d, _e: retries.append(n))
    assert not outcome.replayed
    assert _events(world.db, kind="comment") == 1
    assert _events(world.db, request_id="req-kill") == 1


def test_server_restart_mid_session(tmp_path) -> None:
    """A private cluster restarted under an open engine: the next save retries through."""
    from pob_tui.db import upgrade
    from tests.factories import build_world
    from tests.pgcluster import PrivateCluster

    cluster = PrivateCluster()
    reason = cluster.available()
    if reason:
        pytest.skip(reason)
    cluster.start()
    try:
        engine = make_engine(cluster.url())
        upgrade(engine)
        db = Database(engine)
        world = build_world(db)
        number = _incident(world)
        cluster.restart()
        outcome = retry.run_with_retry(
            db, lambda s: svc.comment(s, world.anne, number, "etter omstart"), "req-restart")
        assert not outcome.replayed and _events(db, kind="comment") == 1
        engine.dispose()
    finally:
        cluster.stop()


@pytest.mark.sqlite_only
def test_sqlite_busy_beyond_the_timeout_gives_one_clear_line(world, backend: str) -> None:
    number = _incident(world)
    url = str(world.db.engine.url)
    impatient = Database(make_engine(url, busy_timeout_ms=150))
    holder = sqlite3.connect(world.db.engine.url.database, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(retry.DatabaseBusy) as err:
            retry.run_with_retry(impatient, lambda s: svc.comment(
                s, world.anne, number, "låst"), "req-busy")
        assert time.monotonic() - started < 3
        assert "busy" in str(err.value) and "\n" not in str(err.value)
    finally:
        holder.rollback()
        holder.close()
        impatient.dispose()
    assert _events(world.db, kind="comment") == 0


def test_a_lasting_outage_ends_in_one_line(world) -> None:
    calls: list[int] = []

    def broken(_s):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    with pytest.raises(DatabaseError, match="could not reconnect after 3 tries"):
        retry.run_with_retry(world.db, broken, "req-x", attempts=3, sleep=lambda _s: None)
    assert len(calls) == 3


# --- audit trail -----------------------------------------------------------------------------

def _make_me(world, role: str) -> None:  # type: ignore[no-untyped-def]
    """The CLI acts as the login user (OS user / session_user): give that agent `role`."""
    from pob_tui.models import Agent, Person

    with world.db.session() as s:
        me = login_name(s)
        if s.execute(select(Agent.id).where(Agent.username == me)).first() is None:
            p = Person(username=me, first_name="Admin", last_name="Istrator")
            s.add(p)
            s.flush()
            a = Agent(username=me, person_id=p.id)
            s.add(a)
            s.flush()
        agent_id = s.execute(select(Agent.id).where(Agent.username == me)).scalar_one()
        s.add(AgentRole(agent_id=agent_id, role=role))


def test_audit_cli_filters_and_formats(world, capsys) -> None:
    number = _incident(world)
    other = _incident(world, "Annen sak")
    with world.db.session() as s:
        svc.comment(s, world.lars, number, "sjekket nettet", now=NOW + timedelta(days=1))
    url = world.db.engine.url.render_as_string(hide_password=False)
    _make_me(world, "first_line")
    assert main(["--db", url, "audit", "--format", "json"]) == 5  # not allowed
    assert "audit.read needs the role" in capsys.readouterr().err
    _make_me(world, "administrator")
    assert main(["--db", url, "audit", "--actor", "lars", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["actor"], r["ticket"], r["action"]) for r in rows] == [
        ("lars", number, "comment")]
    assert main(["--db", url, "audit", "--ticket", other.lower(), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("at,source,actor,ticket") and all(other in ln for ln in lines[1:])
    day = (NOW + timedelta(days=1)).date().isoformat()
    assert main(["--db", url, "audit", "--from", day, "--to", day]) == 0
    out = capsys.readouterr().out
    assert "sjekket nettet" in out and "created" not in out
    # Times in the calendar's zone with the offset, to the second, like the TUI shows them.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]:00", out), out
    with world.db.session() as s:
        me = login_name(s)
    assert main(["--db", url, "audit", "--actor", me, "--limit", "1", "--format",
                 "json"]) == 0
    newest = json.loads(capsys.readouterr().out)
    assert len(newest) == 1 and newest[0]["source"] == "admin"  # the denied read above
    assert newest[0]["action"] == "audit.read"
    assert newest[0]["allowed"] is False
    assert main(["--db", url, "audit", "--from", "2026-13-01"]) == 2


def test_incident_rows_by_id_for_live_queues(world) -> None:
    from pob_tui.services import desk_views

    number = _incident(world)
    with world.db.session() as s:
        ident = svc.get_incident(s, number).id
        rows, numbers = desk_views.queue_rows(s, actor=world.anne, view="open",
                                              ids=[ident], now=NOW)
        assert numbers == {ident: number} and rows[0]["number"] == number
        rows, _numbers = desk_views.queue_rows(s, actor=world.anne, view="resolved",
                                               ids=[ident], now=NOW)
        assert rows == []
    assert Incident.__tablename__ == "incident"
