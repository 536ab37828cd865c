"""A small hand-made world for rule tests: known people, teams, agents and services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pob_tui.db import Database
from pob_tui.models import (
    Agent,
    AgentRole,
    ConfigItem,
    Location,
    OrgUnit,
    Person,
    Problem,
    Service,
    Subscription,
    Team,
)
from pob_tui.services.identity import Actor, load_actor


@dataclass
class World:
    db: Database
    anne: Actor  # first line, service desk
    lars: Actor  # second line, Nettverk
    kari_id: int  # caller in Oppvekst (school)
    vip_id: int  # VIP caller
    manager_id: int  # Oppvekst's customer manager


def person(username: str, first: str, last: str, **kw) -> Person:
    phone = kw.pop("phone", None)
    email = f"{username}@pob-kommune.no"
    search = f"{first} {last} {username} {phone or ''} {email}".lower()
    return Person(username=username, first_name=first, last_name=last, phone=phone,
                  email=email, search=search, **kw)


def build_world(db: Database) -> World:
    with db.session() as s:
        loc = Location(code="HOSLE", name="Hosle skole", kind="school", ring=2)
        sector = OrgUnit(code="OPP", name="Oppvekst", kind="sector")
        s.add_all([loc, sector])
        s.flush()
        unit = OrgUnit(code="OPP-HOS", name="Hosle skole", kind="unit", parent_id=sector.id)
        s.add(unit)
        s.flush()
        manager = person("mona.k", "Mona", "Kundeansvarlig", org_unit_id=sector.id)
        kari = person("kari.n", "Kari", "Nordmann", phone="+4791234567", org_unit_id=unit.id,
                      location_id=loc.id)
        vip = person("ordforer", "Ola", "Ordfører", org_unit_id=unit.id, vip=True)
        anne_p = person("anne", "Anne", "Agent")
        lars_p = person("lars", "Lars", "Nettmann")
        s.add_all([manager, kari, vip, anne_p, lars_p])
        s.flush()
        sector.customer_manager_id = manager.id
        desk = Team(code="SD", name="Servicedesk", kind="service_desk")
        net = Team(code="NETT", name="Nettverk", kind="second_line")
        s.add_all([desk, net])
        s.flush()
        anne = Agent(username="anne", person_id=anne_p.id, team_id=desk.id)
        lars = Agent(username="lars", person_id=lars_p.id, team_id=net.id)
        s.add_all([anne, lars])
        s.flush()
        s.add_all([AgentRole(agent_id=anne.id, role="first_line"),
                   AgentRole(agent_id=lars.id, role="second_line")])
        m365 = Service(code="M365", name="Microsoft 365", keywords="outlook teams epost",
                       support_team_id=desk.id, default_impact=3, default_urgency=2,
                       search="m365 microsoft 365")
        printing = Service(code="PRINT", name="Utskrift", keywords="skriver printer",
                           default_impact=3, default_urgency=3, search="print utskrift")
        s.add_all([m365, printing])
        s.flush()
        s.add(Subscription(service_id=printing.id, org_unit_id=unit.id,
                           valid_from=date(2020, 1, 1)))
        s.add(ConfigItem(name="PC-KARI-01", ci_class="client", person_id=kari.id))
        s.add(ConfigItem(name="PC-LAB-17", ci_class="client"))
        s.add(Problem(number="PRB-000001", title="Outlook henger etter oppdatering",
                      symptoms="outlook henger fryser ved oppstart", known_error=True,
                      status="known_error", service_id=m365.id,
                      workaround="Start Outlook i sikker modus og fjern tillegget."))
        s.execute(__import__("sqlalchemy").text(
            "UPDATE ticket_counter SET last_value = 1 WHERE prefix = 'PRB'"))
        ids = (kari.id, vip.id, manager.id)
    with db.session() as s:
        return World(db=db, anne=load_actor(s, "anne"), lars=load_actor(s, "lars"),
                     kari_id=ids[0], vip_id=ids[1], manager_id=ids[2])


def office_agreement(session, targets: dict[int, tuple[int, int]], *,
                     name: str = "Standard"):
    """The office calendar (Mon-Fri 08:00-15:45, Europe/Oslo) and a default agreement with
    (response, resolution) minutes per priority."""
    import json

    from pob_tui.models import Agreement, Calendar, SlaTarget

    cal = Calendar(name="Kontortid", tz="Europe/Oslo",
                   hours=json.dumps({str(d): [["08:00", "15:45"]] for d in range(5)}))
    session.add(cal)
    session.flush()
    agreement = Agreement(name=name, calendar_id=cal.id, is_default=True)
    session.add(agreement)
    session.flush()
    for priority, (response, resolution) in targets.items():
        session.add(SlaTarget(agreement_id=agreement.id, priority=priority,
                              response_minutes=response, resolution_minutes=resolution))
    session.flush()
    return cal, agreement
