"""Change requests: state rules, the risk formula, impact analysis, conflicts, freezes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pob_tui.config import FreezeWindow as ConfigFreeze
from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, PermissionDenied, TransitionNotAllowed
from pob_tui.models import (
    Agent,
    AgentRole,
    CabAgendaItem,
    CabMeeting,
    ChangeRequest,
    ChangeTemplate,
    CiRelation,
    ConfigItem,
    FreezeWindow,
    Incident,
    Person,
    Service,
    ServiceCi,
    Subscription,
    TicketEvent,
)
from pob_tui.services import impact
from pob_tui.services.changes import conflicts, lifecycle, queries, records, risk
from pob_tui.services.identity import load_actor

# Monday 23 November 2026, 08:00 in Oslo: before the cut-off of Tuesday's CAB.
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


# --- a world with a CMDB -----------------------------------------------------------------

def add_agent(s, username: str, roles: list[str], team_id=None) -> int:
    p = Person(username=f"{username}-p", first_name=username.title(), last_name="Test")
    s.add(p)
    s.flush()
    a = Agent(username=username, person_id=p.id, team_id=team_id)
    s.add(a)
    s.flush()
    for r in roles:
        s.add(AgentRole(agent_id=a.id, role=r))
    return a.id


@pytest.fixture
def cw(world):
    """world + CIs (storage <- srv <- app, sw <- pc1/pc2), a service on app subscribed by
    the Oppvekst sector, a change manager, two CAB members and a template."""
    with world.db.session() as s:
        ci = {n: ConfigItem(name=n, ci_class=c) for n, c in (
            ("san-01", "storage"), ("srv-01", "server"), ("app-visma", "application"),
            ("sw-01", "network"), ("pc-01", "client"), ("pc-02", "client"),
            ("db-01", "database"), ("lonely", "server"))}
        s.add_all(ci.values())
        s.flush()
        rel = [("srv-01", "san-01", "depends_on"), ("app-visma", "srv-01", "runs_on"),
               ("app-visma", "db-01", "depends_on"), ("pc-01", "sw-01", "connects_to"),
               ("pc-02", "sw-01", "connects_to")]
        s.add_all(CiRelation(source_id=ci[a].id, target_id=ci[b].id, kind=k) for a, b, k in rel)
        svc = Service(code="VISMA", name="Visma", search="visma")
        s.add(svc)
        s.flush()
        s.add(ServiceCi(service_id=svc.id, ci_id=ci["app-visma"].id))
        sector = s.execute(select(Person.org_unit_id).where(Person.username == "mona.k")
                           ).scalar_one()
        s.add(Subscription(service_id=svc.id, org_unit_id=sector, valid_from=date(2020, 1, 1)))
        team = s.execute(select(Agent.team_id).where(Agent.username == "lars")).scalar_one()
        s.add(AgentRole(agent_id=s.execute(select(Agent.id).where(Agent.username == "lars")
                                           ).scalar_one(), role="change_manager"))
        add_agent(s, "carl", ["change_manager"], team)
        add_agent(s, "mia", ["cab_member"], team)
        add_agent(s, "ola", ["cab_member"], team)
        s.add(ChangeTemplate(name="Printer toner", implementation_plan="Swap",
                             backout_plan="Swap back", owner_team_id=team))
    return world


def actor(world, name: str):
    with world.db.session() as s:
        return load_actor(s, name)


def new(world, who: str = "lars", **kw) -> str:
    data = dict(title="Upgrade Visma", cis=["app-visma"], planned_start="2026-11-26 18:00",
                planned_end="2026-11-26 20:00", implementation_plan="do it",
                backout_plan="undo it")
    data.update(kw)
    with world.db.session() as s:
        return lifecycle.create_change(s, actor(world, who), lifecycle.NewChange(**data),
                                       now=NOW).number


def submit(world, number: str, who: str = "lars", now: datetime = NOW, settings=None):
    with world.db.session() as s:
        ch = lifecycle.submit_change(s, actor(world, who), number, now=now, settings=settings)
        return ch.status, ch.risk, json.loads(ch.risk_reasons)


# --- risk formula (pure) -----------------------------------------------------------------

def test_risk_defaults_are_low_with_reasons() -> None:
    r = risk.assess_risk({}, lead_working_days=10)
    assert (r.level, r.score) == ("low", 2)
    assert r.reasons == ("some users notice the change", "medium complexity")


def test_risk_adds_up_to_high() -> None:
    r = risk.assess_risk({"user_impact": "many", "complexity": "high", "backout": "no",
                         "tested": False, "done_before": "no"}, people=6000, services=3,
                        lead_working_days=1)
    assert r.level == "high"
    assert r.score == 2 + 2 + 2 + 1 + 1 + 2 + 1 + 2
    assert "touches services with 6,000 users" in r.reasons
    assert "less than 2 working days' lead time" in r.reasons
    assert "cannot be backed out" in r.reasons


@pytest.mark.parametrize(("answers", "people", "lead", "level"), [
    ({"user_impact": "none", "complexity": "low"}, 0, 10, "low"),
    ({"user_impact": "none", "complexity": "low"}, 600, 3, "low"),  # 1 + 1 = 2
    ({}, 600, 3, "medium"),  # 1 + 1 + 1 + 1 = 4
    ({"backout": False, "tested": False}, 0, 10, "medium"),  # 2 + 2 + 1 = 5
    ({"backout": False, "tested": False}, 500, 10, "high"),  # 6
])
def test_risk_thresholds(answers, people, lead, level) -> None:
    assert risk.assess_risk(answers, people=people, lead_working_days=lead).level == level


def test_risk_emergency_and_standard() -> None:
    assert "emergency change" in risk.assess_risk({}, change_type="emergency").reasons
    assert risk.assess_risk({"backout": False}, change_type="standard").level == "low"


def test_risk_answers_are_checked() -> None:
    with pytest.raises(InvalidInput, match="unknown risk question 'colour'"):
        risk.assess_risk({"colour": "red"})
    with pytest.raises(InvalidInput, match="complexity='huge'"):
        risk.check_answers({"complexity": "huge"})


# --- the state machine -------------------------------------------------------------------

def test_normal_change_lifecycle(cw, backend) -> None:
    number = new(cw)
    status, risk, reasons = submit(cw, number)
    assert status == "awaiting_cab"
    assert risk in ("low", "medium", "high") and reasons
    # 3 working days' lead time (Tue, Wed, Thu) -> +1
    assert "less than 5 working days' lead time" in reasons
    with cw.db.session() as s:
        with pytest.raises(TransitionNotAllowed, match="waiting for the CAB's decision"):
            lifecycle.schedule_change(s, actor(cw, "lars"), number, now=NOW)
    from pob_tui.services import cab
    with cw.db.session() as s:
        cab.decide(s, actor(cw, "carl"), number, "approve", conditions="tell the desk",
                   now=NOW)
    with cw.db.session() as s:
        lifecycle.schedule_change(s, actor(cw, "lars"), number, now=NOW)
        lifecycle.start_change(s, actor(cw, "lars"), number, now=NOW + timedelta(days=3))
        lifecycle.record_outcome(s, actor(cw, "lars"), number, "successful",
                           now=NOW + timedelta(days=3, hours=1))
        ch = lifecycle.close_change(s, actor(cw, "carl"), number, now=NOW + timedelta(days=4))
        assert ch.status == "closed" and ch.outcome == "successful"
    with cw.db.session() as s:
        kinds = s.execute(select(TicketEvent.new_value).where(
            TicketEvent.ticket_type == "change", TicketEvent.field == "status")
            .order_by(TicketEvent.id)).scalars().all()
    assert kinds == ["submitted", "assessed", "awaiting_cab", "approved", "scheduled",
                     "in_progress", "implemented", "closed"]


def test_failed_change_needs_review(cw, backend) -> None:
    number = new(cw, type="standard", template="Printer toner", cis=[])
    assert submit(cw, number)[0] == "approved"  # standard: skips the CAB
    with cw.db.session() as s:
        assert s.execute(select(func.count()).select_from(CabAgendaItem)).scalar_one() == 0
        lifecycle.record_outcome(s, actor(cw, "lars"), number, "failed", now=NOW)
    with cw.db.session() as s:
        with pytest.raises(TransitionNotAllowed, match="review is required"):
            lifecycle.close_change(s, actor(cw, "carl"), number, now=NOW)
    with cw.db.session() as s:
        with pytest.raises(InvalidInput, match="needs a note"):
            lifecycle.review_change(s, actor(cw, "carl"), number, " ")
    with cw.db.session() as s:
        lifecycle.review_change(s, actor(cw, "carl"), number, "root cause found", now=NOW)
        assert lifecycle.close_change(s, actor(cw, "carl"), number, now=NOW).status == "closed"


def test_emergency_change_goes_to_an_emergency_cab_and_needs_review(cw, backend) -> None:
    number = new(cw, type="emergency", planned_start="2026-11-23 09:00",
                 planned_end="2026-11-23 10:00")
    with cw.db.session() as s:
        with pytest.raises(InvalidInput, match="needs a recorded reason"):
            lifecycle.submit_change(s, actor(cw, "lars"), number, now=NOW)
    with cw.db.session() as s:
        lifecycle.update_change(s, actor(cw, "lars"), number,
                          fields={"emergency_reason": "security hole"}, now=NOW)
    status, _risk, reasons = submit(cw, number)
    assert status == "awaiting_cab" and "emergency change" in reasons
    with cw.db.session() as s:
        mt = s.execute(select(CabMeeting)).scalars().one()
        assert mt.kind == "emergency" and mt.starts_at == NOW
        from pob_tui.services import cab
        cab.decide(s, actor(cw, "carl"), number, "approve", now=NOW)
        lifecycle.start_change(s, actor(cw, "lars"), number, now=NOW)
        lifecycle.record_outcome(s, actor(cw, "lars"), number, "successful", now=NOW)
        with pytest.raises(TransitionNotAllowed, match="emergency change"):
            lifecycle.close_change(s, actor(cw, "carl"), number, now=NOW)


@pytest.mark.parametrize(("kw", "needle"), [
    ({"title": " "}, "title is required"),
    ({"type": "urgent"}, "unknown change type 'urgent'"),
    ({"cis": ["nope"]}, "unknown configuration item 'nope'"),
    ({"planned_end": "2026-11-26 17:00"}, "end must be after"),
    ({"planned_start": "tomorrow"}, "not a time like"),
    ({"type": "standard"}, "needs a pre-approved template"),
    ({"template": "Printer toner"}, "only standard changes"),
    ({"answers": {"tested": "maybe"}}, "tested='maybe'"),
])
def test_bad_input_writes_nothing(cw, backend, kw, needle) -> None:
    with pytest.raises(InvalidInput, match=needle):
        new(cw, **kw)
    with cw.db.session() as s:
        assert s.execute(select(func.count()).select_from(ChangeRequest)).scalar_one() == 0


def test_submit_checks(cw, backend) -> None:
    number = new(cw, cis=[], planned_start=None, planned_end=None)
    with cw.db.session() as s:
        with pytest.raises(InvalidInput, match="needs a planned start and end"):
            lifecycle.submit_change(s, actor(cw, "lars"), number, now=NOW)
    number = new(cw, cis=[])
    with cw.db.session() as s:
        with pytest.raises(InvalidInput, match="at least one affected CI"):
            lifecycle.submit_change(s, actor(cw, "lars"), number, now=NOW)
    number = new(cw, planned_start="2026-11-24 08:00", planned_end="2026-11-24 09:00")
    with cw.db.session() as s:
        with pytest.raises(InvalidInput, match="before the CAB that can approve it"):
            lifecycle.submit_change(s, actor(cw, "lars"), number, now=NOW)
    with cw.db.session() as s:
        assert s.execute(select(ChangeRequest.status)).scalars().all() == ["draft"] * 3
    with cw.db.session() as s, pytest.raises(TransitionNotAllowed, match="it is a draft"):
        lifecycle.record_outcome(s, actor(cw, "lars"), number, "failed", now=NOW)


def test_permissions(cw, backend) -> None:
    with pytest.raises(PermissionDenied, match=r"change\.request needs"):
        _deny(cw)


def _deny(cw):
    with cw.db.session() as s:
        from pob_tui.services.identity import Actor
        lifecycle.create_change(
            s, Actor(username="x", agent_id=1, roles=frozenset({"customer_manager"})),
            lifecycle.NewChange(title="t"), now=NOW)


# --- freeze windows ----------------------------------------------------------------------

def test_freeze_refuses_all_but_emergencies_with_a_reason(cw, backend) -> None:
    settings = Settings(freeze=(ConfigFreeze("Election", date(2026, 11, 26), date(2026, 11, 26)),))
    number = new(cw)
    with cw.db.session() as s:
        with pytest.raises(TransitionNotAllowed, match="freeze 'Election'"):
            lifecycle.submit_change(s, actor(cw, "lars"), number, now=NOW, settings=settings)
    with cw.db.session() as s:
        s.add(FreezeWindow(name="School start", starts_at=datetime(2026, 11, 26, tzinfo=UTC),
                           ends_at=datetime(2026, 11, 27, tzinfo=UTC)))
    with cw.db.session() as s:
        with pytest.raises(TransitionNotAllowed, match="freeze 'School start'"):
            lifecycle.submit_change(s, actor(cw, "lars"), number, now=NOW)
    em = new(cw, type="emergency", emergency_reason="outage")
    assert submit(cw, em, settings=settings)[0] == "awaiting_cab"


# --- impact analysis ---------------------------------------------------------------------

def ids(s, *names):
    return [s.execute(select(ConfigItem.id).where(ConfigItem.name == n)).scalar_one()
            for n in names]


def test_impact_walks_dependencies_to_services_and_people(cw, backend) -> None:
    with cw.db.session() as s:
        imp = impact.analyse_impact(s, ids(s, "san-01"), date(2026, 11, 26))
        assert sorted(imp.ci_names) == ["app-visma", "san-01", "srv-01"]
        assert imp.service_names == ["Visma"]
        # the sector subscribes: Mona in the sector, Kari and the mayor in its child unit
        assert imp.counts() == {"cis": 3, "services": 1, "people": 3, "locations": 1}
        assert [u.name for u in imp.org_units] == ["Oppvekst"]
        # a change on the app does not reach the server it runs on
        assert sorted(impact.analyse_impact(s, ids(s, "app-visma")).ci_names) == ["app-visma"]
        # connects_to both ways: a switch reaches its PCs; a PC reaches its switch only
        assert sorted(impact.analyse_impact(s, ids(s, "sw-01")).ci_names) == ["pc-01", "pc-02",
                                                                     "sw-01"]
        assert sorted(impact.analyse_impact(s, ids(s, "pc-01")).ci_names) == ["pc-01", "sw-01"]
        # depth is capped
        assert sorted(impact.analyse_impact(s, ids(s, "san-01"), depth=1).ci_names) == ["san-01",
                                                                                "srv-01"]
        # subscriptions out of their validity do not count
        assert impact.analyse_impact(s, ids(s, "app-visma"), date(2019, 1, 1)).people == 0


def test_impact_is_fast_on_the_demo(demo_db, backend) -> None:
    import time

    with demo_db.session() as s:
        core = ids(s, "core-rt-01")
        t = time.perf_counter()
        imp = impact.analyse_impact(s, core)
        elapsed = time.perf_counter() - t
    assert imp.counts()["cis"] > 100 and imp.people > 0
    assert elapsed < 2.0


# --- conflicts and the calendar ----------------------------------------------------------

def test_conflicts(cw, backend) -> None:
    a = new(cw, title="A")  # app-visma, Thu 18-20, lars
    same_ci = new(cw, title="B", planned_start="2026-11-26 19:00", planned_end="2026-11-26 21:00",
                  implementer="anne")
    dependent = new(cw, title="C", cis=["srv-01"], implementer="anne")
    service = new(cw, title="D", cis=["db-01"], implementer="anne")  # app depends on db
    later = new(cw, title="E", planned_start="2026-11-26 20:00", planned_end="2026-11-26 21:00")
    busy = new(cw, title="F", cis=["lonely"])  # lars again
    for n in (a, same_ci, dependent, service, later, busy):
        submit(cw, n)
    with cw.db.session() as s:
        found = conflicts.find_conflicts(s, records.get_change(s, a))
    kinds = {(c["number"], c["kind"]) for c in found}
    assert (same_ci, "same_ci") in kinds
    assert (dependent, "dependent_ci") in kinds
    assert (service, "dependent_ci") in kinds or (service, "same_service") in kinds
    assert (busy, "implementer") in kinds
    assert not any(c["number"] == later for c in found)
    with cw.db.session() as s:
        week = queries.change_calendar(s, date(2026, 11, 25))
    assert [r["number"] for r in week][:1] == [a]
    assert {r["number"] for r in week} == {a, same_ci, dependent, service, later, busy}
    assert next(r for r in week if r["number"] == a)["conflicts"]


def _calendar_statements(world, week: date) -> tuple[list, int]:
    """The week's calendar and how many SQL statements it took."""
    from sqlalchemy import event

    count = 0

    def remember(*_args) -> None:  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1

    with world.db.session() as s:
        s.execute(select(1))  # the session's own setup is not the calendar's
        event.listen(world.db.engine, "before_cursor_execute", remember)
        try:
            rows = queries.change_calendar(s, week)
        finally:
            event.remove(world.db.engine, "before_cursor_execute", remember)
    return rows, count


