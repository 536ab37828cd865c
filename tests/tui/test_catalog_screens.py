"""Pilot tests of the catalog and reports areas on the small demo (pinned clock), and
snapshots of the catalog and the KPI dashboard at 80x24 and 160x50 (the demo is seeded and
dated by tests/conftest.py's DEMO_TODAY, the app's clock is pinned, its label fixed)."""

from __future__ import annotations

import pytest

from pob_tui.models import Agent, AgentRole, Person
from pob_tui.services.identity import Actor
from tests.tui.conftest import screen_text, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _agent(url: str, username: str, role: str, first: str, last: str) -> None:
    from pob_tui.db import Database, make_engine

    db = Database(make_engine(url))
    with db.session() as s:
        p = Person(username=f"{username}-p", first_name=first, last_name=last)
        s.add(p)
        s.flush()
        a = Agent(username=username, person_id=p.id)
        s.add(a)
        s.flush()
        s.add(AgentRole(agent_id=a.id, role=role))
    db.dispose()


def _admin(url: str) -> None:
    _agent(url, "boss", "administrator", "Boss", "Admin")


async def test_catalog_list_filter_and_detail(demo_app_url, make_app) -> None:
    app = make_app(demo_app_url, actor=Actor("boss"))
    _admin(demo_app_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        text = screen_text(app)
        assert "SVC-" in text and "Cost/yr" in text
        await pilot.press("slash")
        await settle(pilot)  # the box takes the focus after a frame
        await pilot.press(*"print", "enter")
        await settle(pilot)
        assert "matching" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Costs by year and kind" in text and "Incidents / month" in text, text


async def test_catalog_hides_amounts_from_roles_without_costs(demo_app_url, make_app) -> None:
    """A first-line agent sees the catalog (services, subscribers, open incidents) but not
    what they cost: amounts are for service owners, customer managers and administrators."""
    from pob_tui.db import Database, make_engine
    from pob_tui.services.catalog import list_services, service_detail

    _agent(demo_app_url, "desk", "first_line", "Desk", "Agent")
    db = Database(make_engine(demo_app_url))
    with db.session() as s:
        from datetime import UTC, datetime

        from pob_tui.models import Service

        rows = list_services(s, year=2026, hourly_rate=__import__("decimal").Decimal(950),
                             with_costs=False)
        assert rows and all(r.yearly_cost is None and r.cost_per_user is None for r in rows)
        assert any(r.subscribers for r in rows)
        code = s.execute(__import__("sqlalchemy").select(Service.code)).scalars().first()
        assert service_detail(s, code, now=datetime.now(UTC), with_costs=False)["costs"] == []
    db.dispose()
    app = make_app(demo_app_url, actor=Actor("desk"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert "SVC-" in screen_text(app)
        table = app.screen.query_one("#catalog-table")
        labels = [str(c.label) for c in table.columns.values()]
        cost, subs = labels.index("Cost/yr"), labels.index("Subs")
        assert table.row_count > 0
        for row in range(table.row_count):
            cells = table.get_row_at(row)
            assert str(cells[cost]) == "-"
        assert any(str(table.get_row_at(r)[subs]).strip() not in ("", "0")
                   for r in range(table.row_count))


async def test_reports_dashboard_and_costs(demo_app_url, make_app) -> None:
    app = make_app(demo_app_url, actor=Actor("boss"))
    _admin(demo_app_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert "Solved at first line" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        assert "Unallocated" in screen_text(app)  # the heading, as a label
        await pilot.press("w")
        await settle(pilot)
        assert "Cost per active" in screen_text(app)


def _open_area(key: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_catalog_snapshot(snap_compare, demo_app_url, make_app, size) -> None:
    _admin(demo_app_url)
    app = make_app(demo_app_url, actor=Actor("boss"))
    assert snap_compare(app, terminal_size=size, run_before=_open_area("5"))


@pytest.mark.parametrize("size", SIZES)
def test_kpi_dashboard_snapshot(snap_compare, demo_app_url, make_app, size) -> None:
    _admin(demo_app_url)
    app = make_app(demo_app_url, actor=Actor("boss"))
    assert snap_compare(app, terminal_size=size, run_before=_open_area("7"))


async def test_reports_csv_export_is_formula_safe_and_private(demo_app_url, make_app,
                                                              tmp_path, monkeypatch) -> None:
    """`e` on the costs report writes a CSV finance opens in a spreadsheet: a service name
    that looks like a formula starts with ', amounts stay numbers, the file is 0600."""
    import csv
    import stat

    from sqlalchemy import select

    from pob_tui.db import Database, make_engine
    from pob_tui.models import Service

    _admin(demo_app_url)
    evil = '=HYPERLINK("http://x","y")'
    db = Database(make_engine(demo_app_url))
    with db.session() as s:
        service = s.execute(select(Service).where(Service.lifecycle == "live")
                            .order_by(Service.id)).scalars().first()
        service.name = evil
        code = service.code
    db.dispose()
    app = make_app(demo_app_url, actor=Actor("boss"), export_dir=tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        written = list(tmp_path.glob("pob-costs-*.csv"))
        assert len(written) == 1, [n.message for n in app.notes]
        assert any("Wrote" in n.message for n in app.notes)
    path = written[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    row = next(r for r in rows if r.get("code") == code)
    assert row["service"] == "'" + evil
    numeric = [row[k] for k in ("people", "total", "allocated", "unallocated")]
    assert all(float(v) >= 0 for v in numeric)  # numbers, not quoted text
