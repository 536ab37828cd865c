"""Issue 13 item 4 through the real app: the chair deciding a change on Sunday, by keys on
the CAB screen, neither closes Tuesday's meeting nor makes the decider its chair, so a
change submitted on Monday before the cut-off still goes on Tuesday's agenda."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.models import Agent, AgentRole, CabAgendaItem, CabMeeting, ChangeRequest, Person
from pob_tui.services.changes import lifecycle
from pob_tui.services.identity import Actor, load_actor
from tests.tui.conftest import NOW, screen_text, settle
from tests.tui.test_cab_screens import fill_changes

pytestmark = pytest.mark.sqlite_only

SUNDAY = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)  # 12:00 in Oslo
MONDAY = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 09:30 in Oslo; the cut-off is 10:00
TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the meeting, 10:00 in Oslo
CHAIR = "Kari Nordmann"  # agent1, the first change manager: Tuesday's chair


@pytest.fixture
def sunday_url(shell_url: str) -> str:
    """Three changes on Tuesday's agenda (chaired by agent1), a second change manager
    (carl) who decides on Sunday and submits a draft on Monday."""
    fill_changes(shell_url)
    database = Database(make_engine(shell_url))
    with database.session() as s:
        person = Person(username="carl-p", first_name="Carl", last_name="Berg")
        s.add(person)
        s.flush()
        carl = Agent(username="carl", person_id=person.id)
        s.add(carl)
        s.flush()
        for role in ("second_line", "change_manager"):
            s.add(AgentRole(agent_id=carl.id, role=role))
    with database.session() as s:
        lifecycle.create_change(s, load_actor(s, "carl"), lifecycle.NewChange(
            title="Submitted Monday before the cut-off", cis=["srv-03"],
            planned_start="2026-12-04 18:00", planned_end="2026-12-04 19:00",
            implementation_plan="plan", backout_plan="back"), now=NOW)
    database.dispose()
    return shell_url


def tuesday(url: str) -> tuple[str, str | None, list[str], dict[str, str]]:
    """Tuesday's meeting in the database: status, chair's username, the changes on its
    agenda, and every change's status."""
    database = Database(make_engine(url))
    with database.session() as s:
        mt = s.execute(select(CabMeeting).where(CabMeeting.starts_at == TUESDAY)).scalar_one()
        chair = s.execute(select(Agent.username).where(Agent.id == mt.chair_id)
                          ).scalar_one_or_none()
        titles = sorted(s.execute(
            select(ChangeRequest.title)
            .join(CabAgendaItem, CabAgendaItem.change_id == ChangeRequest.id)
            .where(CabAgendaItem.meeting_id == mt.id)).scalars())
        statuses = dict(s.execute(select(ChangeRequest.title, ChangeRequest.status)).all())
        status = mt.status
    database.dispose()
    return status, chair, titles, statuses


async def test_a_sunday_decision_keeps_tuesday_open_with_its_chair(sunday_url,
                                                                   make_app) -> None:
    now = [SUNDAY]
    app = make_app(sunday_url, actor=Actor("carl"), clock=lambda: now[0])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert app.screen.data["meeting"]["date"] == "2026-12-01"
        assert app.screen.data["meeting"]["chair"] == CHAIR
        first = app.screen.data["items"][0]["number"]
        await pilot.press("c", "a")  # the chair's decision: approve
        await pilot.pause()
        await pilot.press("enter")  # no conditions
        await settle(pilot)
        assert any(first in n.message for n in app.notes)
        meeting = app.screen.data["meeting"]
        assert (meeting["date"], meeting["status"], meeting["chair"]) == \
            ("2026-12-01", "planned", CHAIR)
        assert app.screen.data["items"][0]["decision"] == "approve"
        shown = screen_text(app)
        assert "CAB 2026-12-01 10:00 · planned · 3 changes · chair Kari Nordmann" in shown

        status, chair, titles, statuses = tuesday(sunday_url)
        assert (status, chair) == ("planned", "agent1")
        assert statuses["Patch Visma servers [bold]"] == "approved"

        # Monday 09:30, before Tuesday's 10:00 cut-off, carl submits his draft by keys
        now[0] = MONDAY
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("g", "s", "y")  # the newest change (the draft) is the first row
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        meeting = app.screen.data["meeting"]
        assert (meeting["date"], meeting["status"], meeting["chair"]) == \
            ("2026-12-01", "planned", CHAIR)
        shown_titles = {i["title"] for i in app.screen.data["items"]}
        assert "Submitted Monday before the cut-off" in shown_titles
        assert "CAB 2026-12-01 10:00 · planned · 4 changes · chair Kari Nordmann" in \
            screen_text(app)

    status, chair, titles, statuses = tuesday(sunday_url)
    assert (status, chair) == ("planned", "agent1")
    assert statuses["Submitted Monday before the cut-off"] == "awaiting_cab"
    assert titles == sorted(["Patch Visma servers [bold]", "Replace printer switch",
                             "Upgrade database", "Submitted Monday before the cut-off"])
