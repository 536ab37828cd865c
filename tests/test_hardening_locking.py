"""Issue 12, item 1: no lost update between processes (SQLite above all).

Four processes save the same incident over and over, each save carrying the version it read.
Every save must either be applied on exactly that version (old -> old + 1) or be refused as a
conflict; the final version equals the number of applied saves.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime

from pob_tui.db import Database, make_engine
from pob_tui.errors import ConflictError
from pob_tui.services import incidents as svc

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PROCESSES = 4
SAVES = 15


def _saver(url: str, actor, number: str, tag: int, start, out) -> None:
    db = Database(make_engine(url))
    applied: list[tuple[int, int]] = []
    conflicts = 0
    start.wait()
    for k in range(SAVES):
        with db.session() as s:
            seen = svc.get_incident(s, number).version
        try:
            with db.session() as s:
                inc = svc.update_fields(s, actor, number, {"summary": f"p{tag} save {k}"},
                                        expected_version=seen, now=NOW)
                applied.append((seen, inc.version))
        except ConflictError:
            conflicts += 1
    db.dispose()
    out.put((tag, applied, conflicts))


def test_concurrent_saves_are_applied_or_refused(world, db_url: str) -> None:
    with world.db.session() as s:
        inc = svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="M365", summary="Outlook starter ikke"), now=NOW)
        base = inc.version
    ctx = mp.get_context("fork")
    start = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [ctx.Process(target=_saver, args=(db_url, world.lars, inc.number, i, start, out))
             for i in range(PROCESSES)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    applied = [pair for _tag, pairs, _c in results for pair in pairs]
    conflicts = sum(c for *_x, c in results)
    assert len(applied) + conflicts == PROCESSES * SAVES
    assert all(new == old + 1 for old, new in applied), applied
    used = [old for old, _new in applied]
    assert len(used) == len(set(used)), "two saves were applied on the same version"
    with world.db.session() as s:
        final = svc.get_incident(s, inc.number).version
    assert final - base == len(applied)
