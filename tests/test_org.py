"""Org units, people and agreements (issue 18): services and the CLI twins, both databases.

Roles: administrators change everything; a customer manager changes the contact fields of
the people in their own units and nothing else; everyone else is refused, and every refusal
and every change is in the audit log. Parent cycles are refused naming the units. The JSON
keys of `pob unit|person|agreement` are contracts and are checked here as sets.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from pob_tui.cli import main
from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, NotFound, PermissionDenied
from pob_tui.models import (
    AdminEvent,
    Agent,
    AgentRole,
    Incident,
    Location,
    OrgUnit,
    Person,
    SlaClock,
    SlaTarget,
)
from pob_tui.services import agreements, people
from pob_tui.services import units as org_units
from pob_tui.services.identity import Actor, load_actor
from tests.factories import office_agreement, person

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
UNIT_KEYS = {"code", "name", "kind", "parent", "cost_centre", "customer_manager", "people",
             "active"}
PERSON_KEYS = {"username", "name", "org_unit", "location", "phone", "email", "vip", "active"}
AGREEMENT_KEYS = {"name", "customer", "services", "calendar"}


@pytest.fixture
def org(world):
    return build_org(world)


def build_org(world):
    """The world plus an administrator (ada), a customer manager agent for Oppvekst (mona,
    the sector's manager), a second sector with its own manager and a default agreement
    with one resolved incident whose resolution clock met its 8-hour target."""
    with world.db.session() as s:
        ada_p = person("ada", "Ada", "Admin")
        s.add(ada_p)
        helse = OrgUnit(code="HO", name="Helse og omsorg", kind="sector")
        s.add(helse)
        s.flush()
        other = person("hilde.h", "Hilde", "Helse", org_unit_id=helse.id)
        s.add(other)
        s.flush()
        ada = Agent(username="ada", person_id=ada_p.id)
        mona = Agent(username="mona", person_id=world.manager_id)
        s.add_all([ada, mona])
        s.flush()
        s.add_all([AgentRole(agent_id=ada.id, role="administrator"),
                   AgentRole(agent_id=mona.id, role="customer_manager")])
        cal, _agreement = office_agreement(s, {3: (60, 480)})
        opened = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
        resolved = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # two business hours later
        inc = Incident(number="INC-000001", caller_id=world.kari_id, summary="Skriver",
                       priority=3, status="resolved", opened_at=opened, resolved_at=resolved,
                       satisfaction=2, satisfaction_at=resolved)
        s.add(inc)
        s.flush()
        s.add(SlaClock(incident_id=inc.id, kind="resolution", calendar_id=cal.id,
                       target_minutes=480, started_at=opened,
                       due_at=datetime(2026, 11, 24, 7, 15, tzinfo=UTC), stopped_at=resolved,
                       met=True))
    with world.db.session() as s:
        return world, load_actor(s, "ada"), load_actor(s, "mona")


# --------------------------------------------------------------------------- units

def test_tree_rolls_up_and_flags_low_satisfaction(org) -> None:
    world, _ada, _mona = org
    with world.db.session() as s:
        rows = org_units.list_units(s, now=NOW)
    codes = [r.code for r in rows]
    assert codes == ["HO", "OPP", "OPP-HOS"]  # sectors by name, each followed by its units
    opp = next(r for r in rows if r.code == "OPP")
    hos = next(r for r in rows if r.code == "OPP-HOS")
    assert (hos.depth, hos.parent, opp.depth) == (1, "OPP", 0)
    assert opp.customer_manager == "mona.k"
    assert opp.people == 3 and hos.people == 2  # the sector counts its units' people
    assert hos.subscriptions == 1
    assert hos.satisfaction == 2 and hos.flagged and opp.flagged
    assert not next(r for r in rows if r.code == "HO").flagged  # no scores: not flagged
    assert set(hos.as_dict()) == UNIT_KEYS


def test_unit_detail_lists(org) -> None:
    world, _ada, _mona = org
    with world.db.session() as s:
        detail = org_units.unit_detail(s, "OPP-HOS", now=NOW)
    assert [p.username for p in detail.people] == ["kari.n", "ordforer"]
    assert [x.service for x in detail.subscriptions] == ["PRINT"]
    assert [u.code for u in detail.path] == ["OPP"]
    data = detail.as_dict()
    assert UNIT_KEYS | {"children", "agreements", "subscriptions", "open_incidents",
                        "satisfaction"} <= set(data)
    assert data["satisfaction"] == 2.0


def test_unit_update_is_audited_and_refused_for_others(org) -> None:
    world, ada, mona = org
    with world.db.session() as s:
        change = org_units.update_unit(s, ada, "OPP-HOS", now=NOW, name="Hosle skole og SFO",
                                       cost_centre="20010", customer_manager="hilde.h")
    assert [f for f, _o, _n in change.changes] == ["name", "cost_centre", "customer_manager"]
    assert change.unit.customer_manager == "hilde.h"
    for actor in (mona, world.anne):
        with pytest.raises(PermissionDenied), world.db.session() as s:
            org_units.update_unit(s, actor, "OPP-HOS", now=NOW, name="Nope")
    with world.db.session() as s:
        events = s.execute(select(AdminEvent).where(AdminEvent.action.in_(
            ("unit.update", "org.admin"))).order_by(AdminEvent.id)).scalars().all()
        assert s.execute(select(OrgUnit.name).where(OrgUnit.code == "OPP-HOS")).scalar() \
            == "Hosle skole og SFO"
    assert events[0].actor == "ada" and "Hosle skole og SFO" in (events[0].detail or "")
    assert [(e.actor, e.allowed) for e in events[1:]] == [("mona", False), ("anne", False)]


def test_parent_cycle_refused_naming_the_units(org) -> None:
    world, ada, _mona = org
    with pytest.raises(InvalidInput, match=r"OPP.*OPP-HOS.*OPP"), world.db.session() as s:
        org_units.update_unit(s, ada, "OPP", now=NOW, parent="OPP-HOS")
    with pytest.raises(InvalidInput, match="cycle"), world.db.session() as s:
        org_units.update_unit(s, ada, "OPP", now=NOW, parent="OPP")
    with world.db.session() as s:  # nothing was written
        assert s.execute(select(OrgUnit.parent_id).where(OrgUnit.code == "OPP")).scalar() \
            is None
        unit_id = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP")).scalar()
        child = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP-HOS")).scalar()
        with pytest.raises(InvalidInput, match="cycle"):
            org_units.check_no_cycle(s, unit_id, child)
        org_units.check_no_cycle(s, child, None)  # no parent: fine
        # A legal move: HO under OPP
        org_units.update_unit(s, ada, "HO", now=NOW, parent="OPP")


# --------------------------------------------------------------------------- people

def test_people_page_and_filter(org) -> None:
    world, _ada, _mona = org
    with world.db.session() as s:
        page = people.list_people(s, limit=3)
        assert len(page.rows) == 3 and page.has_more
        assert [r.username for r in people.list_people(s, search="+4791").rows] == ["kari.n"]
        assert [r.username for r in people.list_people(s, search="hosle kari").rows] \
            == ["kari.n"]  # unit name and first name together
        assert {r.username for r in people.list_people(s, unit="OPP").rows} \
            == {"kari.n", "ordforer", "mona.k"}  # the sector's units too
        assert people.list_people(s, search="100%_").rows == []  # wildcards are literal
        with pytest.raises(NotFound):
            people.list_people(s, unit="NOPE")


def test_card_open_incidents_first(org) -> None:
    world, _ada, _mona = org
    with world.db.session() as s:
        s.add(Incident(number="INC-000002", caller_id=world.kari_id, summary="Åpen sak",
                       priority=4, status="new",
                       opened_at=datetime(2026, 11, 1, 8, tzinfo=UTC)))
    with world.db.session() as s:
        card = people.person_card(s, Settings(), "kari.n", now=NOW)
    assert [i.number for i in card.incidents] == ["INC-000002", "INC-000001"]
    assert card.unit_path == ["Oppvekst", "Hosle skole"]
    assert [d.name for d in card.devices] == ["PC-KARI-01"]
    assert [(x.service, x.via) for x in card.subscriptions] == [("PRINT", "OPP-HOS")]
    data = card.as_dict()
    assert PERSON_KEYS | {"language", "devices", "subscriptions", "open_incidents"} <= set(data)
    assert [i["number"] for i in data["open_incidents"]] == ["INC-000002"]


def test_person_update_roles(org) -> None:
    world, ada, mona = org
    settings = Settings()
    with world.db.session() as s:  # the manager keeps contact fields in her units
        change = people.update_person(s, mona, settings, "kari.n", phone="+47 900 00 000")
    assert change.changes == [("phone", "+4791234567", "+47 900 00 000")]
    with world.db.session() as s:  # ... the search text follows
        assert [r.username for r in people.list_people(s, search="900 00").rows] == ["kari.n"]
    with pytest.raises(PermissionDenied), world.db.session() as s:
        people.update_person(s, mona, settings, "kari.n", vip=True)  # not a contact field
    with pytest.raises(PermissionDenied), world.db.session() as s:
        people.update_person(s, mona, settings, "hilde.h", phone="1")  # not her unit
    with pytest.raises(PermissionDenied), world.db.session() as s:
        people.update_person(s, world.anne, settings, "kari.n", phone="1")
    with pytest.raises(InvalidInput, match="e-mail"), world.db.session() as s:
        people.update_person(s, ada, settings, "kari.n", email="not an address")
    with world.db.session() as s:
        people.update_person(s, ada, settings, "kari.n", vip=True, active=False)
        row = s.execute(select(Person.phone, Person.vip, Person.active)
                        .where(Person.username == "kari.n")).one()
        events = s.execute(select(AdminEvent.actor, AdminEvent.action, AdminEvent.allowed)
                           .order_by(AdminEvent.id)).all()
    assert tuple(row) == ("+47 900 00 000", True, False)
    assert events[0] == ("mona", "person.update", True)
    assert [e[2] for e in events[1:4]] == [False, False, False]
    assert events[-1] == ("ada", "person.update", True)


def test_directory_owned_fields_and_unit_history(org) -> None:
    """With directory sync configured, a synced person's directory fields are shown as
    such and refused; pob's own fields (VIP) stay editable; the card lists the moves."""
    from datetime import date

    from pob_tui.models.directory import PersonUnitHistory

    world, ada, _mona = org
    synced = Settings(directory_url="ldaps://dc.example.invalid")
    with world.db.session() as s:
        kari = s.get(Person, world.kari_id)
        kari.directory_id = "guid-kari"
        sector = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP")).scalar()
        unit = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP-HOS")).scalar()
        s.add_all([PersonUnitHistory(person_id=world.kari_id, org_unit_id=sector,
                                     valid_from=None, valid_to=date(2026, 8, 31)),
                   PersonUnitHistory(person_id=world.kari_id, org_unit_id=unit,
                                     valid_from=date(2026, 9, 1), valid_to=None)])
    with world.db.session() as s:
        card = people.person_card(s, synced, "kari.n", now=NOW)
        assert {"phone", "email", "location", "org_unit", "active"} <= card.owned_fields
        assert "vip" not in card.owned_fields
        assert [(h.org_unit, h.valid_from, h.valid_to) for h in card.history] == [
            ("OPP-HOS", date(2026, 9, 1), None), ("OPP", None, date(2026, 8, 31))]
        assert people.person_card(s, Settings(), "kari.n", now=NOW).owned_fields \
            == frozenset()  # no sync configured: nothing is the directory's
        assert people.person_card(s, synced, "ordforer", now=NOW).owned_fields \
            == frozenset()  # not from the directory
    with pytest.raises(InvalidInput, match="directory"), world.db.session() as s:
        people.update_person(s, ada, synced, "kari.n", phone="1")
    with world.db.session() as s:
        people.update_person(s, ada, synced, "kari.n", vip=True)  # pob's own field
        people.update_person(s, ada, Settings(), "kari.n", phone="1")  # sync not configured


# --------------------------------------------------------------------------- agreements

def test_agreement_detail_and_target_preview(org) -> None:
    world, ada, _mona = org
    settings = Settings()
    with world.db.session() as s:
        detail = agreements.agreement_detail(s, "Standard")
        assert [(t.priority, t.response_minutes, t.resolution_minutes)
                for t in detail.targets] == [(3, 60, 480)]
        assert set(detail.as_dict()) >= AGREEMENT_KEYS | {"targets", "ola"}
        preview = agreements.preview_target(s, settings, "Standard", 3, resolution=60,
                                            now=NOW)
    assert preview.month == "2026-11"
    assert (preview.before["resolution"].met, preview.before["resolution"].missed) == (1, 0)
    assert (preview.after["resolution"].met, preview.after["resolution"].missed) == (0, 1)
    with pytest.raises(PermissionDenied), world.db.session() as s:
        agreements.set_target(s, world.anne, settings, "Standard", 3, resolution=60, now=NOW)
    with pytest.raises(InvalidInput), world.db.session() as s:
        agreements.set_target(s, ada, settings, "Standard", 3, response=600, now=NOW)
    with world.db.session() as s:
        change = agreements.set_target(s, ada, settings, "Standard", 3, resolution=240,
                                       now=NOW)
    assert change.changes == [("resolution_minutes", 480, 240)]
    with world.db.session() as s:
        assert s.execute(select(SlaTarget.resolution_minutes)).scalar() == 240
        event = s.execute(select(AdminEvent).where(
            AdminEvent.action == "agreement.target")).scalars().one()
        assert event.actor == "ada" and "480 -> 240" in (event.detail or "")


# --------------------------------------------------------------------------- CLI

def pob(capsys, url, *argv, actor: str | None = None):
    code = main(["--db", url, *argv], actor=Actor(actor) if actor else None)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_contracts(org, db_url, capsys) -> None:
    _world, _ada, _mona = org
    code, out, err = pob(capsys, db_url, "unit", "list", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["code"] for r in rows] == ["HO", "OPP", "OPP-HOS"]
    assert all(set(r) == UNIT_KEYS for r in rows)
    code, out, err = pob(capsys, db_url, "unit", "show", "OPP-HOS", "--format", "json")
    assert code == 0, err
    assert set(json.loads(out)) == UNIT_KEYS | {"children", "agreements", "subscriptions",
                                               "open_incidents", "satisfaction"}
    code, out, _ = pob(capsys, db_url, "person", "list", "--search", "kari", "--format",
                       "json")
    rows = json.loads(out)
    assert [r["username"] for r in rows] == ["kari.n"] and set(rows[0]) == PERSON_KEYS
    assert rows[0]["org_unit"] == "OPP-HOS" and rows[0]["location"] == "HOSLE"
    code, out, _ = pob(capsys, db_url, "person", "show", "kari.n", "--format", "json")
    assert set(json.loads(out)) == PERSON_KEYS | {"language", "devices", "subscriptions",
                                                 "open_incidents"}
    code, out, _ = pob(capsys, db_url, "agreement", "list", "--format", "json")
    assert [set(r) for r in json.loads(out)] == [AGREEMENT_KEYS]
    code, out, _ = pob(capsys, db_url, "agreement", "show", "Standard", "--format", "json")
    data = json.loads(out)
    assert data["targets"] == [{"priority": 3, "response_minutes": 60,
                                "resolution_minutes": 480}]
    assert data["ola"] == []
    code, out, _ = pob(capsys, db_url, "person", "list", "--format", "csv")
    assert out.splitlines()[0] == ",".join(("username", "name", "org_unit", "location",
                                            "phone", "email", "vip", "active"))
    code, out, _ = pob(capsys, db_url, "unit", "show", "OPP", "--format", "table")
    assert code == 0 and "OPP-HOS" in out


def test_cli_edits_roles_and_bad_input(org, db_url, capsys) -> None:
    _world, _ada, _mona = org
    code, out, err = pob(capsys, db_url, "unit", "update", "OPP", "--parent", "OPP-HOS",
                         actor="ada")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cycle" in err
    code, out, err = pob(capsys, db_url, "unit", "update", "OPP-HOS", "--name", "X",
                         actor="anne")
    assert code == 5 and "administrator" in err
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--email",
                         "kari@pob-kommune.no", "--format", "json", actor="mona")
    assert code == 0, err
    assert json.loads(out)["changes"] == [{"field": "email", "old": "kari.n@pob-kommune.no",
                                           "new": "kari@pob-kommune.no"}]
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--vip", "maybe",
                         actor="ada")
    assert code == 2
    code, out, err = pob(capsys, db_url, "agreement", "target", "Standard", "--priority", "3",
                         "--resolution", "60", "--dry-run", "--format", "json", actor="anne")
    assert code == 0, err  # a preview writes nothing and needs no role
    data = json.loads(out)
    assert data["before"]["resolution"] == {"met": 1, "missed": 0, "share_met": 1.0}
    assert data["dry_run"] is True
    code, out, err = pob(capsys, db_url, "agreement", "target", "Standard", "--priority", "9",
                         actor="ada")
    assert code == 2
    code, out, err = pob(capsys, db_url, "agreement", "target", "Standard", "--priority", "3",
                         "--resolution", "300", actor="ada")
    assert code == 0, err and "480 -> 300" in out


