"""Service-desk rules: logging, priorities, transitions, escalation, conflicts, satisfaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pob_tui.errors import (
    ConflictError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
)
from pob_tui.models import FollowUp, Incident, TicketEvent
from pob_tui.services import incidents as svc
from pob_tui.services import problems
from pob_tui.services.identity import Actor

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(1, 1, 1), (1, 2, 2), (2, 1, 2), (1, 3, 3), (2, 2, 3), (3, 1, 3), (2, 3, 4), (3, 2, 4),
     (3, 3, 5)],
)
def test_itil_matrix(impact: int, urgency: int, priority: int) -> None:
    assert svc.priority_for(impact, urgency) == priority
    assert svc.priority_for(impact, urgency, vip=True) == max(1, priority - 1)


def log(world, **kw) -> Incident:
    data = dict(caller="kari.n", service="M365", summary="Outlook starter ikke")
    data.update(kw)
    with world.db.session() as s:
        return svc.create_incident(s, world.anne, svc.NewIncident(**data), now=NOW)


def test_log_call_numbers_priority_team_and_audit(world) -> None:
    a = log(world)
    b = log(world, caller="+4791234567", impact=1, urgency=2)
    assert (a.number, b.number) == ("INC-000001", "INC-000002")
    assert a.priority == 4  # service default impact 3, urgency 2
    assert b.priority == 2
    with world.db.session() as s:
        inc = svc.get_incident(s, "inc-000001")
        assert inc.status == "new" and inc.team_id is not None and inc.channel == "phone"
        events = s.execute(select(TicketEvent).where(TicketEvent.ticket_id == inc.id)).all()
        assert len(events) == 1


def test_vip_bump(world) -> None:
    inc = log(world, caller="ordforer", impact=2, urgency=2)
    assert inc.priority == 2


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"caller": "nobody"}, "unknown caller 'nobody'"),
        ({"service": "NOPE"}, "unknown service 'NOPE'"),
        ({"summary": "  "}, "summary is required"),
        ({"channel": "fax"}, "unknown channel 'fax'"),
        ({"impact": 4}, "impact and urgency must be 1, 2 or 3"),
    ],
)
def test_bad_input_writes_nothing(world, kw, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        log(world, **kw)
    with world.db.session() as s:
        assert s.execute(select(Incident)).first() is None


def test_unregistered_user_cannot_log(world) -> None:
    with pytest.raises(PermissionDenied, match="pob agent add mallory"), \
            world.db.session() as s:
        svc.create_incident(s, Actor(username="mallory"),
                            svc.NewIncident(caller="kari.n", summary="x"))


def test_save_and_resolve_at_first_line(world) -> None:
    inc = log(world, resolve_note="Passord tilbakestilt")
    assert inc.status == "resolved" and inc.first_line and inc.resolution_code == "solved"
    assert inc.first_response_at == NOW


def test_known_error_workaround_resolves(world) -> None:
    inc = log(world, known_error="PRB-000001")
    assert inc.status == "resolved" and inc.resolution_code == "workaround"
    assert "sikker modus" in inc.resolution_note
    with world.db.session() as s:
        assert svc.incident_detail(s, inc.number)["problem"] == "PRB-000001"


def test_escalate_resolve_close_and_rules(world) -> None:
    inc = log(world)
    with world.db.session() as s:
        with pytest.raises(InvalidInput, match="needs a reason"):
            svc.escalate(s, world.anne, inc.number, team="NETT", reason="")
    with world.db.session() as s:
        with pytest.raises(InvalidInput, match="second-line team"):
            svc.escalate(s, world.anne, inc.number, team="SD", reason="x")
    with world.db.session() as s:
        inc2 = svc.escalate(s, world.anne, inc.number, team="Nettverk",
                            reason="Switch på Hosle er nede", now=NOW + timedelta(minutes=5))
        assert (inc2.escalation_level, inc2.status, inc2.assignee_id) == (1, "assigned", None)
    with world.db.session() as s:
        svc.assign(s, world.lars, inc.number, to_me=True)
        svc.set_status(s, world.lars, inc.number, "waiting_supplier", note="Venter på Telenor")
        svc.set_status(s, world.lars, inc.number, "in_progress")
        svc.comment(s, world.lars, inc.number, "Byttet port", work_note=True, minutes=25)
        with pytest.raises(InvalidInput, match="resolution note is required"):
            svc.resolve(s, world.lars, inc.number, code="solved", note=" ")
    with world.db.session() as s:
        done = svc.resolve(s, world.lars, inc.number, code="solved", note="Ny switch")
        assert done.status == "resolved" and done.first_line is False
        svc.set_status(s, world.lars, inc.number, "closed")
    with world.db.session() as s:
        with pytest.raises(TransitionNotAllowed, match="it is closed"):
            svc.set_status(s, world.lars, inc.number, "in_progress", note="igjen")
        detail = svc.incident_detail(s, inc.number)
    kinds = [e["kind"] for e in detail["events"]]
    assert kinds[0] == "created" and "work_note" in kinds and "assignment" in kinds
    assert any(e["minutes"] == 25 for e in detail["events"])


def test_reopen_needs_a_reason_and_clears_resolution(world) -> None:
    inc = log(world, resolve_note="Fikset")
    with world.db.session() as s:
        with pytest.raises(InvalidInput, match="why the incident is reopened"):
            svc.set_status(s, world.anne, inc.number, "in_progress")
    with world.db.session() as s:
        again = svc.set_status(s, world.anne, inc.number, "in_progress", note="Feilen kom igjen")
        assert again.resolved_at is None and again.first_line is False


def test_edit_conflict_shows_the_other_change_and_writes_nothing(world) -> None:
    inc = log(world)
    with world.db.session() as s:
        seen = svc.snapshot(svc.get_incident(s, inc.number))
        version = svc.get_incident(s, inc.number).version
    with world.db.session() as s:  # Lars saves first
        svc.update_fields(s, world.lars, inc.number, {"urgency": 1}, expected_version=version)
    with world.db.session() as s, pytest.raises(ConflictError) as err:
        svc.update_fields(s, world.anne, inc.number, {"summary": "Annes tekst"},
                          expected_version=version, seen=seen)
    assert "changed by lars" in str(err.value)
    assert err.value.changes["urgency"] == (2, 1)
    assert err.value.changes["priority"] == (4, 3)
    with world.db.session() as s:
        assert svc.get_incident(s, inc.number).summary == "Outlook starter ikke"


def test_satisfaction_under_4_creates_follow_up(world) -> None:
    inc = log(world)
    with world.db.session() as s:
        with pytest.raises(TransitionNotAllowed, match="once it is resolved"):
            svc.record_satisfaction(s, world.anne, inc.number, 2)
    with world.db.session() as s:
        svc.resolve(s, world.anne, inc.number, code="solved", note="ok")
        assert svc.record_satisfaction(s, world.anne, inc.number, 5) is None
        follow = svc.record_satisfaction(s, world.anne, inc.number, 3, "Tok for lang tid")
        assert follow is not None and follow.manager_id == world.manager_id
    with world.db.session() as s:
        rows = svc.list_follow_ups(s)
        assert [r["number"] for r in rows] == [inc.number]
        assert rows[0]["manager"] == "Mona Kundeansvarlig" and rows[0]["score"] == 3
        assert s.execute(select(FollowUp)).scalars().one().org_unit_id is not None
    with world.db.session() as s, pytest.raises(InvalidInput, match="1 to 6"):
        svc.record_satisfaction(s, world.anne, inc.number, 7)


def test_queue_views_search_and_sort(world) -> None:
    a = log(world, summary="Skriver på lærerværelset", service="PRINT")
    b = log(world, summary="Teams virker ikke", impact=1, urgency=1)
    log(world, summary="Løst med en gang", resolve_note="ok")
    with world.db.session() as s:
        svc.assign(s, world.anne, b.number, to_me=True)
        open_rows = svc.list_incidents(s, actor=world.anne, view="open", now=NOW)
        assert {r["number"] for r in open_rows} == {a.number, b.number}
        assert [r["number"] for r in svc.list_incidents(s, actor=world.anne, view="mine")] \
            == [b.number]
        assert [r["number"] for r in svc.list_incidents(
            s, actor=world.anne, view="unassigned")] == [a.number]
        assert [r["number"] for r in svc.list_incidents(
            s, view="open", search="skriver")] == [a.number]
        assert [r["number"] for r in svc.list_incidents(
            s, view="open", search="print")] == [a.number]  # service code
        assert len(svc.list_incidents(s, view="open", search="nordmann")) == 2  # caller
        assert svc.list_incidents(s, view="open", sort="priority")[0]["number"] == b.number
        assert len(svc.list_incidents(s, view="resolved", now=NOW)) == 1
        assert svc.list_incidents(s, view="open", search="100%_") == []
        with pytest.raises(InvalidInput, match="unknown view"):
            svc.list_incidents(s, view="everything")


def test_problem_link_known_error_resolve_notes_incidents(world) -> None:
    a, b = log(world), log(world)
    with world.db.session() as s:
        p = problems.create_problem(s, world.anne, title="Outlook krasjer", from_incident=a.number)
        assert p.number == "PRB-000002"
        assert problems.link_incidents(s, world.anne, p.number, [a.number, b.number]) == 1
    with world.db.session() as s:
        with pytest.raises(InvalidInput, match="symptoms and a workaround"):
            problems.update_problem(s, world.anne, p.number, known_error=True)
    with world.db.session() as s:
        problems.update_problem(s, world.anne, p.number, symptoms="outlook krasjer ved start",
                                workaround="Reparer Office", known_error=True)
        hits = problems.search_known_errors(s, "Outlook krasjer hele tiden")
        assert hits[0]["number"] == p.number
        with pytest.raises(InvalidInput, match="root cause"):
            problems.update_problem(s, world.anne, p.number, status="resolved")
    with world.db.session() as s:
        problems.update_problem(s, world.anne, p.number, root_cause="Feil tillegg",
                                status="resolved", note="Tillegget er fjernet")
        notes = [e for e in svc.incident_detail(s, b.number)["events"]
                 if e["kind"] == "work_note"]
        assert notes and "PRB-000002 is resolved" in notes[0]["comment"]
        assert problems.link_incidents(s, world.anne, p.number, [b.number], unlink=True) == 1
        assert len(problems.problem_detail(s, p.number)["incidents"]) == 1
    with world.db.session() as s, pytest.raises(NotFound):
        problems.link_incidents(s, world.anne, p.number, ["INC-999999"])


def test_a_retried_save_is_applied_once(world) -> None:
    """A save whose answer was lost is retried with the same request id: no duplicate."""
    from pob_tui.services.audit import once

    inc = log(world)
    for _attempt in range(2):
        with world.db.session() as s, once(s, "req-42") as fresh:
            if fresh:
                svc.comment(s, world.anne, inc.number, "Ringte tilbake")
    with world.db.session() as s:
        comments = [e for e in svc.incident_detail(s, inc.number)["events"]
                    if e["kind"] == "comment"]
        assert len(comments) == 1
        assert svc.get_incident(s, inc.number).version == 2
