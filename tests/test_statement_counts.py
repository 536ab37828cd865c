"""How many SQL statements the busiest saves send, in steady state.

Under load (20 agents saving at full speed on PostgreSQL) a save's time is mostly round
trips to the server, each one holding the incident's row lock a little longer, so the p95
grows with every statement a save sends. These bounds keep logging a call, a comment and
a resolution at their current counts: a change that adds a statement to them fails here
and has to say why. Counted after the SLA reference data (agreements, targets, calendars)
is cached by the process, as it is for all but the first save every `sla.REFERENCE_TTL`
seconds; the actor is loaded before, as the app does once per session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from pob_tui.services import incidents as svc
from pob_tui.services import sla
from tests.factories import office_agreement

OSLO = ZoneInfo("Europe/Oslo")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=OSLO)

# Statements per save and backend. Logging a call: caller, service, ticket number, INSERT
# incident (due times included), INSERT its two clocks, INSERT the creation event. A comment
# (the first response) or a resolution: the incident, locked; INSERT its events; UPDATE
# incident; the caller's org unit with the clocks; the status and team history; UPDATE
# clock. PostgreSQL adds one `pg_notify` (services.live) per save and inserts several rows
# of a table in one statement; SQLite, in process, sends one INSERT per row (a resolution
# writes four events).
BOUNDS = {
    "sqlite": {"log a call": 7, "comment": 6, "resolve": 9},
    "postgresql": {"log a call": 7, "comment": 7, "resolve": 7},
}


@contextmanager
def counting(world: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(world.db.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(world.db.engine, "before_cursor_execute", remember)


def statements(world: Any, save: Callable[[Any], object]) -> list[str]:
    with counting(world) as seen, world.db.session() as s:
        save(s)
    return [" ".join(x.split()) for x in seen
            if x.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]


def log_call(s: Any, world: Any, at: datetime) -> str:
    return svc.create_incident(s, world.anne, svc.NewIncident(
        caller="kari.n", service="M365", summary="Outlook starter ikke"), now=at).number


def test_saves_send_few_statements(world, backend: str) -> None:
    with world.db.session() as s:
        office_agreement(s, {p: (240, 930) for p in range(1, 6)})
    sla.invalidate()
    with world.db.session() as s:  # warms the process's SLA reference cache
        log_call(s, world, MONDAY)

    number: list[str] = []
    logged = statements(world, lambda s: number.append(log_call(s, world, MONDAY)))
    commented = statements(world, lambda s: svc.comment(
        s, world.anne, number[0], "Vi ser på det", now=MONDAY.replace(hour=10)))
    resolved = statements(world, lambda s: svc.resolve(
        s, world.anne, number[0], code="solved", note="Ny profil",
        now=MONDAY.replace(hour=11)))

    counts = {"log a call": logged, "comment": commented, "resolve": resolved}
    for save, sent in counts.items():
        assert len(sent) <= BOUNDS[backend][save], f"{save}:\n" + "\n".join(sent)
    # The clocks were written: the counts above are not low because a step was skipped.
    assert any(x.startswith("INSERT INTO sla_clock") for x in logged)
    assert sum(x.startswith("UPDATE sla_clock") for x in commented + resolved) == 2
