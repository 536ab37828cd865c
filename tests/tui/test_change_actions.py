"""Issue 13 item 7 at 80x24: conflicts and freezes show for drafts (the detail, and the new-
change form before saving); the change detail's actions by key (s submit after asking, p the
planned window / schedule, o outcome with a note), each based on the version shown so a
change saved meanwhile goes to the conflict view; `?`/F1 on the change screens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.models import ChangeRequest, FreezeWindow, TicketEvent
from pob_tui.services.changes import lifecycle
from pob_tui.services.identity import load_actor
from tests.tui.conftest import NOW, screen_text, settle
from tests.tui.test_cab_screens import fill_changes


@pytest.fixture
def cab_url(shell_url: str) -> str:
    """agent1 requests, votes and implements; three changes on 1 December's agenda."""
    fill_changes(shell_url)
    return shell_url


def draft(url: str, title: str, cis: list[str], start: str | None = None,
          end: str | None = None, status: str | None = None) -> str:
    """A draft by agent1; `status` forces a later state (set directly, as a fixture)."""
    database = Database(make_engine(url))
    with database.session() as s:
        ch = lifecycle.create_change(s, load_actor(s, "agent1"), lifecycle.NewChange(
            title=title, cis=cis, planned_start=start, planned_end=end,
            implementation_plan="plan", backout_plan="back"), now=NOW - timedelta(hours=1))
        if status:
            ch.status = status
        number = ch.number
    database.dispose()
    return number


def stored(url: str, number: str) -> tuple[ChangeRequest, list[str]]:
    """The change as stored and its events' comments."""
    database = Database(make_engine(url))
    with database.session() as s:
        ch = s.execute(select(ChangeRequest).where(ChangeRequest.number == number)
                       ).scalar_one()
        comments = [c for c in s.execute(
            select(TicketEvent.comment).where(TicketEvent.ticket_type == "change",
                                              TicketEvent.ticket_id == ch.id)).scalars() if c]
        s.expunge(ch)
    database.dispose()
    return ch, comments


async def open_change(pilot, app, number: str) -> None:  # type: ignore[no-untyped-def]
    from pob_tui.tui.screens.changes import ChangeDetailScreen

    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    app.push_screen(ChangeDetailScreen(number))
    await settle(pilot)


async def test_a_draft_shows_its_conflicts_in_the_detail(cab_url, make_app) -> None:
    # CHG-000001 (awaiting CAB) works on srv-00 on 2 December 18:00-20:00
    number = draft(cab_url, "Move the Visma server", ["srv-00"], "2026-12-02 18:30",
                   "2026-12-02 19:30")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        text = screen_text(app)
        assert f"{number} · normal · draft" in text
        assert "Conflict: same CI as CHG-000001" in text


@pytest.mark.both_backends
async def test_the_form_shows_conflicts_and_freezes_before_saving(cab_url, make_app) -> None:
    database = Database(make_engine(cab_url))
    with database.session() as s:
        s.add(FreezeWindow(name="Jule-frys", starts_at=datetime(2026, 12, 2, 17, 0, tzinfo=UTC),
                           ends_at=datetime(2026, 12, 3, 6, 0, tzinfo=UTC)))
    database.dispose()
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Patch srv-00", "tab", "tab", "tab", *"srv-00")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("tab", *"2026-12-02 18:30", "tab", *"2026-12-02 19:30")
        await settle(pilot)
        text = screen_text(app)
        assert "Conflict: same CI as CHG-000001" in text, text
        assert "Freeze: Jule-frys" in text, text
        # a window elsewhere in time clears them
        end = app.screen.query_one("#cf-end")
        start = app.screen.query_one("#cf-start")
        start.value, end.value = "2026-12-09 18:30", "2026-12-09 19:30"
        await settle(pilot)
        text = screen_text(app)
        assert "Conflict:" not in text and "Freeze:" not in text, text
        # nothing was saved while checking
        assert app.screen.query_one("#cf-title").value == "Patch srv-00"
    database = Database(make_engine(cab_url))
    with database.session() as s:
        titles = s.execute(select(ChangeRequest.title)).scalars().all()
    database.dispose()
    assert "Patch srv-00" not in titles