def test_calendar_reads_a_week_in_a_fixed_number_of_queries(cw, backend) -> None:
    """The calendar's conflicts are `find_conflicts` for each live change, and twice the
    changes take no more statements (no query per row)."""
    numbers = [new(cw, title=f"A{i}", planned_start=f"2026-11-26 {10 + i}:00",
                   planned_end=f"2026-11-26 {12 + i}:00", cis=[ci])
               for i, ci in enumerate(("app-visma", "srv-01", "db-01"))]
    for n in numbers:
        submit(cw, n)
    week, few = _calendar_statements(cw, date(2026, 11, 25))
    with cw.db.session() as s:
        for row in week:
            assert row["conflicts"] == conflicts.find_conflicts(
                s, records.get_change(s, row["number"])), row["number"]
    assert any(row["conflicts"] for row in week)
    more = [new(cw, title=f"B{i}", planned_start=f"2026-11-27 {10 + i}:00",
                planned_end=f"2026-11-27 {11 + i}:00", cis=[ci])
            for i, ci in enumerate(("san-01", "pc-01", "sw-01"))]
    for n in more:
        submit(cw, n)
    week, many = _calendar_statements(cw, date(2026, 11, 25))
    assert len(week) == 6
    assert 0 < many <= few


def test_link_incident_writes_both_audits(cw, backend) -> None:
    number = new(cw)
    with cw.db.session() as s:
        inc = Incident(number="INC-000009", caller_id=cw.kari_id, summary="Visma down",
                       priority=2, impact=2, urgency=2, status="new")
        s.add(inc)
    with cw.db.session() as s:
        lifecycle.link_incident(s, actor(cw, "anne"), number, "inc-000009", now=NOW)
    with cw.db.session() as s:
        inc = s.execute(select(Incident)).scalars().one()
        assert inc.caused_by_change_id == records.get_change(s, number).id
        ev = s.execute(select(TicketEvent).where(TicketEvent.ticket_type == "incident")
                       ).scalars().one()
        assert ev.kind == "link" and number in ev.comment
        detail = queries.change_detail(s, number)
        assert detail["incidents"] == ["INC-000009"]


