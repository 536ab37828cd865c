"""SLA and OLA clocks on incidents, worked out by hand on the office calendar
(Mon-Fri 08:00-15:45 Europe/Oslo, 465 minutes a day).

Default agreement, P4: response 240 min, resolution 930 min (two office days).
Oppvekst's agreement for M365, P4: resolution 600 min. Nettverk's OLA, P4: 465 min.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pob_tui.models import (
    Agreement,
    AgreementService,
    Notification,
    OlaTarget,
    OrgUnit,
    Service,
    SlaClock,
    SlaTarget,
    Team,
)
from pob_tui.services import incidents as svc
from pob_tui.services import sla
from tests.factories import office_agreement

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@pytest.fixture
def sla_world(world):
    with world.db.session() as s:
        cal, _default = office_agreement(s, {1: (15, 240), 2: (30, 465), 3: (60, 465),
                                             4: (240, 930), 5: (480, 2325)})
        opp = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP")).scalar()
        m365 = s.execute(select(Service.id).where(Service.code == "M365")).scalar()
        special = Agreement(name="Oppvekst M365", customer_id=opp, calendar_id=cal.id)
        s.add(special)
        s.flush()
        s.add(AgreementService(agreement_id=special.id, service_id=m365))
        s.add(SlaTarget(agreement_id=special.id, priority=4, response_minutes=240,
                        resolution_minutes=600))
        net = s.execute(select(Team).where(Team.code == "NETT")).scalars().one()
        s.add(OlaTarget(team_id=net.id, priority=4, response_minutes=60,
                        resolution_minutes=465))
        net.lead_agent_id = world.lars.agent_id
    return world


def log(world, at: datetime, **kw):
    data = dict(caller="kari.n", service="PRINT", summary="Skriveren virker ikke",
                urgency=2)
    data.update(kw)
    with world.db.session() as s:
        return svc.create_incident(s, world.anne, svc.NewIncident(**data), now=at)


def clocks(world, number):
    with world.db.session() as s:
        inc = svc.get_incident(s, number)
        return {(c.kind, c.team_id): c for c in s.execute(
            select(SlaClock).where(SlaClock.incident_id == inc.id)).scalars()}, inc


def test_due_times_from_the_default_agreement(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))  # Monday 14:00, P4 (PRINT, urgency 2)
    assert inc.priority == 4
    # response 240: Mon 105 min, Tue 08:00 + 135 -> 10:15
    assert inc.response_due_at == oslo(2026, 11, 24, 10, 15)
    # resolution 930: Mon 105 + Tue 465 = 570, Wed 08:00 + 360 -> 14:00
    assert inc.resolution_due_at == oslo(2026, 11, 25, 14, 0)


def test_most_specific_agreement_wins(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0), service="M365")
    # Oppvekst + M365, 600 min: Mon 105 + Tue 465 = 570, Wed 08:00 + 30 -> 08:30
    assert inc.resolution_due_at == oslo(2026, 11, 25, 8, 30)
    with sla_world.db.session() as s:
        assert sla.terms_for(s, svc.get_incident(s, inc.number)).agreement == "Oppvekst M365"


def test_waiting_pauses_the_clock(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))
    with sla_world.db.session() as s:
        svc.set_status(s, sla_world.anne, inc.number, "waiting_caller",
                       now=oslo(2026, 11, 24, 9, 0))
    with sla_world.db.session() as s:
        moved = svc.set_status(s, sla_world.anne, inc.number, "in_progress",
                               now=oslo(2026, 11, 24, 11, 0))
    # two business hours paused: Wed 14:00 + 2 h -> Wed 15:45 (105) + Thu 08:00 + 15 -> 08:15
    assert moved.resolution_due_at == oslo(2026, 11, 26, 8, 15)


def test_pause_over_a_weekend_counts_only_business_time(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))
    with sla_world.db.session() as s:
        svc.set_status(s, sla_world.anne, inc.number, "waiting_supplier",
                       now=oslo(2026, 11, 27, 15, 0))  # Friday 15:00
    with sla_world.db.session() as s:
        back = svc.set_status(s, sla_world.anne, inc.number, "in_progress",
                              now=oslo(2026, 11, 30, 9, 0))  # Monday 09:00
    # The deadline (Wed 14:00) had passed before the pause: the pause does not move it.
    assert back.resolution_due_at == oslo(2026, 11, 25, 14, 0)


def test_priority_change_recomputes_from_the_opening(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))
    with sla_world.db.session() as s:
        up = svc.update_fields(s, sla_world.anne, inc.number, {"urgency": 1},
                               now=oslo(2026, 11, 24, 9, 0))
    assert up.priority == 3
    # P3 resolution 465 from Monday 14:00: 105 Mon + 360 Tue -> Tue 14:00
    assert up.resolution_due_at == oslo(2026, 11, 24, 14, 0)


def test_ola_clock_starts_when_the_team_gets_the_ticket(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))
    with sla_world.db.session() as s:
        svc.escalate(s, sla_world.anne, inc.number, team="NETT", reason="Nettverksfeil",
                     now=oslo(2026, 11, 24, 10, 0))
    found, inc = clocks(sla_world, inc.number)
    ola = found[("ola", inc.team_id)]
    assert ola.started_at == oslo(2026, 11, 24, 10, 0)
    assert ola.due_at == oslo(2026, 11, 25, 10, 0)  # 465 business minutes later
    # The customer's clock still runs from the call.
    assert found[("resolution", None)].due_at == oslo(2026, 11, 25, 14, 0)


def test_met_is_stored_when_the_clock_stops(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))
    with sla_world.db.session() as s:
        svc.assign(s, sla_world.anne, inc.number, to_me=True, now=oslo(2026, 11, 23, 14, 5))
        svc.resolve(s, sla_world.anne, inc.number, code="solved", note="Papir",
                    now=oslo(2026, 11, 24, 9, 0))
    found, _ = clocks(sla_world, inc.number)
    assert found[("response", None)].met is True
    assert found[("response", None)].stopped_at == oslo(2026, 11, 23, 14, 5)
    assert found[("resolution", None)].met is True


def test_breach_check_does_nothing_at_night_then_escalates_in_the_morning(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))  # resolution due Wed 14:00
    with sla_world.db.session() as s:
        assert sla.check_breaches(s, now=oslo(2026, 11, 25, 22, 0)) == {"breached": 0,
                                                                         "warned": 0}
    with sla_world.db.session() as s:
        result = sla.check_breaches(s, now=oslo(2026, 11, 26, 8, 30))
        assert result["breached"] == 2  # response and resolution
    with sla_world.db.session() as s:
        again = svc.get_incident(s, inc.number)
        assert again.escalation_level == 2
        assert s.execute(select(Notification)).scalars().first() is not None
        assert sla.check_breaches(s, now=oslo(2026, 11, 26, 9, 0))["breached"] == 0


def test_christmas_closing_days_and_holidays_are_skipped(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 12, 23, 15, 0), urgency=1)  # P3, 465 min
    # Wed 23 Dec: 45 min; 24 Dec closing day; 25 Dec holiday; weekend; Mon 28 08:00 + 420
    assert inc.resolution_due_at == oslo(2026, 12, 28, 15, 0)


def test_explain_lists_segments_in_local_time(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 12, 23, 15, 0), urgency=1)
    with sla_world.db.session() as s:
        info = sla.explain(s, svc.get_incident(s, inc.number), now=oslo(2026, 12, 23, 15, 30))
    kinds = [(seg["kind"], seg["label"]) for seg in info["segments"]]
    assert ("holiday", "closing day") in kinds
    assert any(k == "holiday" and "Christmas Day" in label for k, label in kinds)
    opens = [seg for seg in info["segments"] if seg["kind"] == "open"]
    total = sum(((seg["end"] - seg["start"]).total_seconds() for seg in opens), 0.0)
    assert total == 465 * 60


def test_queue_rows_get_time_left_and_state(sla_world) -> None:
    inc = log(sla_world, oslo(2026, 11, 23, 14, 0))
    with sla_world.db.session() as s:
        rows = svc.list_incidents(s, view="open")
        sla.time_left(s, rows, now=oslo(2026, 11, 25, 13, 0))
        assert rows[0]["number"] == inc.number
        assert rows[0]["sla_left"].total_seconds() == 3600
        assert rows[0]["sla_state"] == "at_risk"
        sla.time_left(s, rows, now=oslo(2026, 11, 26, 9, 0))
        assert rows[0]["sla_state"] == "breached"
        assert rows[0]["sla_left"].total_seconds() == -(105 + 60) * 60


def test_compliance_report_and_cli(sla_world, db_url, capsys) -> None:
    from pob_tui.cli import main
    from pob_tui.reports.sla import sla_compliance

    met = log(sla_world, oslo(2026, 11, 23, 9, 0))
    missed = log(sla_world, oslo(2026, 11, 23, 9, 0), service="M365")
    with sla_world.db.session() as s:
        svc.resolve(s, sla_world.anne, met.number, code="solved", note="ok",
                    now=oslo(2026, 11, 23, 10, 0))
        svc.resolve(s, sla_world.anne, missed.number, code="solved", note="sent",
                    now=oslo(2026, 11, 30, 10, 0))
    with sla_world.db.session() as s:
        rows = sla_compliance(s, start=oslo(2026, 11, 1), end=oslo(2026, 12, 1),
                              by="service", now=oslo(2026, 12, 1))
    res = {(r["service"], r["target"]): r for r in rows}
    assert res[("Utskrift", "resolution")]["share_met"] == 1.0
    assert res[("Microsoft 365", "resolution")]["share_met"] == 0.0
    with sla_world.db.session() as s:
        rows = sla_compliance(s, start=oslo(2026, 11, 1), end=oslo(2026, 12, 1),
                              by="priority", now=oslo(2026, 12, 1))
    assert {r["priority"] for r in rows} == {"P4"}
    # each grouping joins only what it reads: all of them count the same clocks
    totals = {}
    with sla_world.db.session() as s:
        for by in ("service", "customer", "priority"):
            per: dict[str, tuple[int, int]] = {}
            for r in sla_compliance(s, start=oslo(2026, 11, 1), end=oslo(2026, 12, 1),
                                    by=by, now=oslo(2026, 12, 1)):
                met_n, total_n = per.get(r["target"], (0, 0))
                per[r["target"]] = (met_n + r["met"], total_n + r["total"])
            totals[by] = per
    assert totals["service"] == totals["customer"] == totals["priority"]
    assert totals["priority"]["resolution"] == (1, 2)
    code = main(["--db", db_url, "report", "sla", "--from", "2026-11-01", "--to",
                 "2026-11-30", "--by", "customer", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = __import__("json").loads(out)
    assert {r["target"] for r in data} == {"response", "resolution"}
    assert all(r["customer"] == "Hosle skole" for r in data)
    assert main(["--db", db_url, "report", "sla", "--by", "weather"]) == 2
    capsys.readouterr()
    code = main(["--db", db_url, "sla", "check", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0 and set(__import__("json").loads(out)) == {"breached", "warned"}
