"""Service desk in the TUI, keys only: queue views and filter, logging a call (also through
a known error), escalating, resolving with a low score and its follow-up, linking to a
problem in bulk, an edit conflict, and user text shown literally. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pob_tui.db import Database, make_engine
from pob_tui.models import Incident, Problem, Team
from pob_tui.services import incidents as svc
from pob_tui.services.identity import Actor
from tests.factories import build_world, office_agreement
from tests.tui.conftest import NOW, screen_text, settle

MARKUP = ("[@click=app.quit]x[/]", "[/", "[bold", "[0]", "[a[0]]", "\x1b[2J",
          "\x1b]0;title\x07")
CALLS = (
    ("kari.n", "M365", "Outlook henger ved oppstart", 2, 2, 30),
    ("kari.n", "PRINT", "Skriveren i 2. etasje skriver ikke ut", 3, 3, 4),
    ("ordforer", "M365", "Teams-møter faller ut", 2, 1, 3),
    ("kari.n", "PRINT", "Toner tom på lærerværelset", 3, 3, 1),
    ("mona.k", "M365", "Får ikke tilgang til delt postkasse", 1, 1, 26),
)


def build_desk(url: str):  # type: ignore[no-untyped-def]
    """The factories' world, an office calendar with SLA targets, and a dozen incidents
    (SLA ok, at risk, breached, paused; markup in summaries and descriptions)."""
    db = Database(make_engine(url))
    world = build_world(db)
    with db.session() as s:
        office_agreement(s, {1: (15, 240), 2: (30, 465), 3: (60, 700), 4: (240, 1395),
                             5: (480, 2325)})
    for caller, service, summary, impact, urgency, hours in CALLS:
        with db.session() as s:
            svc.create_incident(s, world.anne, svc.NewIncident(
                caller=caller, service=service, summary=summary, impact=impact,
                urgency=urgency, description="Ringte fra mobil.\nPC-en er ny."),
                now=NOW - timedelta(hours=hours))
    for i, text in enumerate(MARKUP):
        with db.session() as s:
            svc.create_incident(s, world.anne, svc.NewIncident(
                caller="kari.n", service="PRINT", summary=f"{text} markup {i}",
                description=f"desc {text} [red]not red[/red]"),
                now=NOW - timedelta(minutes=50 - i))
    with db.session() as s:
        svc.assign(s, world.anne, "INC-000001", to_me=True, now=NOW - timedelta(hours=29))
        svc.set_status(s, world.anne, "INC-000002", "waiting_caller", note="Venter",
                       now=NOW - timedelta(hours=2))
        svc.comment(s, world.anne, "INC-000001", "Sjekket [bold]tillegg[/bold]",
                    work_note=True, minutes=15, now=NOW - timedelta(hours=28))
    db.dispose()
    return world


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


def make(make_app, url):  # type: ignore[no-untyped-def]
    return make_app(url, actor=Actor("anne"))


def incident(url: str, number: str) -> dict:
    db = Database(make_engine(url))
    try:
        with db.session() as s:
            return svc.incident_detail(s, number)
    finally:
        db.dispose()


def notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(n.message) for n in app.notes]


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*["space" if c == " " else c for c in text])


async def open_incident(pilot, number: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("slash")
    await type_text(pilot, number)
    await settle(pilot)
    await pilot.press("enter", "enter")
    await settle(pilot)


async def test_queue_views_sort_and_filter_as_you_type(desk_url, make_app) -> None:
    from pob_tui.tui.screens.queue import QueueScreen
    from pob_tui.tui.widgets.paged_table import PagedTable

    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.query_one(PagedTable)
        assert table.row_count == 12
        assert "12 all open" in screen_text(app)
        await pilot.press("slash")
        await type_text(pilot, "outl")
        await settle(pilot)
        assert table.row_count == 1 and table.row_key_at_cursor() == "INC-000001"
        await type_text(pilot, "x")  # "outlx": nothing
        await settle(pilot)
        assert table.row_count == 0
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await type_text(pilot, "kari")  # caller name
        await settle(pilot)
        assert table.row_count == 10
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == 12
        await pilot.press("left_square_bracket", "left_square_bracket")  # open -> mine
        await settle(pilot)
        assert screen.view == "mine" and table.row_count == 1
        await pilot.press("right_square_bracket", "right_square_bracket",
                          "right_square_bracket", "right_square_bracket")  # waiting
        await settle(pilot)
        assert screen.view == "waiting" and table.row_key_at_cursor() == "INC-000002"
        await pilot.press("right_square_bracket", "right_square_bracket")  # at risk
        await settle(pilot)
        assert screen.view == "at_risk"
        assert {table.get_row_at(i)[1].plain for i in range(table.row_count)} >= {
            "INC-000001", "INC-000005"}
        await pilot.press("right_square_bracket", "s", "s")  # mine -> ...; sort priority
        await settle(pilot)
        assert screen.sort == "priority"


async def test_user_text_shows_literally_in_queue_and_detail(desk_url, make_app) -> None:
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        for i, value in enumerate(MARKUP):
            shown = value.replace("\x1b", "␛").replace("\x07", "␇")
            assert f"{shown} markup {i}" in text
        assert "\x1b" not in text
        for number, value in (("INC-000006", MARKUP[0]), ("INC-000012", MARKUP[6])):
            await open_incident(pilot, number)
            text = screen_text(app)
            shown = value.replace("\x1b", "␛").replace("\x07", "␇")
            assert f"{shown} markup" in text
            assert f"desc {shown} [red]not red[/red]" in text
            assert "\x1b" not in text and "\x07" not in text
            await pilot.press("escape")
            await settle(pilot)
        await open_incident(pilot, "INC-000001")
        text = screen_text(app)
        assert "Sjekket [bold]tillegg[/bold]" in text and "(15 min)" in text
        assert app.is_running


async def test_log_a_call_with_keys_only(desk_url, make_app) -> None:
    from pob_tui.tui.screens.queue import QueueScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")  # picks the first match once it is there
        await type_text(pilot, "print")
        await pilot.press("enter")
        await type_text(pilot, "Skanner sender ikke e-post")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "Logged INC-000013" in notes(app)
    inc = incident(desk_url, "INC-000013")
    assert (inc["caller"], inc["service"], inc["channel"]) == ("kari.n", "PRINT", "phone")
    assert inc["summary"] == "Skanner sender ikke e-post" and inc["status"] == "new"


async def test_log_a_call_through_a_known_error(desk_url, make_app) -> None:
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "ordf")
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "m365")
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "Outlook fryser")
        await settle(pilot)
        text = screen_text(app)
        assert "PRB-000001" in text and "sikker modus" in text
        assert "VIP" in text and "INC-000003" in text  # open incident shown
        assert "→ P3 (VIP)" in text  # M365 defaults 3/2 -> P4, VIP bump -> P3
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert "Logged INC-000013, resolved at first line" in notes(app)
    inc = incident(desk_url, "INC-000013")
    assert inc["status"] == "resolved" and inc["first_line"]
    assert inc["problem"] == "PRB-000001" and inc["resolution_code"] == "workaround"
    assert inc["priority"] == 3


async def test_note_on_the_callers_open_incident_instead_of_a_new_one(desk_url,
                                                                       make_app) -> None:
    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "ordforer")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.press("enter")  # the one open incident
        await type_text(pilot, "Ringer igjen")
        await pilot.press("enter")
        await settle(pilot)
        assert "Note added to INC-000003" in notes(app)
    inc = incident(desk_url, "INC-000003")
    assert inc["events"][-1]["comment"] == "Caller called again: Ringer igjen"


async def test_escalate_with_a_reason(desk_url, make_app) -> None:
    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")  # Nettverk, the only second-line team
        await type_text(pilot, "Svitsj i kjelleren")
        await pilot.press("enter")
        await settle(pilot)
        assert "INC-000004 escalated" in notes(app)
        assert "Nettverk" in screen_text(app)
    inc = incident(desk_url, "INC-000004")
    assert (inc["team"], inc["escalation_level"], inc["status"]) == ("Nettverk", 1,
                                                                    "assigned")


async def test_resolve_then_a_low_score_creates_a_follow_up(desk_url, make_app) -> None:
    from pob_tui.tui.screens.follow_ups import FollowUpsScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        await pilot.press("r")
        await pilot.press("enter")  # code: solved
        await type_text(pilot, "Byttet toner")
        await pilot.press("enter")
        await settle(pilot)
        assert "INC-000004 resolved" in notes(app)
        await pilot.press("i")  # resolved -> in progress needs a reason: refused
        await settle(pilot)
        assert "say why the incident is reopened" in notes(app)[-1]
        await pilot.press("S")
        await type_text(pilot, "2")
        await pilot.press("enter")
        await type_text(pilot, "Tok for lang tid")
        await pilot.press("enter")
        await settle(pilot)
        assert "Score 2 recorded; a follow-up was created for Mona Kundeansvarlig" in notes(
            app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape", "f")  # close the filter, then follow-ups
        await settle(pilot)
        assert isinstance(app.screen, FollowUpsScreen)
        text = screen_text(app)
        assert "INC-000004" in text and "Score 2" in text
        await pilot.press("enter")
        await settle(pilot)
        assert "2/6" in screen_text(app)
    inc = incident(desk_url, "INC-000004")
    assert inc["status"] == "resolved" and inc["satisfaction"] == 2


async def test_link_marked_incidents_to_a_new_problem(desk_url, make_app) -> None:
    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "m365")
        await settle(pilot)
        await pilot.press("enter")  # back in the list
        await pilot.press("space", "space")  # marks two rows (cursor moves down)
        assert "2 marked" in screen_text(app)
        await pilot.press("l")
        await pilot.press("enter")  # no number: a new problem
        await type_text(pilot, "M365 ustabil")
        await pilot.press("enter")
        await settle(pilot)
        assert "Linked 2 incident(s) to PRB-000002" in notes(app)
        await pilot.press("escape", "space", "l")  # existing problem, cursor row
        await type_text(pilot, "prb-000001")
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert notes(app)[-1].startswith("Linked 1 incident(s) to PRB-000001")
    db = Database(make_engine(desk_url))
    with db.session() as s:
        linked = dict(s.execute(select(Incident.number, Problem.number)
                                .join(Problem, Problem.id == Incident.problem_id)).all())
    db.dispose()
    assert sorted(v for v in linked.values()) == ["PRB-000001", "PRB-000002", "PRB-000002"]


async def test_edit_conflict_shows_the_other_change_and_overwrites_nothing(
        desk_url, make_app) -> None:
    from pob_tui.tui.screens.dialogs import ConflictDialog
    from pob_tui.tui.screens.incident import IncidentScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        db = Database(make_engine(desk_url))
        with db.session() as s:  # lars changes it meanwhile
            lars = build_lars(s)
            svc.update_fields(s, lars, "INC-000004", {"urgency": 1})
        db.dispose()
        await pilot.press("m")  # take it: based on what this screen showed
        await settle(pilot)
        assert isinstance(app.screen, ConflictDialog)
        text = screen_text(app)
        assert "changed by lars" in text
        assert "urgency: 3 -> 1" in text and "priority: 5 -> 3" in text
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert "impact 3, urgency 1" in screen_text(app)
    inc = incident(desk_url, "INC-000004")
    assert inc["assignee"] is None and inc["urgency"] == 1


def build_lars(session):  # type: ignore[no-untyped-def]
    from pob_tui.services.identity import load_actor

    return load_actor(session, "lars")


async def test_problems_area_and_known_error_search_from_the_palette(desk_url,
                                                                      make_app) -> None:
    from pob_tui.tui.screens.problems import ProblemScreen, ProblemsScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ProblemsScreen)
        assert "PRB-000001" in screen_text(app)
        await pilot.press("1", "ctrl+p")
        await type_text(pilot, "outlook henger")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        assert "sikker modus" in screen_text(app)
        await pilot.press("l")
        await type_text(pilot, "INC-000001")
        await pilot.press("enter")
        await settle(pilot)
        assert "Linked 1 incident(s)" in notes(app)
        assert "Outlook henger ved oppstart" in screen_text(app)


def test_team_lookup_sanity(desk_url) -> None:
    db = Database(make_engine(desk_url))
    with db.session() as s:
        assert s.execute(select(Team.code).where(Team.kind != "service_desk")).scalars().all()
    db.dispose()