def test_success_rate(cw, backend) -> None:
    from pob_tui.reports.cab import change_success_rate

    for outcome in ("successful", "successful", "successful", "failed"):
        n = new(cw, type="standard", template="Printer toner", cis=[])
        submit(cw, n)
        with cw.db.session() as s:
            lifecycle.record_outcome(s, actor(cw, "lars"), n, outcome, now=NOW + timedelta(hours=1))
    with cw.db.session() as s:
        rate = change_success_rate(s, NOW, NOW + timedelta(days=1))
        assert rate == {"total": 4, "successful": 3, "failed": 1, "backed_out": 0,
                        "rate": 0.75}
        assert change_success_rate(s, NOW - timedelta(days=9), NOW)["rate"] is None


def test_drafts_see_their_conflicts_before_submitting(cw, backend) -> None:
    """Issue 13 item 7: the detail of a draft and a window still being typed show what they
    would clash with; nothing is written by the check."""
    a = new(cw, title="A")  # app-visma, Thu 18-20, lars
    submit(cw, a)
    draft = new(cw, title="B", implementer="anne")  # same CI and window, still a draft
    with cw.db.session() as s:
        detail = queries.change_detail(s, draft)
    assert detail["status"] == "draft"
    assert [(c["number"], c["kind"]) for c in detail["conflicts"]] == [(a, "same_ci")]
    with cw.db.session() as s:
        s.add(FreezeWindow(name="School start", starts_at=datetime(2026, 11, 26, tzinfo=UTC),
                           ends_at=datetime(2026, 11, 27, tzinfo=UTC)))
    with cw.db.session() as s:
        before = s.execute(select(func.count()).select_from(ChangeRequest)).scalar_one()
        out = conflicts.window_conflicts(s, actor(cw, "lars"), "2026-11-26 19:00",
                                   "2026-11-26 21:00", ["app-visma"])
        after = s.execute(select(func.count()).select_from(ChangeRequest)).scalar_one()
    assert before == after
    assert {(c["number"], c["kind"]) for c in out["conflicts"]} == {(a, "same_ci"),
                                                                    (a, "implementer")}
    assert out["freeze"] == ["School start"] and out["problem"] is None
    with cw.db.session() as s:
        bad = conflicts.window_conflicts(s, actor(cw, "lars"), "2026-11-26 21:00",
                                   "2026-11-26 19:00", [])
        half = conflicts.window_conflicts(s, actor(cw, "lars"), "2026-11-26 19:00", None, [])
    assert bad["conflicts"] == [] and "after the planned start" in bad["problem"]
    assert half["conflicts"] == [] and half["freeze"] == []


