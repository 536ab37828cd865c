"""Planner statistics (issue 17): the demo leaves `sqlite_stat1` behind, and the queue's
page of open incidents uses the status index even when closed incidents dominate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, text

from pob_tui.db import gather_statistics
from pob_tui.models import Incident
from pob_tui.services import incidents


def _history(world, open_ones: int = 0) -> None:  # type: ignore[no-untyped-def]
    """3,000 incidents an hour apart from 2016, the first `open_ones` still new, then the
    planner statistics gathered."""
    start = datetime(2016, 1, 1, tzinfo=UTC)
    with world.db.session() as s:
        s.execute(insert(Incident), [
            {"number": f"INC-{i + 1:06d}", "caller_id": world.kari_id, "summary": "old",
             "status": "new" if i < open_ones else "closed",
             "opened_at": start + timedelta(hours=i)} for i in range(3000)])
    gather_statistics(world.db.engine)


def _page_and_plan(world, **query) -> tuple[list, str]:  # type: ignore[no-untyped-def]
    """A page of `list_incidents(**query)` and SQLite's plan for the statement it sent."""
    db = world.db
    statements: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        with db.session() as s:
            page = incidents.list_incidents(s, actor=world.anne, **query)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    statement, parameters = next(x for x in statements if "FROM incident" in x[0])
    with db.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters).all())
    return page, plan


@pytest.mark.sqlite_only
def test_open_queue_plan_stays_on_the_status_index_after_analyze(world, backend) -> None:
    _history(world, open_ones=5)
    page, plan = _page_and_plan(world, view="open", search="o", limit=10)
    assert len(page) == 5
    with world.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar()
    assert "ix_incident_status" in plan, plan


@pytest.mark.sqlite_only
def test_a_page_of_all_history_walks_the_opened_at_index(world, backend) -> None:
    """`pob incident list --view all`: a page of newest-first comes from the index in
    order, not from sorting every incident ever logged (0.9 s on PostgreSQL at ten years)."""
    _history(world)
    page, plan = _page_and_plan(world, view="all", sort="newest", limit=10)
    assert [r["number"] for r in page][:2] == ["INC-003000", "INC-002999"]
    assert "ix_incident_opened_at" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.sqlite_only
def test_the_demo_and_an_import_leave_planner_statistics(demo_url, tmp_path, backend,
                                                        capsys) -> None:
    """`pob demo` and `pob import` leave statistics (ANALYZE at their end, and SQLite's
    `PRAGMA optimize` as connections close), so the next query plans on real counts (a
    database SQLite has never analysed walks history by the wrong index)."""
    from pob_tui.cli import main
    from pob_tui.db import Database, make_engine

    db = Database(make_engine(demo_url))
    try:
        with db.engine.connect() as conn:
            tables = {r[0] for r in conn.execute(text("SELECT tbl FROM sqlite_stat1"))}
            assert {"incident", "person", "ticket_event"} <= tables
            conn.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'org_unit'"))
            conn.commit()
        path = tmp_path / "units.csv"
        path.write_text("code,name,kind,parent\nNY,Ny sektor,sector,\n", encoding="utf-8")
        from pob_tui.services.identity import login_name

        with db.session() as s:  # the demo's first administrator runs the import
            me = login_name(s)
            s.execute(text("UPDATE agent SET username = :me WHERE id = (SELECT min(a.id) "
                           "FROM agent a JOIN agent_role r ON r.agent_id = a.id "
                           "WHERE r.role = 'administrator')"), {"me": me})
        assert main(["--db", demo_url, "import", "org-units", str(path)]) == 0, \
            capsys.readouterr().err
        with db.engine.connect() as conn:
            assert conn.execute(text(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'org_unit'")).scalar()
    finally:
        db.dispose()