def test_cli_unit_update_cost_centre_manager_active(org, db_url, capsys) -> None:
    """`pob unit update --cost-centre --customer-manager --active`: written, audited, shown
    by `pob unit list`; refused (one line, exit 5) for a customer manager and first line;
    a bad manager writes nothing (exit 2, even with a good field next to it)."""
    world, _ada, _mona = org
    code, out, err = pob(capsys, db_url, "unit", "update", "OPP-HOS", "--cost-centre",
                         "20010", "--customer-manager", "hilde.h", "--active", "no",
                         "--format", "json", actor="ada")
    assert code == 0, err
    data = json.loads(out)
    assert data["changes"] == [
        {"field": "cost_centre", "old": None, "new": "20010"},
        {"field": "customer_manager", "old": None, "new": "hilde.h"},
        {"field": "active", "old": True, "new": False}]
    assert (data["cost_centre"], data["customer_manager"], data["active"]) \
        == ("20010", "hilde.h", False)
    with world.db.session() as s:
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == "OPP-HOS")).scalars().one()
        manager = s.execute(select(Person.username).where(
            Person.id == unit.customer_manager_id)).scalar()
        assert (unit.cost_centre, manager, unit.active) == ("20010", "hilde.h", False)
        event = s.execute(select(AdminEvent).where(AdminEvent.action == "unit.update")
                          ).scalars().one()
    assert (event.actor, event.target, event.allowed) == ("ada", "OPP-HOS", True)
    assert all(word in (event.detail or "") for word in ("20010", "hilde.h", "active"))
    code, out, _ = pob(capsys, db_url, "unit", "list", "--format", "json")
    row = next(r for r in json.loads(out) if r["code"] == "OPP-HOS")
    assert (row["cost_centre"], row["customer_manager"], row["active"]) \
        == ("20010", "hilde.h", False)

    for who in ("mona", "anne"):  # a customer manager (even of OPP) and first line
        code, out, err = pob(capsys, db_url, "unit", "update", "OPP-HOS", "--active", "yes",
                             "--cost-centre", "1", actor=who)
        assert code == 5 and len(err.strip().splitlines()) == 1, (who, err)
        assert "administrator" in err and out == ""
    code, out, err = pob(capsys, db_url, "unit", "update", "OPP-HOS", "--cost-centre",
                         "99999", "--customer-manager", "nobody", actor="ada")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nobody" in err
    code, out, err = pob(capsys, db_url, "unit", "update", "OPP-HOS", "--active", "maybe",
                         actor="ada")
    assert code == 2
    with world.db.session() as s:  # none of the refused or bad calls wrote anything
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == "OPP-HOS")).scalars().one()
        assert (unit.cost_centre, unit.active) == ("20010", False)
        refused = s.execute(select(AdminEvent.actor).where(
            AdminEvent.allowed.is_(False)).order_by(AdminEvent.id)).scalars().all()
        assert refused == ["mona", "anne"]
        assert s.execute(select(func.count()).select_from(AdminEvent).where(
            AdminEvent.action == "unit.update")).scalar() == 1

    code, out, err = pob(capsys, db_url, "unit", "update", "OPP-HOS", "--active", "yes",
                         "--customer-manager", "", "--cost-centre", "", actor="ada")
    assert code == 0, err  # empty clears the manager and the cost centre
    with world.db.session() as s:
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == "OPP-HOS")).scalars().one()
        assert (unit.cost_centre, unit.customer_manager_id, unit.active) == (None, None, True)