@pytest.mark.parametrize("call", ["submit", "update", "schedule", "outcome"])
def test_change_actions_refuse_a_stale_version(cw, backend, call) -> None:
    from pob_tui.errors import ConflictError

    number = new(cw)
    with cw.db.session() as s:
        ch = records.get_change(s, number)
        if call == "schedule":
            ch.status = "approved"
        elif call == "outcome":
            ch.status = "in_progress"
        seen = ch.version
        ch.version += 1  # someone saved meanwhile
    who = actor(cw, "lars")
    with cw.db.session() as s:
        with pytest.raises(ConflictError, match="changed by someone else"):
            if call == "submit":
                lifecycle.submit_change(s, who, number, now=NOW, expected_version=seen)
            elif call == "update":
                lifecycle.update_change(s, who, number, fields={"title": "x"}, now=NOW,
                                  expected_version=seen)
            elif call == "schedule":
                lifecycle.schedule_change(s, who, number, now=NOW, expected_version=seen)
            else:
                lifecycle.record_outcome(s, who, number, "successful", now=NOW,
                                   expected_version=seen)
    with cw.db.session() as s:
        ch = records.get_change(s, number)
        assert ch.title == "Upgrade Visma" and ch.status in ("draft", "approved", "in_progress")
        assert ch.version == seen + 1


def test_marking_a_service_retiring_drafts_its_change(cw) -> None:
    """The catalog's retirement drafts the change through lifecycle.create_change, with the
    service's CIs (it once looked the function up by name and gave up quietly)."""
    from pob_tui.services.catalog import mark_retiring

    with cw.db.session() as s:
        add_agent(s, "sofie", ["service_owner"])
    with cw.db.session() as s:
        result = mark_retiring(s, actor(cw, "sofie"), "VISMA", now=NOW)
    assert result["change"] is not None and result["change_note"] is None
    with cw.db.session() as s:
        detail = queries.change_detail(s, result["change"], with_impact=False)
    assert detail["status"] == "draft" and detail["cis"] == ["app-visma"]
    assert detail["title"] == "Retire VISMA Visma"
