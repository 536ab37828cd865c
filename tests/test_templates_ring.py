"""Issue 13 items 12 and 13: quick-call templates (service, CLI, CSV) and the phone ring
(service and CLI), on both databases."""

from __future__ import annotations

import io
import json

import pytest

from pob_tui.cli import main
from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, NotFound, PermissionDenied
from pob_tui.importers import csvio
from pob_tui.models import Agent, AgentRole, Person
from pob_tui.services import incidents as svc
from pob_tui.services import ring, templates
from pob_tui.services.identity import SYSTEM_ACTOR, login_name

SETTINGS = Settings()


@pytest.fixture
def admin_world(world, db_url):
    """The world; whoever runs the CLI is an administrator."""
    with world.db.session() as s:
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Ada", last_name="Admin")
        s.add(p)
        s.flush()
        agent = Agent(username=me, person_id=p.id)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="administrator"))
    return world, db_url, me


def pob(capsys, url, *argv):  # type: ignore[no-untyped-def]
    code = main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_template_cli_add_list_remove(admin_world, capsys, backend) -> None:
    world, url, _me = admin_world
    code, out, err = pob(capsys, url, "template", "add", "Passord utløpt", "--service", "M365",
                         "--summary", "Passordet er utløpt", "--impact", "3", "--urgency", "2",
                         "--code", "solved", "--resolution", "Passord tilbakestilt")
    assert code == 0, err
    code, out, err = pob(capsys, url, "template", "add", "Skriver", "--service", "PRINT",
                         "--summary", "Skriveren skriver ikke")
    assert code == 0, err
    code, out, _ = pob(capsys, url, "template", "list", "--format", "json")
    rows = json.loads(out)
    assert rows == [
        {"name": "Passord utløpt", "service": "M365", "summary": "Passordet er utløpt",
         "impact": 3, "urgency": 2, "code": "solved", "resolution": "Passord tilbakestilt"},
        {"name": "Skriver", "service": "PRINT", "summary": "Skriveren skriver ikke",
         "impact": None, "urgency": None, "code": None, "resolution": None}]
    code, out, err = pob(capsys, url, "template", "add", "X", "--service", "M365",
                         "--summary", "x", "--code", "nonsense")
    assert code == 2 and "unknown resolution code" in err
    code, out, err = pob(capsys, url, "template", "remove", "Skriver")
    assert code == 0, err
    code, out, _ = pob(capsys, url, "template", "list", "--format", "json")
    assert [r["name"] for r in json.loads(out)] == ["Passord utløpt"]
    with world.db.session() as s, pytest.raises(PermissionDenied):
        templates.add_template(s, world.anne, "Nope", service="M365", summary="x")


def test_templates_csv_round_trip(world, backend) -> None:
    data = ("name,service,summary,impact,urgency,code,resolution\n"
            "Konto låst,M365,Kontoen er låst,3,2,solved,Låst opp\n"
            "Toner,PRINT,Toner tom,,,,\n")
    with world.db.session() as s:
        result = csvio.import_csv(s, "templates", data)
        assert result.created == 2
    with world.db.session() as s:
        out = io.StringIO()
        csvio.export_csv(s, "templates", out)
        assert out.getvalue() == data
        assert templates.get_template(s, "konto låst").code == "solved"
        with pytest.raises(csvio.ImportFailed, match="code"):
            csvio.import_csv(s, "templates", "name,service,summary,code\nA,M365,a,bogus\n")


def test_ring_finds_the_caller_and_only_that_agents_pob_takes_it(world, backend) -> None:
    with world.db.session() as s:
        svc.create_incident(s, world.anne, svc.NewIncident(caller="kari.n", summary="Treg PC"))
    with world.db.session() as s:
        result = ring.ring(s, SYSTEM_ACTOR, "anne", "0047 912 34 567", settings=SETTINGS,
                           wait=0)
    assert (result.agent, result.caller, result.taken) == ("anne", "kari.n", False)
    with world.db.session() as s:
        assert ring.claim(s, world.lars.agent_id, result.ring_id) is None  # not lars's
    with world.db.session() as s:
        call = ring.claim(s, world.anne.agent_id, result.ring_id)
        assert call is not None and call.caller["username"] == "kari.n"
        assert [i["summary"] for i in call.context["open"]] == ["Treg PC"]
    with world.db.session() as s:  # a second pob of anne's does not open it again
        assert ring.claim(s, world.anne.agent_id, result.ring_id) is None
    with world.db.session() as s:
        unknown = ring.ring(s, SYSTEM_ACTOR, "anne", "+47 22 22 22 22", settings=SETTINGS,
                            wait=0)
        assert unknown.caller is None
    with world.db.session() as s, pytest.raises(PermissionDenied):
        ring.ring(s, world.anne, "anne", "91234567", settings=SETTINGS, wait=0)
    with world.db.session() as s, pytest.raises(NotFound):
        ring.ring(s, SYSTEM_ACTOR, "nobody", "91234567", settings=SETTINGS, wait=0)
    with world.db.session() as s, pytest.raises(InvalidInput):
        ring.ring(s, SYSTEM_ACTOR, "anne", " ", settings=SETTINGS, wait=0)


def test_ring_cli_exits_0_and_says_not_taken(admin_world, capsys, backend, tmp_path) -> None:
    world, url, _me = admin_world
    config = tmp_path / "pob.toml"  # no pob runs: the whole wait passes, so keep it short
    config.write_text("[phone]\nring_wait_seconds = 0.3\n", encoding="utf-8")
    code, out, err = pob(capsys, url, "--config", str(config), "call", "ringing", "--agent",
                         "anne", "--number", "+47 91 23 45 67")
    assert code == 0, err
    assert out.startswith("not taken: no running pob of anne took the call from "
                          "+47 91 23 45 67 (kari.n)")


def test_cli_incident_show_gives_sla_in_working_time(admin_world, capsys, backend) -> None:
    import re
    from datetime import timedelta

    from pob_tui.models import utcnow
    from tests.factories import office_agreement

    world, url, _me = admin_world
    with world.db.session() as s:
        office_agreement(s, {5: (480, 4650)})  # ten working days to resolve a P5
    with world.db.session() as s:
        svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="PRINT", summary="Toner", impact=3, urgency=3),
            now=utcnow() - timedelta(minutes=1))
    code, out, err = pob(capsys, url, "incident", "show", "INC-000001")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("SLA resolution"))
    assert re.fullmatch(r"SLA resolution: due \w{3} \d\d\.\d\d \d\d:\d\d, ok (9|10) wd( \d h)?",
                        line), line