async def test_detail_submit_asks_first(cab_url, make_app) -> None:
    from pob_tui.tui.screens.changes import ChangeDetailScreen
    from pob_tui.tui.screens.dialogs import ConfirmDialog

    number = draft(cab_url, "Swap the printer", ["prn-01"], "2026-12-08 18:00",
                   "2026-12-08 19:00")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        assert "s Submit" in screen_text(app).splitlines()[-1]
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert stored(cab_url, number)[0].status == "draft"
        await pilot.press("s", "y")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert f"{number} · normal · awaiting CAB" in screen_text(app)
    assert stored(cab_url, number)[0].status == "awaiting_cab"


async def test_detail_p_sets_a_drafts_window_and_schedules_an_approved_one(
        cab_url, make_app) -> None:
    from pob_tui.tui.screens.changes import ChangeDetailScreen

    plain_draft = draft(cab_url, "Swap the printer", ["prn-01"])
    approved = draft(cab_url, "Patch the switch", ["prn-01"], "2026-12-08 18:00",
                     "2026-12-08 19:00", status="approved")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, plain_draft)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press(*"2026-12-10 18:00", "enter", *"2026-12-10 19:00", "enter")
        await settle(pilot)
        assert "Window: 2026-12-10 18:00 – 2026-12-10 19:00" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        app.push_screen(ChangeDetailScreen(approved))
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        # the dialog opens on the current window; enter keeps it
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert f"{approved} · normal · scheduled" in screen_text(app)
    ch, _ = stored(cab_url, plain_draft)
    assert ch.status == "draft"
    assert ch.planned_start is not None and ch.planned_end is not None
    assert stored(cab_url, approved)[0].status == "scheduled"


async def test_detail_o_records_the_outcome_with_a_note(cab_url, make_app) -> None:
    number = draft(cab_url, "Patch the switch", ["prn-01"], "2026-11-26 18:00",
                   "2026-11-26 19:00", status="in_progress")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("down", "enter", *"disk full, rolled back", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert f"{number} · normal · failed" in text
        assert "Outcome: failed" in text
    ch, comments = stored(cab_url, number)
    assert ch.status == "failed" and ch.outcome == "failed"
    assert "disk full, rolled back" in comments


async def test_list_o_records_the_outcome_with_a_note_too(cab_url, make_app) -> None:
    """The change list's `o` asks for the same outcome and note as the detail's."""
    from pob_tui.tui.screens.changes import ChangesScreen

    number = draft(cab_url, "Patch the core switch", ["prn-01"], "2026-11-26 18:00",
                   "2026-11-26 19:00", status="in_progress")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, ChangesScreen)
        table = app.screen.table
        for _ in range(table.row_count):
            if table.row_key_at_cursor() == number:
                break
            await pilot.press("down")
        assert table.row_key_at_cursor() == number
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("down", "down", "enter", *"rolled back at 18:40", "enter")
        await settle(pilot)
    ch, comments = stored(cab_url, number)
    assert ch.status == "backed_out" and ch.outcome == "backed_out"
    assert "rolled back at 18:40" in comments


@pytest.mark.both_backends
async def test_a_detail_action_on_a_stale_change_goes_to_the_conflict_view(
        cab_url, make_app) -> None:
    from pob_tui.tui.screens.changes import ChangeDetailScreen
    from pob_tui.tui.screens.dialogs import ConflictDialog

    number = draft(cab_url, "Swap the printer", ["prn-01"], "2026-12-08 18:00",
                   "2026-12-08 19:00")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        # someone else (the CLI's service call) moves the window meanwhile
        database = Database(make_engine(cab_url))
        with database.session() as s:
            lifecycle.update_change(s, load_actor(s, "agent1"), number,
                              planned_start="2026-12-15 18:00", planned_end="2026-12-15 19:00",
                              now=NOW)
        database.dispose()
        await pilot.press("s", "y")
        await settle(pilot)
        assert isinstance(app.screen, ConflictDialog)
        assert "was changed by someone else" in screen_text(app)
        assert stored(cab_url, number)[0].status == "draft"  # nothing written
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert "Window: 2026-12-15 18:00" in screen_text(app)
        await pilot.press("s", "y")  # on the version now shown it goes through
        await settle(pilot)
    assert stored(cab_url, number)[0].status == "awaiting_cab"


