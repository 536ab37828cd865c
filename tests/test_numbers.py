"""Ticket numbers stay unique and are never reused, also with concurrent processes."""

from __future__ import annotations

import multiprocessing as mp
import random

from sqlalchemy import func, select, text

from pob_tui.db import Database, make_engine
from pob_tui.models import Incident, Person
from pob_tui.services.numbers import next_number


def _worker(url: str, count: int, seed: int, out: mp.Queue) -> None:
    """Insert `count` incidents; roll some transactions back after taking a number."""
    rng = random.Random(seed)
    database = Database(make_engine(url, busy_timeout_ms=30000))
    committed = []
    for _ in range(count):
        with database.engine.connect() as conn:
            from sqlmodel import Session

            with Session(bind=conn) as session:
                number = next_number(session, "INC")
                session.add(Incident(number=number, caller_id=1, summary="parallel"))
                session.flush()
                if rng.random() < 0.2:
                    session.rollback()
                else:
                    session.commit()
                    committed.append(number)
    database.dispose()
    out.put(committed)


def test_concurrent_processes_get_unique_numbers(db_url: str, backend: str) -> None:
    database = Database(make_engine(db_url))
    with database.session() as s:
        s.add(Person(id=1, username="kari", first_name="Kari", last_name="Nordmann"))
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db_url, 25, i, out)) for i in range(6)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    committed = [n for r in results for n in r]
    assert len(committed) == len(set(committed))
    with database.session() as s:
        stored = s.execute(select(Incident.number)).scalars().all()
        last = s.execute(text("SELECT last_value FROM ticket_counter WHERE prefix='INC'")).scalar()
        assert sorted(stored) == sorted(committed)
        assert s.execute(select(func.count()).select_from(Incident)).scalar() == len(committed)
    values = sorted(int(n.split("-")[1]) for n in committed)
    if backend == "sqlite":  # rolled-back numbers were returned: exactly 1..N
        assert values == list(range(1, last + 1))
    else:  # numbers are taken outside the save: gaps where a save rolled back
        assert values[-1] <= last == 6 * 25
    # A number once committed is never handed out again.
    with database.session() as s:
        assert next_number(s, "INC") == f"INC-{last + 1:06d}"
    database.dispose()
