"""CMDB and outages: the services' rules and the CLI twins' JSON on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from pob_tui.cli import main
from pob_tui.errors import ConflictError, PermissionDenied
from pob_tui.models import (
    Agent,
    AgentRole,
    ConfigItem,
    Incident,
    Person,
    TicketEvent,
)
from pob_tui.services import cmdb, incidents, outages
from pob_tui.services.identity import login_name
from tests.test_impact import iw  # noqa: F401  (the fixture)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def pob(capsys, url, *argv):
    code = main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli(iw, db_url):  # noqa: F811
    """The CMDB world plus a second-line agent for whoever runs the CLI."""
    with iw.db.session() as s:
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Me", last_name="Myself")
        s.add(p)
        s.flush()
        team = s.execute(select(Agent.team_id).where(Agent.username == "lars")).scalar()
        agent = Agent(username=me, person_id=p.id, team_id=team)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="second_line"))
    return iw, db_url


def test_ci_cli_json(cli, capsys) -> None:
    world, url = cli
    code, out, err = pob(capsys, url, "ci", "new", "esx-host-08", "--class", "server",
                         "--location", "HOSLE", "--owner-team", "NETT", "--person", "kari.n",
                         "--serial", "SN-42")
    assert code == 0, err
    code, out, err = pob(capsys, url, "ci", "relate", "visma-app01", "runs_on", "esx-host-08")
    assert code == 0, err
    code, out, _ = pob(capsys, url, "ci", "list", "--search", "esx hosle", "--format", "json")
    assert json.loads(out) == [{"name": "esx-host-08", "class": "server", "status": "in_use",
                                "location": "HOSLE", "owner_team": "NETT",
                                "person": "kari.n", "serial": "SN-42"}]
    code, out, _ = pob(capsys, url, "ci", "list", "--class", "client", "--format", "json")
    assert sorted(r["name"] for r in json.loads(out)) == ["PC-KARI-01", "PC-LAB-17", "pc-01",
                                                          "pc-02"]
    code, out, _ = pob(capsys, url, "ci", "show", "visma-app01", "--format", "json")
    data = json.loads(out)
    assert data["relations"] == [
        {"kind": "runs_on", "direction": "out", "ci": "esx-host-07"},
        {"kind": "runs_on", "direction": "out", "ci": "esx-host-08"}]
    assert data["services"] == ["VISMA"] and data["open_incidents"] == []
    assert data["changes"] == [] and data["class"] == "application"
    assert set(data) == {"name", "class", "status", "location", "owner_team", "person",
                         "serial", "relations", "services", "open_incidents", "changes"}
    code, out, _ = pob(capsys, url, "ci", "show", "esx-host-08", "--format", "json")
    assert json.loads(out)["relations"] == [
        {"kind": "runs_on", "direction": "in", "ci": "visma-app01"}]
    code, out, _ = pob(capsys, url, "ci", "impact", "esx-host-08", "--format", "json")
    imp = json.loads(out)
    assert imp == {"ci": "esx-host-08", "cis": ["esx-host-08", "visma-app01"],
                   "services": ["VISMA"], "org_units": ["OPP"], "people": 4,
                   "locations": ["HOSLE"],
                   "paths": {"esx-host-08": ["esx-host-08"],
                             "visma-app01": ["visma-app01", "esx-host-08"],
                             "VISMA": ["visma-app01", "esx-host-08"]}}
    # retiring with a live dependant: refused (exit 4) naming it; --yes retires
    code, _, err = pob(capsys, url, "ci", "update", "esx-host-08", "--status", "retired")
    assert code == 4 and "visma-app01" in err
    code, out, err = pob(capsys, url, "ci", "update", "esx-host-08", "--status", "retired",
                         "--yes")
    assert code == 0, err
    code, out, err = pob(capsys, url, "ci", "unrelate", "visma-app01", "runs_on",
                         "esx-host-08")
    assert code == 0, err
    with world.db.session() as s:
        ci = s.execute(select(ConfigItem).where(ConfigItem.name == "esx-host-08")).scalar_one()
        kinds = [e.kind for e in s.execute(select(TicketEvent).where(
            TicketEvent.ticket_type == "ci", TicketEvent.ticket_id == ci.id)
            .order_by(TicketEvent.id)).scalars()]
    assert kinds == ["created", "related", "status", "unrelated"]


@pytest.mark.parametrize("argv", [
    ("ci", "new", "x1", "--class", "server", "--location", "NOWHERE"),
    ("ci", "new", "pc-01", "--class", "client"),
    ("ci", "new", "x2", "--class", "toaster"),
    ("ci", "relate", "pc-01", "runs_on", "pc-01"),
    ("ci", "relate", "pc-01", "runs_on", "nothing"),
    ("ci", "update", "pc-01", "--person", "nobody"),
    ("outage", "declare", "--ci", "nothing", "--summary", "x"),
    ("outage", "declare", "--ci", "san-02", "--summary", " "),
])
def test_bad_input_is_one_line_exit_2_nothing_written(cli, capsys, argv) -> None:
    world, url = cli
    with world.db.session() as s:
        before = (s.execute(select(func.count()).select_from(ConfigItem)).scalar(),
                  s.execute(select(func.count()).select_from(TicketEvent)).scalar(),
                  s.execute(select(func.count()).select_from(Incident)).scalar())
    code, out, err = pob(capsys, url, *argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    with world.db.session() as s:
        assert before == (s.execute(select(func.count()).select_from(ConfigItem)).scalar(),
                          s.execute(select(func.count()).select_from(TicketEvent)).scalar(),
                          s.execute(select(func.count()).select_from(Incident)).scalar())


def test_outage_cli_json(cli, capsys) -> None:
    world, url = cli
    with world.db.session() as s:
        svc = s.execute(select(incidents.Service.id).where(
            incidents.Service.code == "VISMA")).scalar_one()
        open_call = incidents.create_incident(s, world.anne, incidents.NewIncident(
            caller="kari.n", summary="Lønn svarer ikke", service=svc), now=NOW).number
    code, out, err = pob(capsys, url, "outage", "declare", "--ci", "san-02", "--summary",
                         "SAN nede", "--link-open")
    assert code == 0, err
    parent = out.splitlines()[0]
    assert parent.startswith("INC-") and open_call in out
    code, out, _ = pob(capsys, url, "outage", "list", "--format", "json")
    [row] = json.loads(out)
    assert row["number"] == parent and row["children"] == 1 and row["ci"] == "san-02"
    assert set(row) == {"number", "summary", "ci", "service", "children", "status",
                        "opened_at"}
    code, out, err = pob(capsys, url, "outage", "resolve", parent, "--note", "SAN byttet")
    assert code == 0, err
    with world.db.session() as s:
        child = incidents.get_incident(s, open_call)
        assert child.status == "resolved" and child.resolution_note == "SAN byttet"
    code, out, _ = pob(capsys, url, "outage", "list", "--format", "json")
    assert json.loads(out) == []


def test_roles(iw, backend) -> None:  # noqa: F811
    with iw.db.session() as s:
        with pytest.raises(PermissionDenied):  # first line reads, does not edit
            cmdb.create_ci(s, iw.anne, "x", cmdb.CiFields(ci_class="server"))
        with pytest.raises(PermissionDenied):
            outages.declare(s, iw.anne, ci="san-02", summary="x")
        assert cmdb.list_cis(s, search="san")[0].name == "san-02"


def test_outage_children_keep_their_own_clock_and_banner(iw, backend) -> None:  # noqa: F811
    from tests.factories import office_agreement

    with iw.db.session() as s:
        office_agreement(s, {1: (15, 240), 3: (60, 960), 5: (240, 4800)})
        parent = outages.declare(s, iw.lars, ci="san-02", summary="SAN nede", now=NOW)
        kari = s.execute(select(Person.id).where(Person.username == "kari.n")).scalar_one()
        anne_id = s.execute(select(Person.id).where(Person.username == "anne")).scalar_one()
        assert [o.number for o in outages.outages_for_caller(s, kari)] == [parent.number]
        assert outages.outages_for_caller(s, anne_id) == []  # not subscribed
        child = outages.log_child(s, iw.anne, parent.number, incidents.NewIncident(
            caller=kari, summary="Lønn virker ikke"), now=NOW)
        assert child.parent_id == parent.id and child.caller_id == kari
        assert parent.response_due_at is not None and child.response_due_at is not None
        assert child.response_due_at > parent.response_due_at  # P5 vs P1: own clock
        [row] = outages.list_outages(s)
        assert row.children == 1 and row.services == ("VISMA",)
        with pytest.raises(ConflictError.__mro__[1]):  # already linked: bad input
            outages.link_child(s, iw.anne, parent.number, child.number)
        done = outages.resolve(s, iw.lars, parent.number, note="Byttet kontroller", now=NOW)
        assert done == [child.number] and child.status == "resolved"
        assert child.resolved_at == NOW and child.resolution_note == "Byttet kontroller"


def test_open_incidents_on_the_outage_services_link_in_bulk(iw, backend) -> None:  # noqa: F811
    """An outage declared after the calls came in: one call links every open incident on
    its services as a child (not those already linked, closed ones or other services), and
    resolving the parent resolves them with its note."""
    with iw.db.session() as s:
        kari = s.execute(select(Person.id).where(Person.username == "kari.n")).scalar_one()
        early = [incidents.create_incident(s, iw.anne, incidents.NewIncident(
            caller=kari, service="VISMA", summary=f"Lønn {i}"), now=NOW) for i in range(3)]
        other = incidents.create_incident(s, iw.anne, incidents.NewIncident(
            caller=kari, summary="Skriver"), now=NOW)
        parent = outages.declare(s, iw.lars, ci="san-02", summary="SAN nede", now=NOW)
        linked = outages.link_open_on_services(s, iw.anne, parent.number, now=NOW)
        assert sorted(linked) == sorted(i.number for i in early)
        assert other.parent_id is None
        assert outages.link_open_on_services(s, iw.anne, parent.number, now=NOW) == []
        done = outages.resolve(s, iw.lars, parent.number, note="Byttet kontroller", now=NOW)
        assert sorted(done) == sorted(linked)
        assert {i.status for i in early} == {"resolved"} and other.status != "resolved"
