"""CAB meetings: schedule, cut-off, holidays, agenda order, votes, decisions, minutes, CLI."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from pob_tui.cli import main
from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from pob_tui.models import Agent, AgentRole, CabAgendaItem, CabMeeting, Person
from pob_tui.reports import cab as report
from pob_tui.services import cab
from pob_tui.services.changes import queries, records
from pob_tui.services.identity import login_name
from tests.test_changes import NOW, actor, cw, new, submit  # noqa: F401

S = Settings()


def oslo(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=S.tzinfo).astimezone(UTC)


# --- the schedule (pure) -----------------------------------------------------------------

def test_meetings_on_tuesdays_and_thursdays_not_on_holidays() -> None:
    got = list(zip(range(4), cab.slots(oslo(2026, 5, 11, 12), S), strict=False))
    # Thursday 14 May 2026 is Ascension Day: no meeting
    assert [at for _i, at in got] == [oslo(2026, 5, 12), oslo(2026, 5, 19), oslo(2026, 5, 21),
                                      oslo(2026, 5, 26)]
    assert cab.slot_at(date(2026, 12, 24), S) is None  # a closing day
    assert cab.slot_at(date(2026, 12, 1), S) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    other = Settings(cab_weekdays=(0,), cab_time=__import__("datetime").time(13, 30))
    assert next(cab.slots(oslo(2026, 11, 25), other)) == oslo(2026, 11, 30, 13, 30)


def test_cutoff_is_working_days_before() -> None:
    assert cab.cutoff(oslo(2026, 12, 1), S) == oslo(2026, 11, 30)
    # Tuesday after Easter: Monday, Good Friday and Maundy Thursday are closed
    assert cab.cutoff(oslo(2026, 4, 7), S) == oslo(2026, 4, 1)
    assert cab.cutoff(oslo(2026, 12, 1), Settings(cab_cutoff_working_days=2)) == \
        oslo(2026, 11, 27)


@pytest.mark.parametrize(("submitted", "meeting"), [
    (oslo(2026, 11, 23, 9, 59), oslo(2026, 11, 24)),  # before Monday's cut-off
    (oslo(2026, 11, 23, 10, 0), oslo(2026, 11, 26)),  # at the cut-off: Thursday
    (oslo(2026, 11, 26, 9, 0), oslo(2026, 12, 1)),  # Thursday, cut-off was Wednesday
    (oslo(2026, 5, 12, 12, 0), oslo(2026, 5, 19)),  # Ascension Thursday skipped
])
def test_meeting_for_submission(submitted, meeting, db, backend) -> None:
    with db.session() as s:
        assert cab.submission_slot(s, submitted, S) == meeting
        mt = cab.meeting_for_submission(s, submitted, S)
        assert mt.starts_at == meeting and mt.kind == "regular"
    with db.session() as s:  # created lazily, once
        assert len(s.execute(select(CabMeeting)).scalars().all()) == 1
        assert cab.meeting_for_submission(s, submitted, S).starts_at == meeting


# --- agenda, votes, decisions ------------------------------------------------------------

def test_agenda_order_votes_and_decisions(cw, backend) -> None:  # noqa: F811
    low = new(cw, title="Low", cis=["lonely"], planned_start="2026-11-26 18:00",
              answers={"user_impact": "none", "complexity": "low"})
    high = new(cw, title="High", cis=["san-01"], planned_start="2026-11-26 19:00",
               planned_end="2026-11-26 21:00", answers={"backout": "no", "tested": "no",
                                                        "complexity": "high"})
    early = new(cw, title="Early high", cis=["sw-01"], planned_start="2026-11-25 18:00",
                planned_end="2026-11-25 19:00", answers={"backout": "no", "tested": "no",
                                                         "complexity": "high"})
    for n in (low, high, early):
        submit(cw, n)
    with cw.db.session() as s:
        data = cab.agenda(s, None, now=NOW)
    assert data["meeting"]["date"] == "2026-11-24" and data["meeting"]["kind"] == "regular"
    assert [i["number"] for i in data["items"]] == [early, high, low]
    top = data["items"][1]
    assert top["risk"] == "high" and "cannot be backed out" in top["risk_reasons"]
    assert top["impact"] == {"cis": 3, "services": 1, "people": 3, "locations": 1}
    assert isinstance(top["conflicts"], list)
    assert data["meeting"]["members"] == ["Mia Test", "Ola Test"]

    with cw.db.session() as s:
        with pytest.raises(PermissionDenied, match="only CAB members vote"):
            cab.vote(s, actor(cw, "carl"), high, "approve", now=NOW)
    with cw.db.session() as s:
        with pytest.raises(PermissionDenied):
            cab.vote(s, actor(cw, "anne"), high, "approve", now=NOW)
    with cw.db.session() as s:
        cab.vote(s, actor(cw, "mia"), high, "reject", now=NOW)
        cab.vote(s, actor(cw, "mia"), high, "approve", conditions="after 20:00", now=NOW)
        cab.vote(s, actor(cw, "ola"), high, "defer", now=NOW)
    with cw.db.session() as s:
        with pytest.raises(PermissionDenied, match=r"cab\.chair"):
            cab.decide(s, actor(cw, "mia"), high, "approve", now=NOW)
    with cw.db.session() as s:
        with pytest.raises(InvalidInput, match="unknown vote 'maybe'"):
            cab.decide(s, actor(cw, "carl"), high, "maybe", now=NOW)
    with cw.db.session() as s:
        cab.decide(s, actor(cw, "carl"), high, "approve", conditions="after 20:00", now=NOW)
        cab.decide(s, actor(cw, "carl"), low, "reject", now=NOW)
        res = cab.decide(s, actor(cw, "carl"), early, "defer", now=NOW)
        assert res["next_meeting"] == oslo(2026, 11, 26)
    with cw.db.session() as s:
        assert records.get_change(s, high).status == "approved"
        assert records.get_change(s, low).status == "rejected"
        assert records.get_change(s, early).status == "awaiting_cab"
        with pytest.raises(TransitionNotAllowed):
            cab.decide(s, actor(cw, "carl"), high, "reject", now=NOW)
        mins = cab.minutes(s, "2026-11-24", now=NOW)
        nxt = cab.agenda(s, "2026-11-26", now=NOW)
    assert mins["summary"] == {"approve": 1, "reject": 1, "defer": 1, "undecided": 0}
    # issue 13: deciding ahead of the meeting neither closes it nor changes its chair
    assert mins["meeting"]["status"] == "planned" and mins["meeting"]["chair"] == "Lars Nettmann"
    item = next(i for i in mins["items"] if i["number"] == high)
    assert {(v["member"], v["vote"], v["conditions"]) for v in item["votes"]} == {
        ("Mia Test", "approve", "after 20:00"), ("Ola Test", "defer", None)}
    md = report.minutes_markdown(mins)
    assert "Approved 1, rejected 1, deferred 1" in md and "after 20:00" in md
    assert [i["number"] for i in nxt["items"]] == [early]
    assert nxt["items"][0]["earlier_decisions"][0]["vote"] == "defer"
    assert "Earlier: CAB 2026-11-24 deferred" in report.agenda_markdown(nxt)


def test_meeting_agenda_walks_the_meetings(cw, backend) -> None:  # noqa: F811
    """The CAB screen's one call: the next meeting, the one after it and back again, and
    the meeting at a time, stored or only on the schedule."""
    number = new(cw)
    submit(cw, number)
    with cw.db.session() as s:
        first = cab.meeting_agenda(s, now=NOW)
        after = cab.meeting_agenda(s, first.ref.starts_at, 1, now=NOW)
        back = cab.meeting_agenda(s, after.ref.starts_at, -1, now=NOW)
        again = cab.meeting_agenda(s, first.ref.starts_at, now=NOW)
    assert first.ref.starts_at == oslo(2026, 11, 24) and first.ref.id is not None
    assert [i["number"] for i in first.agenda["items"]] == [number]
    assert after.ref == cab.MeetingRef(oslo(2026, 11, 26))  # nothing on it: not stored
    assert after.agenda["items"] == [] and after.agenda["meeting"]["date"] == "2026-11-26"
    assert back.ref == first.ref == again.ref
    assert again.agenda == first.agenda


def test_move_item_and_meeting_lookup(cw, backend) -> None:  # noqa: F811
    n = new(cw)
    submit(cw, n)
    with cw.db.session() as s:
        with pytest.raises(NotFound, match="no CAB meeting on 2026-11-25"):
            cab.move_item(s, actor(cw, "carl"), n, "2026-11-25", now=NOW)
    with cw.db.session() as s:
        with pytest.raises(PermissionDenied):
            cab.move_item(s, actor(cw, "mia"), n, "2026-11-26", now=NOW)
    with cw.db.session() as s:
        mt = cab.move_item(s, actor(cw, "carl"), n, "2026-11-26", now=NOW)
        assert mt.starts_at == oslo(2026, 11, 26)
    with cw.db.session() as s:
        assert cab.agenda(s, "2026-11-24", now=NOW)["items"] == []
        assert [i["number"] for i in cab.agenda(s, "2026-11-26", now=NOW)["items"]] == [n]
        prev = cab.adjacent_meeting(s, oslo(2026, 11, 26), -1, S)
        assert prev.starts_at == oslo(2026, 11, 24)
        assert cab.adjacent_meeting(s, oslo(2026, 11, 26), 1, S).starts_at == oslo(2026, 12, 1)


# --- CLI ---------------------------------------------------------------------------------

@pytest.fixture
def cli(cw, db_url):  # noqa: F811
    with cw.db.session() as s:
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Me", last_name="Myself")
        s.add(p)
        s.flush()
        a = Agent(username=me, person_id=p.id)
        s.add(a)
        s.flush()
        for role in ("second_line", "change_manager", "cab_member"):
            s.add(AgentRole(agent_id=a.id, role=role))
    return cw, db_url


def pob(capsys, url, *argv):
    code = main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_change_and_cab_json(cli, capsys) -> None:
    _cw, url = cli
    start = (datetime.now(S.tzinfo) + timedelta(days=14)).replace(hour=18, minute=0)
    code, out, err = pob(capsys, url, "change", "new", "--title", "Upgrade [bold] Visma",
                         "--ci", "app-visma", "--ci", "db-01", "--start",
                         start.strftime("%Y-%m-%d %H:%M"), "--end",
                         (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
                         "--implementation-plan", "x", "--backout-plan", "y",
                         "--answer", "tested=no", "--format", "json")
    assert code == 0, err
    made = json.loads(out)
    number = made["number"]
    assert made["status"] == "draft"
    code, out, err = pob(capsys, url, "change", "submit", number, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["status"] == "awaiting_cab"
    code, out, err = pob(capsys, url, "change", "show", number, "--format", "json")
    shown = json.loads(out)
    assert shown["cis"] == ["app-visma", "db-01"] and shown["impact"]["people"] == 3
    assert "not tested" in shown["risk_reasons"]
    code, out, err = pob(capsys, url, "change", "list", "--format", "json")
    assert [r["number"] for r in json.loads(out)] == [number]

    code, out, err = pob(capsys, url, "cab", "agenda", "--format", "json")
    assert code == 0, err
    agenda = json.loads(out)
    assert agenda["items"], agenda["meeting"]
    item = agenda["items"][0]
    assert {"number", "title", "type", "risk", "risk_reasons", "planned_start", "planned_end",
            "impact", "conflicts"} <= set(item)
    assert item["number"] == number and item["title"] == "Upgrade [bold] Visma"
    assert set(item["impact"]) >= {"cis", "services", "people", "locations"}
    assert isinstance(item["risk_reasons"], list) and isinstance(item["conflicts"], list)
    assert item["planned_start"].endswith("+00:00")
    meeting = agenda["meeting"]["date"]
    for fmt in ("md", "text"):
        code, out, err = pob(capsys, url, "cab", "agenda", "--meeting", meeting, "--format", fmt)
        assert code == 0 and number in out
    code, out, err = pob(capsys, url, "cab", "vote", number, "approve", "--conditions", "ok")
    assert code == 0, err
    code, out, err = pob(capsys, url, "cab", "decide", number, "approve")
    assert code == 0 and "approved" in out
    code, out, err = pob(capsys, url, "cab", "minutes", "--meeting", meeting, "--format", "json")
    mins = json.loads(out)
    assert mins["summary"]["approve"] == 1 and mins["items"][0]["votes"][0]["vote"] == "approve"
    code, out, err = pob(capsys, url, "cab", "minutes", "--meeting", meeting)
    assert out.startswith("# CAB minutes")
    code, out, err = pob(capsys, url, "cab", "hold", meeting)
    # the meeting's time in the calendar's zone with its offset, like the TUI shows it
    assert code == 0 and re.fullmatch(r"\w+ \d\d\.\d\d\.\d{4} \d\d:\d\d \+0[12]:00 held\n",
                                      out), (out, err)
    code, out, err = pob(capsys, url, "change", "schedule", number)
    assert code == 0 and "scheduled" in out
    code, out, err = pob(capsys, url, "change", "outcome", number, "backed_out", "--format",
                         "json")
    assert json.loads(out)["status"] == "backed_out"


def test_cli_change_edit_is_the_detail_screens_twin(cli, capsys) -> None:
    """`pob change edit` does what p on a draft's detail does (lifecycle.update_change):
    the window, the CIs, text fields and risk answers; only drafts."""
    from pob_tui.commands import change as change_cmd
    from pob_tui.services.changes import lifecycle

    assert set(change_cmd.EDITABLE) == lifecycle.EDITABLE  # every editable field offered
    _cw, url = cli
    code, out, err = pob(capsys, url, "change", "new", "--title", "Draft", "--ci", "lonely")
    assert code == 0, err
    number = out.strip()
    code, out, err = pob(capsys, url, "change", "edit", number, "--start", "2027-01-12 18:00",
                         "--end", "2027-01-12 19:00", "--ci", "app-visma", "--ci", "db-01",
                         "--backout-plan", "undo", "--answer", "tested=no", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["status"] == "draft"
    code, out, err = pob(capsys, url, "change", "show", number, "--format", "json")
    shown = json.loads(out)
    assert shown["cis"] == ["app-visma", "db-01"] and shown["backout_plan"] == "undo"
    assert shown["planned_start"].startswith("2027-01-12T17:00")
    assert shown["risk_answers"]["tested"] is False and shown["title"] == "Draft"
    code, out, err = pob(capsys, url, "change", "edit", number, "--start", "soon")
    assert code == 2 and "not a time" in err


def test_cli_change_check_is_the_forms_twin(cli, capsys) -> None:
    """`pob change check` answers what the new-change form shows under the window: the live
    changes it would clash with and the freezes; nothing is saved."""
    _cw, url = cli
    start = (datetime.now(S.tzinfo) + timedelta(days=14)).replace(hour=18, minute=0)
    window = ["--start", start.strftime("%Y-%m-%d %H:%M"),
              "--end", (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")]
    code, out, err = pob(capsys, url, "change", "new", "--title", "Live", "--ci", "app-visma",
                         *window, "--implementation-plan", "p", "--backout-plan", "b",
                         "--submit")
    assert code == 0, err
    live = out.split()[0]
    code, out, err = pob(capsys, url, "change", "check", *window, "--ci", "app-visma",
                         "--format", "json")
    assert code == 0, err
    found = json.loads(out)
    assert {"number": live, "kind": "same_ci", "detail": f"same CI as {live}"} in \
        found["conflicts"]
    assert found["problem"] is None
    code, out, err = pob(capsys, url, "change", "check", *window, "--ci", "lonely")
    assert code == 0 and f"implementer also booked on {live}" in out
    assert "same CI" not in out
    code, out, err = pob(capsys, url, "change", "check", "--start", "soon", "--end", "later")
    assert code == 2 and "not a time" in err
    code, out, err = pob(capsys, url, "change", "list", "--format", "json")
    assert [r["number"] for r in json.loads(out)] == [live]  # the checks saved nothing
    code, out, err = pob(capsys, url, "change", "list", "--week", start.date().isoformat(),
                         "--format", "json")
    assert code == 0, err
    assert [(r["number"], r["conflicts"]) for r in json.loads(out)] == [(live, "")]


@pytest.mark.parametrize(("argv", "needle"), [
    (["change", "new", "--title", "x", "--ci", "ghost"], "unknown configuration item 'ghost'"),
    (["change", "new", "--title", "x", "--start", "soon", "--end", "later"], "not a time"),
    (["change", "new", "--title", "x", "--answer", "tested=perhaps"], "tested='perhaps'"),
    (["change", "new", "--title", "x", "--answer", "oops"], "expected QUESTION=ANSWER"),
    (["change", "show", "CHG-999999"], "unknown change 'CHG-999999'"),
    (["change", "submit", "CHG-999999"], "unknown change"),
    (["change", "list", "--status", "sleeping"], "unknown status 'sleeping'"),
    (["cab", "agenda", "--meeting", "2026-11-25"], "no CAB meeting on 2026-11-25"),
    (["cab", "agenda", "--meeting", "tuesday"], "not a date"),
    (["cab", "minutes", "--meeting", "2026-12-24"], "no CAB meeting on 2026-12-24"),
])
def test_cli_bad_input(cli, capsys, argv, needle) -> None:
    _cw, url = cli
    code, out, err = pob(capsys, url, *argv)
    assert code == 2, (out, err)
    assert needle in err and len(err.strip().splitlines()) == 1
    with _cw.db.session() as s:
        assert s.execute(select(CabAgendaItem)).first() is None
        assert queries.list_changes(s) == []
