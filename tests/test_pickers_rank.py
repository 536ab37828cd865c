"""Issue 13 item 2: the service and caller an agent means come first."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from pob_tui.models import Person, Service, Subscription
from pob_tui.services import pickers


def add_teams_services(world) -> None:  # type: ignore[no-untyped-def]
    with world.db.session() as s:
        s.add_all([
            Service(code="LMS", name="Læringsplattform (Teams for skole)", keywords="teams",
                    search="lms"),
            Service(code="TLF", name="Telefoni", keywords="teams mobil", search="tlf"),
            Service(code="TEAMS", name="Teams", search="teams"),
            Service(code="TEAMSROM", name="Teamsrom og møteromsutstyr", search="teamsrom"),
        ])


def test_exact_name_then_prefix_then_words_then_keywords(world) -> None:
    add_teams_services(world)
    with world.db.session() as s:
        codes = [r["code"] for r in pickers.search_services(s, "teams")]
    assert codes[:3] == ["TEAMS", "TEAMSROM", "LMS"]
    assert set(codes[3:]) == {"TLF", "M365"}  # keyword matches last
    with world.db.session() as s:
        assert pickers.search_services(s, "m365")[0]["code"] == "M365"  # code exact
        assert pickers.search_services(s, "Teams")[0]["code"] == "TEAMS"


def test_the_callers_subscription_breaks_ties_only(world) -> None:
    add_teams_services(world)
    with world.db.session() as s:
        for service in s.exec(select(Service).where(Service.code.in_(("LMS", "TLF")))):
            s.add(Subscription(service_id=service.id, person_id=world.kari_id,
                               valid_from=date(2020, 1, 1)))
    with world.db.session() as s:
        codes = [r["code"] for r in pickers.search_services(s, "teams",
                                                           caller_id=world.kari_id)]
    assert codes[0] == "TEAMS"  # a subscription does not beat the exact name
    assert codes.index("TLF") < codes.index("M365")  # but it orders equal matches


def test_exact_username_or_phone_in_any_form_first(world) -> None:
    with world.db.session() as s:
        s.add(Person(username="kari.nord", first_name="Kari", last_name="Aanes",
                     phone="+47 67 50 00 00", search="kari aanes kari.nord +47 67 50 00 00"))
    with world.db.session() as s:
        assert pickers.search_people(s, "kari.n")[0]["username"] == "kari.n"
        assert pickers.search_people(s, "kari.nord")[0]["username"] == "kari.nord"
        for typed in ("+47 67 50 00 00", "0047 67500000", "67 50 00 00", "67500000",
                      "+4767500000"):
            assert [p["username"] for p in pickers.search_people(s, typed)] == ["kari.nord"]
        for typed in ("91234567", "+47 912 34 567", "004791234567"):
            assert [p["username"] for p in pickers.search_people(s, typed)] == ["kari.n"]
        assert pickers.search_people(s, "99999999") == []


def test_phone_forms() -> None:
    assert pickers.phone_forms("kari") is None
    assert pickers.phone_forms("123") is None
    assert pickers.phone_forms("0047 67 50 00 00") == pickers.phone_forms("67500000")