def test_cli_person_update_location_and_language(org, db_url, capsys) -> None:
    """`pob person update --location --language`: the administrator changes both (audited,
    shown by `pob person show`); the customer manager may move her unit's person to another
    location (a contact field) but not change the language; unknown codes write nothing."""
    world, _ada, _mona = org
    with world.db.session() as s:
        s.add(Location(code="RADHUS", name="Rådhuset", kind="office"))
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--location", "RADHUS",
                         "--language", "en", "--format", "json", actor="ada")
    assert code == 0, err
    data = json.loads(out)
    assert data["changes"] == [{"field": "location", "old": "HOSLE", "new": "RADHUS"},
                               {"field": "language", "old": "nb", "new": "en"}]
    assert data["location"] == "RADHUS"
    code, out, _ = pob(capsys, db_url, "person", "show", "kari.n", "--format", "json")
    shown = json.loads(out)
    assert (shown["location"], shown["language"]) == ("RADHUS", "en")

    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--location", "HOSLE",
                         actor="mona")
    assert code == 0, err
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--language", "nb",
                         actor="mona")
    assert code == 5 and len(err.strip().splitlines()) == 1
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--location", "RADHUS",
                         actor="anne")
    assert code == 5 and len(err.strip().splitlines()) == 1
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--language", "de",
                         actor="ada")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "'de'" in err
    code, out, err = pob(capsys, db_url, "person", "update", "kari.n", "--language", "nb",
                         "--location", "NOWHERE", actor="ada")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "NOWHERE" in err
    with world.db.session() as s:
        location, language = s.execute(
            select(Location.code, Person.language).join(
                Location, Location.id == Person.location_id).where(
                Person.username == "kari.n")).one()
        events = s.execute(select(AdminEvent.actor, AdminEvent.allowed).where(
            AdminEvent.action.in_(("person.update", "org.admin", "org.contact")))
            .order_by(AdminEvent.id)).all()
    assert (location, language) == ("HOSLE", "en")  # mona's move; ada's "nb" not written
    assert [tuple(e) for e in events] == [("ada", True), ("mona", True), ("mona", False),
                                          ("anne", False)]


