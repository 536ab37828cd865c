"""Changes and CAB areas: a change created by keys, voting through an agenda, exports, and
snapshots of the agenda at 80x24 and 160x50 (fixed data, pinned clock)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.models import (
    Agent,
    AgentRole,
    CabDecision,
    ChangeCi,
    ChangeRequest,
    CiRelation,
    ConfigItem,
)
from pob_tui.services.changes import lifecycle
from pob_tui.services.identity import load_actor
from tests.tui.conftest import NOW, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def fill_changes(url: str) -> None:
    """agent1 may request, vote and chair; three changes on Tuesday 1 December's agenda."""
    database = Database(make_engine(url))
    with database.session() as s:
        agent = s.execute(select(Agent).where(Agent.username == "agent1")).scalar_one()
        for role in ("second_line", "cab_member", "change_manager"):
            s.add(AgentRole(agent_id=agent.id, role=role))
        ids = {c.name: c.id for c in s.execute(select(ConfigItem)).scalars()}
        s.add(CiRelation(source_id=ids["srv-01"], target_id=ids["srv-00"], kind="depends_on"))
    specs = [
        ("Patch Visma servers [bold]", ["srv-00"], "2026-12-02 18:00", "2026-12-02 20:00",
         {"backout": "no", "tested": "no", "complexity": "high"}),
        ("Replace printer switch", ["prn-01"], "2026-12-03 19:00", "2026-12-03 20:00",
         {"user_impact": "none", "complexity": "low"}),
        ("Upgrade database", ["srv-01"], "2026-12-02 19:00", "2026-12-02 21:00", {}),
    ]
    with database.session() as s:
        actor = load_actor(s, "agent1")
        for title, cis, start, end, answers in specs:
            ch = lifecycle.create_change(s, actor, lifecycle.NewChange(
                title=title, cis=cis, planned_start=start, planned_end=end,
                implementation_plan="plan", backout_plan="back", answers=answers),
                now=NOW - timedelta(hours=1))
            lifecycle.submit_change(s, actor, ch.number, now=NOW - timedelta(hours=1))
    database.dispose()


@pytest.fixture
def cab_url(shell_url: str) -> str:
    fill_changes(shell_url)
    return shell_url


async def test_create_a_change_by_keys(cab_url, make_app) -> None:
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert app.screen.query_one("#changes-table").row_count == 3
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Move printer", "tab", "tab", "tab")
        await pilot.press(*"prn")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.press("tab", *"2026-12-08 18:00", "tab", *"2026-12-08 19:00")
        await pilot.press("tab", *"move it", "tab", *"move back")
        await pilot.press("f4", "f3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.query_one("#changes-table").row_count == 4
        # submit it from the list: the new one is the first row (newest first)
        await pilot.press("g", "s", "y")  # s asks first (issue 13)
        await settle(pilot)
    database = Database(make_engine(cab_url))
    with database.session() as s:
        ch = s.execute(select(ChangeRequest).where(ChangeRequest.title == "Move printer")
                       ).scalar_one()
        cis = s.execute(select(ConfigItem.name).join(ChangeCi, ChangeCi.ci_id == ConfigItem.id)
                        .where(ChangeCi.change_id == ch.id)).scalars().all()
        answers = json.loads(ch.risk_answers)
    database.dispose()
    assert cis == ["prn-01"]
    assert answers["backout"] is False and answers["complexity"] == "high"
    assert ch.status == "awaiting_cab" and ch.risk is not None


async def test_vote_and_decide_through_the_agenda(cab_url, make_app, tmp_path,
                                                  monkeypatch) -> None:
    app = make_app(cab_url, export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#cab-items")
        assert table.row_count == 3
        first = app.screen.data["items"][0]
        assert first["risk"] == "high" and first["title"] == "Patch Visma servers [bold]"
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"after 20:00", "enter")
        await settle(pilot)
        await pilot.press("c", "a")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("down", "c", "d")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e", "m")
        await settle(pilot)
        assert (tmp_path / "cab-agenda-2026-12-01.md").is_file()
        minutes = (tmp_path / "cab-minutes-2026-12-01.md").read_text()
        assert "Approved 1, rejected 0, deferred 1" in minutes
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.screen.data["meeting"]["date"] == "2026-12-03"
        assert len(app.screen.data["items"]) == 1  # the deferred change
        assert app.screen.data["items"][0]["earlier_decisions"]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.screen.data["meeting"]["date"] == "2026-12-01"
    database = Database(make_engine(cab_url))
    with database.session() as s:
        votes = s.execute(select(CabDecision.vote, CabDecision.final, CabDecision.conditions)
                          .order_by(CabDecision.id)).all()
        statuses = dict(s.execute(select(ChangeRequest.title, ChangeRequest.status)).all())
    database.dispose()
    assert ("approve", False, "after 20:00") in votes
    assert statuses["Patch Visma servers [bold]"] == "approved"


@pytest.mark.parametrize("size", SIZES)
def test_cab_agenda_snapshot(snap_compare, cab_url, make_app, size) -> None:
    async def open_cab(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(make_app(cab_url), terminal_size=size, run_before=open_cab)


async def test_a_change_number_opens_the_change_detail(cab_url, make_app) -> None:
    """CHG-... from the palette's ticket jump opens the change's own detail screen."""
    from pob_tui.tui.screens.changes import ChangeDetailScreen

    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"chg-000001")  # typed in the palette, any case
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert app.screen.number == "CHG-000001"
        await pilot.press("escape")
        await settle(pilot)
        app.open_ticket("CHG-000001")  # the ticket jump from a link, too
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
