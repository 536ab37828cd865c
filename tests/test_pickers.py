"""Caller, service and CI pickers: what an agent finds as they type."""

from __future__ import annotations

from pob_tui.services import pickers


def test_people_by_name_username_phone_email(world) -> None:
    with world.db.session() as s:
        assert [p["username"] for p in pickers.search_people(s, "kari")] == ["kari.n"]
        assert [p["username"] for p in pickers.search_people(s, "nordm kar")] == ["kari.n"]
        assert [p["username"] for p in pickers.search_people(s, "91234")] == ["kari.n"]
        assert [p["username"] for p in pickers.search_people(s, "ordforer@")] == ["ordforer"]
        assert pickers.search_people(s, "%") == []
        hit = pickers.search_people(s, "kari.n")[0]
        assert hit["org_unit"] == "Hosle skole" and hit["location"] == "Hosle skole"


def test_caller_context_and_subscribed_services_first(world) -> None:
    from pob_tui.services import incidents as svc

    with world.db.session() as s:
        svc.create_incident(s, world.anne, svc.NewIncident(caller="kari.n", summary="Treg PC"))
    with world.db.session() as s:
        ctx = pickers.caller_context(s, world.kari_id)
        assert [i["summary"] for i in ctx["open"]] == ["Treg PC"]
        services = pickers.search_services(s, "", caller_id=world.kari_id)
        assert services[0]["code"] == "PRINT" and services[0]["subscribed"]
        assert [x["code"] for x in pickers.search_services(s, "outlook")] == ["M365"]
        cis = pickers.search_cis(s, "", caller_id=world.kari_id)
        assert [c["name"] for c in cis] == ["PC-KARI-01"]
        cis = pickers.search_cis(s, "pc", caller_id=world.kari_id)
        assert [c["name"] for c in cis] == ["PC-KARI-01", "PC-LAB-17"]