async def test_help_on_the_change_screens_names_what_the_agent_sees(cab_url, make_app) -> None:
    from pob_tui.tui.screens.help import HelpScreen

    number = draft(cab_url, "Swap the printer", ["prn-01"])
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        titles = [g.title for g in app.screen.groups]
        assert "Change" in titles, titles
        rows = {d for g in app.screen.groups for _k, d in g.rows}
        assert {"Submit", "Schedule", "Outcome"} <= rows
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert "F1 more" in screen_text(app).splitlines()[-1]
        await pilot.press("f1")  # `?` types into the field here
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        titles = [g.title for g in app.screen.groups]
        assert "New change" in titles, titles
        text = screen_text(app)
        for internal in ("ChangeFormScreen", "ChangeDetailScreen", "VerticalScroll", "Input",
                         "cf-", "change-form"):
            assert internal not in titles and internal not in text, internal


async def test_detail_keys_the_state_does_not_allow_are_greyed(cab_url, make_app) -> None:
    from pob_tui.tui.screens.changes import ChangeDetailScreen

    number = draft(cab_url, "Swap the printer", ["prn-01"], "2026-12-08 18:00",
                   "2026-12-08 19:00")
    running = draft(cab_url, "Patch the switch", ["prn-01"], "2026-11-26 18:00",
                    "2026-11-26 19:00", status="in_progress")
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        screen = app.screen
        assert screen.check_action("submit", ()) is True
        assert screen.check_action("schedule", ()) is True
        assert screen.check_action("outcome", ()) is None  # a draft has no outcome
        await pilot.press("o")
        await settle(pilot)
        assert app.screen is screen  # nothing opened
        app.push_screen(ChangeDetailScreen(running))
        await settle(pilot)
        assert app.screen.check_action("submit", ()) is None
        assert app.screen.check_action("schedule", ()) is None
        assert app.screen.check_action("outcome", ()) is True


def test_change_form_with_conflicts_snapshot(snap_compare, cab_url, make_app) -> None:
    """The new-change form at 80x24 with a window that clashes (shown before saving)."""
    async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Patch srv-00", "tab", "tab", "tab", *"srv-00")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("tab", *"2026-12-02 18:30", "tab", *"2026-12-02 19:30")
        await settle(pilot)

    assert snap_compare(make_app(cab_url), terminal_size=(80, 24), run_before=fill)


def test_draft_change_detail_snapshot(snap_compare, cab_url, make_app) -> None:
    """A draft's detail at 80x24: its conflicts and the action keys in the footer."""
    number = draft(cab_url, "Move the Visma server", ["srv-00"], "2026-12-02 18:30",
                   "2026-12-02 19:30")

    async def show(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_change(pilot, pilot.app, number)

    assert snap_compare(make_app(cab_url), terminal_size=(80, 24), run_before=show)


async def test_change_detail_opens_the_impact_as_lists(cab_url, make_app) -> None:
    """`i` on a change shows the CMDB's impact lists for its CIs (one implementation for the
    change and the CI), not only counts."""
    from pob_tui.tui.screens.cmdb import ImpactScreen

    number = draft(cab_url, "Patch two servers", ["srv-00", "srv-01"])
    app = make_app(cab_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_change(pilot, app, number)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ImpactScreen)
        text = screen_text(app)
        assert "srv-00" in text and "srv-01" in text, text
