"""Issue 13: the service desk as a new agent meets it, at 80x24 (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from pob_tui.db import Database, make_engine
from tests.tui.conftest import screen_text, settle
from tests.tui.desk_helpers import recorded
from tests.tui.test_desk_flows import (
    build_desk,
    incident,
    make,
    type_text,
)


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


async def test_escape_closes_the_matches_first_then_keeps_a_draft(desk_url, make_app) -> None:
    from pob_tui.tui.screens.dialogs import ChoiceDialog
    from pob_tui.tui.screens.log_call import LogCallScreen
    from pob_tui.tui.screens.queue import QueueScreen
    from pob_tui.tui.widgets.pickers import CallerPicker

    app = make(make_app, desk_url)

    said = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await settle(pilot)
        caller = app.screen.query_one("#call-caller", CallerPicker)
        assert caller.results.display
        await pilot.press("escape")  # closes the suggestions, not the form
        await settle(pilot)
        assert isinstance(app.screen, LogCallScreen) and not caller.results.display
        await pilot.press("enter")
        await type_text(pilot, "print")
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "Skanneren sender ikke")
        await settle(pilot)
        await pilot.press("escape")  # a form with data asks
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        assert "keep it as a draft" in screen_text(app)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "Call kept as a draft: n brings it back" in said
        await pilot.press("n")  # offered back
        await settle(pilot)
        text = screen_text(app)
        assert "Kari Nordmann (kari.n)" in text and "Skanneren sender ikke" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Logged INC-000013" in said
        await pilot.press("n")  # the draft is gone once logged; an empty form just closes
        await settle(pilot)
        assert "Kari" not in app.screen.query_one("#call-caller", CallerPicker).input.value
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
    inc = incident(desk_url, "INC-000013")
    assert (inc["caller"], inc["service"]) == ("kari.n", "PRINT")
    assert inc["summary"] == "Skanneren sender ikke"


async def test_escape_then_discard_leaves_nothing(desk_url, make_app) -> None:
    from pob_tui.tui.screens.queue import QueueScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await settle(pilot)
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.call_draft is None


async def test_enter_with_no_caller_match_says_so_and_stays(desk_url, make_app) -> None:
    from pob_tui.tui.widgets.pickers import CallerPicker

    app = make(make_app, desk_url)

    said = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "zzqx")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        caller = app.screen.query_one("#call-caller", CallerPicker)
        assert "No caller matches “zzqx”" in said
        assert caller.input.has_focus
        # enter before the results arrived: the focus comes back when none match
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "qqq")
        await pilot.press("enter")
        await settle(pilot)
        assert caller.input.has_focus and caller.selected is None


async def test_teams_enter_logs_on_the_service_named_teams(desk_url, make_app) -> None:
    from pob_tui.models import Service

    db = Database(make_engine(desk_url))
    with db.session() as s:
        s.add_all([Service(code="LMS", name="Læringsplattform (Teams for skole)",
                           keywords="teams", search="lms"),
                   Service(code="TEAMS", name="Teams", search="teams")])
    db.dispose()
    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")
        await type_text(pilot, "teams")
        await pilot.press("enter")
        await type_text(pilot, "Lyd faller ut")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert incident(desk_url, "INC-000013")["service"] == "TEAMS"


async def test_known_errors_panel_shows_the_service_and_what_it_rests_on(desk_url,
                                                                        make_app) -> None:
    from types import SimpleNamespace

    from tests.test_known_errors_scope import add_related

    db = Database(make_engine(desk_url))
    add_related(SimpleNamespace(db=db))
    db.dispose()
    app = make(make_app, desk_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")
        await type_text(pilot, "m365")
        await pilot.press("enter")
        await type_text(pilot, "Outlook ber om passord")
        await settle(pilot)
        text = screen_text(app)
        assert "PRB-000001" in text and "PRB-000002" in text and "via Pålogging" in text
        assert "PRB-000003" not in text  # Skoleportal's printing workaround is not offered


async def test_sla_time_in_working_time_and_explain_shows_every_clock(desk_url,
                                                                     make_app) -> None:
    import re

    from pob_tui.tui.screens.dialogs import ExplainDialog
    from tests.tui.test_desk_flows import open_incident

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert not re.search(r"\d+d\d+h", text)  # no 24-hour days
        assert re.search(r"\d+ (wd|h|min)", text)
        await open_incident(pilot, "INC-000001")
        assert re.search(r"due \w{3} \d\d\.\d\d \d\d:\d\d", screen_text(app))
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExplainDialog)
        text = screen_text(app)
        print(text)
        assert "Response" in text and "Resolution" in text
        assert re.search(r"\w{3} \d\d\.\d\d\.2026 \d\d:\d\d–\d\d:\d\d  counted", text)


async def test_small_things_cursor_reopen_palette_digits(desk_url, make_app) -> None:
    from pob_tui.tui.screens.incident import IncidentScreen
    from pob_tui.tui.screens.queue import QueueScreen
    from pob_tui.tui.widgets.paged_table import PagedTable

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(PagedTable)
        await pilot.press("j", "j")
        before = table.row_key_at_cursor()
        await pilot.press("n")
        await type_text(pilot, "kari")
        await pilot.press("enter")
        await type_text(pilot, "print")
        await pilot.press("enter")
        await type_text(pilot, "Ny sak")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert table.row_key_at_cursor() == before  # the cursor stays on its incident
        await pilot.press("ctrl+p")
        await type_text(pilot, "13")  # plain digits jump to INC-000013
        await settle(pilot)
        text = screen_text(app)
        assert "INC-000013" in text and "Cursor up" not in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen) and app.screen.number == "INC-000013"
        await pilot.press("o")  # reopen is not offered on a new incident
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)


async def test_80x24_footers_show_the_most_used_keys_and_more(desk_url, make_app) -> None:
    from tests.tui.test_desk_flows import open_incident

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_incident(pilot, "INC-000004")
        footer = screen_text(app).splitlines()[-1]
        for shown in ("? more", "r Resolve", "p Wait", "a Assign", "x Escalate"):
            assert shown in footer, footer
        await pilot.press("question_mark")  # all keys, with the ids [keymap] uses
        await settle(pilot)
        text = screen_text(app)
        assert "incident.resolve" in text and "PagedTable" not in text
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for shown in ("F1 more", "^s Save", "^r Save+resolve", "^g Quick call"):
            assert shown in footer, footer


async def test_change_form_dates_are_empty_with_the_format_beside(desk_url, make_app) -> None:
    from textual.widgets import Input

    from pob_tui.tui.screens.changes import ChangeFormScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3", "n")
        await settle(pilot)
        assert isinstance(app.screen, ChangeFormScreen)
        for key in ("start", "end"):
            field = app.screen.query_one(f"#cf-{key}", Input)
            assert field.value == "" and field.placeholder == ""
        assert "YYYY-MM-DD HH:MM" in screen_text(app)
        await type_text(pilot, "Bytte")
        await pilot.press("tab")
        await type_text(pilot, "x")  # focus does not select all: typing appends
        assert app.screen.query_one("#cf-type", Input).value == "normalx"


async def test_n_tells_a_non_agent_how_to_become_one(desk_url, make_app) -> None:
    from pob_tui.services.identity import Actor
    from pob_tui.tui.screens.queue import QueueScreen

    app = make_app(desk_url, actor=Actor("stranger"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert any("pob agent add stranger" in str(n.message) for n in app.notes)
