"""Pilot tests of the catalog and reports areas on the small demo (pinned clock)."""

from __future__ import annotations

from pob_tui.models import Agent, AgentRole, Person
from tests.tui.conftest import screen_text, settle


def _admin(url: str) -> None:
    from pob_tui.db import Database, make_engine

    db = Database(make_engine(url))
    with db.session() as s:
        p = Person(username="boss-p", first_name="Boss", last_name="Admin")
        s.add(p)
        s.flush()
        a = Agent(username="boss", person_id=p.id)
        s.add(a)
        s.flush()
        s.add(AgentRole(agent_id=a.id, role="administrator"))
    db.dispose()


async def test_catalog_list_filter_and_detail(demo_app_url, make_app) -> None:
    app = make_app(demo_app_url, agent_username="boss")
    _admin(demo_app_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        text = screen_text(app)
        assert "SVC-" in text and "Cost/yr" in text
        await pilot.press("slash", *"print", "enter")
        await settle(pilot)
        assert "matching" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Costs by year and kind" in text and "Incidents / month" in text, text


async def test_reports_dashboard_and_costs(demo_app_url, make_app) -> None:
    app = make_app(demo_app_url, agent_username="boss")
    _admin(demo_app_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        assert "Solved at first line" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        assert "unallocated" in screen_text(app)
        await pilot.press("w")
        await settle(pilot)
        assert "cost per active" in screen_text(app)