def test_cli_person_list_unit_and_limit(org, db_url, capsys) -> None:
    """`pob person list --unit --limit`: only the unit's people (its units below too), at
    most N of them, with the contract keys, in JSON and CSV."""
    _world, _ada, _mona = org
    code, out, err = pob(capsys, db_url, "person", "list", "--unit", "OPP-HOS", "--format",
                         "json")
    assert code == 0, err
    rows = json.loads(out)
    assert sorted(r["username"] for r in rows) == ["kari.n", "ordforer"]
    assert all(set(r) == PERSON_KEYS and r["org_unit"] == "OPP-HOS" for r in rows)
    code, out, err = pob(capsys, db_url, "person", "list", "--unit", "OPP", "--limit", "2",
                         "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 2 and all(set(r) == PERSON_KEYS for r in rows)
    assert {r["username"] for r in rows} < {"kari.n", "ordforer", "mona.k"}
    code, out, err = pob(capsys, db_url, "person", "list", "--unit", "HO", "--format", "csv")
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()] == ["username", "hilde.h"]
    code, out, err = pob(capsys, db_url, "person", "list", "--unit", "NOPE")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, out, err = pob(capsys, db_url, "person", "list", "--limit", "0")
    assert code == 2


def add_ola_targets(world) -> None:  # type: ignore[no-untyped-def]
    """OLA targets for Nettverk (P2, P3) and the service desk (P3), and a second agreement,
    for Oppvekst, covering only M365 (supported by the service desk)."""
    from pob_tui.models import Agreement, AgreementService, OlaTarget, Service, Team

    with world.db.session() as s:
        team = {c: i for c, i in s.execute(select(Team.code, Team.id))}
        s.add_all([OlaTarget(team_id=team["NETT"], priority=3, response_minutes=30,
                             resolution_minutes=240),
                   OlaTarget(team_id=team["NETT"], priority=2, response_minutes=15,
                             resolution_minutes=120),
                   OlaTarget(team_id=team["SD"], priority=3, response_minutes=10,
                             resolution_minutes=60)])
        standard = s.execute(select(Agreement).where(Agreement.name == "Standard")
                             ).scalars().one()
        opp = s.execute(select(OrgUnit.id).where(OrgUnit.code == "OPP")).scalar()
        school = Agreement(name="Skole-M365", customer_id=opp,
                           calendar_id=standard.calendar_id)
        s.add(school)
        s.flush()
        m365 = s.execute(select(Service.id).where(Service.code == "M365")).scalar()
        s.add(AgreementService(agreement_id=school.id, service_id=m365))


def test_cli_agreement_show_lists_ola_targets_per_team(org, db_url, capsys) -> None:
    """`pob agreement show --format json`: `ola` holds {team, priority, resolution_minutes}
    per team and priority; an agreement for every service lists every team's targets, one
    for some services only the targets of the teams supporting them."""
    world, _ada, _mona = org
    add_ola_targets(world)
    code, out, err = pob(capsys, db_url, "agreement", "show", "Standard", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["ola"] == [
        {"team": "NETT", "priority": 2, "resolution_minutes": 120},
        {"team": "NETT", "priority": 3, "resolution_minutes": 240},
        {"team": "SD", "priority": 3, "resolution_minutes": 60}]
    code, out, err = pob(capsys, db_url, "agreement", "show", "Skole-M365", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["customer"], data["services"]) == ("OPP", ["M365"])
    assert data["ola"] == [{"team": "SD", "priority": 3, "resolution_minutes": 60}]
    code, out, err = pob(capsys, db_url, "agreement", "show", "Skole-M365")
    assert code == 0, err
    assert "ola (1)" in out and "SD" in out


def test_people_filter_matches_email(org, db_url, capsys) -> None:
    """The people filter finds a person by e-mail (an address that shares no word with the
    name, username or unit), for someone imported from CSV and after an e-mail change;
    the old address no longer finds them."""
    from pob_tui.importers.csvio import import_csv

    world, ada, _mona = org
    with world.db.session() as s:
        import_csv(s, "people", "username,first_name,last_name,phone,email,org_unit\n"
                   "tor.b,Tor,Berg,,vaktmester@hosle.example,OPP-HOS\n", name="p.csv")
    with world.db.session() as s:
        people.update_person(s, ada, Settings(), "kari.n", email="k.nm@skolen.example")
    with world.db.session() as s:
        assert [r.username for r in people.list_people(s, search="vaktmester@hosle").rows] \
            == ["tor.b"]
        assert [r.username for r in people.list_people(s, search="skolen.example").rows] \
            == ["kari.n"]
        assert [r.username for r in people.list_people(
            s, search="K.NM@Skolen.Example", unit="OPP").rows] == ["kari.n"]
        assert people.list_people(s, search="kari.n@pob-kommune.no").rows == []
    code, out, err = pob(capsys, db_url, "person", "list", "--search", "skolen.example",
                         "--format", "json")
    assert code == 0, err
    assert [(r["username"], r["email"]) for r in json.loads(out)] \
        == [("kari.n", "k.nm@skolen.example")]


def add_unit_work(world) -> None:  # type: ignore[no-untyped-def]
    """Agreements for OPP (Skole-M365, via add_ola_targets) and OPP-HOS; incidents of every
    kind of status from callers in OPP-HOS, OPP and HO."""
    from pob_tui.models import Agreement

    add_ola_targets(world)
    with world.db.session() as s:
        unit = {c: i for c, i in s.execute(select(OrgUnit.code, OrgUnit.id))}
        who = {u: i for u, i in s.execute(select(Person.username, Person.id))}
        calendar = s.execute(select(Agreement.calendar_id).where(
            Agreement.name == "Standard")).scalar()
        s.add(Agreement(name="Hosle skole", customer_id=unit["OPP-HOS"], calendar_id=calendar))
        at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        for n, (caller, status) in enumerate((
                ("kari.n", "new"), ("ordforer", "waiting_caller"), ("kari.n", "in_progress"),
                ("kari.n", "cancelled"), ("ordforer", "closed"),  # not open
                ("mona.k", "assigned"), ("mona.k", "waiting_supplier"),  # OPP itself
                ("hilde.h", "resolved")), start=10):  # HO: nothing open
            s.add(Incident(number=f"INC-{n:06d}", caller_id=who[caller], summary="Sak",
                           priority=3, status=status, opened_at=at))


def test_tree_counts_agreements_and_open_incidents(org, db_url, capsys) -> None:
    """The tree's figures: agreements whose customer is the unit itself; open incidents
    (new to waiting, not resolved/closed/cancelled) by the callers' units, a sector adding
    its units'; `pob unit show` lists the same ones."""
    world, _ada, _mona = org
    add_unit_work(world)
    with world.db.session() as s:
        rows = {r.code: r for r in org_units.list_units(s, now=NOW)}
    assert {c: (r.agreements, r.open_incidents) for c, r in rows.items()} == {
        "HO": (0, 0), "OPP": (1, 5), "OPP-HOS": (1, 3)}
    code, out, err = pob(capsys, db_url, "unit", "show", "OPP-HOS", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [a["name"] for a in data["agreements"]] == ["Hosle skole"]
    assert sorted(i["number"] for i in data["open_incidents"]) \
        == ["INC-000010", "INC-000011", "INC-000012"]
    code, out, err = pob(capsys, db_url, "unit", "show", "OPP", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [(a["name"], a["services"]) for a in data["agreements"]] == [("Skole-M365", 1)]
    assert len(data["open_incidents"]) == 5
    assert {i["caller"] for i in data["open_incidents"]} == {"kari.n", "ordforer", "mona.k"}
