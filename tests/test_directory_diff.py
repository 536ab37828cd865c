"""The pure part of the directory sync: matching and the plan, without LDAP or a database."""

from __future__ import annotations

from datetime import date

from pob_tui.commands.directory import format_text
from pob_tui.directory.diff import Catalog, Known, UnitManager, compute_plan, propose_code
from pob_tui.directory.map import PersonRecord, dn_key

TODAY = date(2026, 5, 4)
CATALOG = Catalog(unit_codes=frozenset({"OPP", "HO-001"}),
                  unit_names={"oppvekst": "OPP"}, unit_mapping={"NAV Bærum": "HO-001"},
                  location_codes=frozenset({"RH"}), location_names={"rådhuset": "RH"})


def rec(username: str, did: str, unit: str | None = "Oppvekst", *, disabled: bool = False,
        first: str = "Kari", office: str | None = "Rådhuset") -> PersonRecord:
    return PersonRecord(did, username, first, "Nordmann", f"{username}@k.no", "+47 1", None,
                        unit, office, disabled)


def known(pid: int, username: str, did: str | None, unit: str | None = "OPP", *,
          active: bool = True, first: str = "Kari") -> Known:
    return Known(pid, did, username, first, "Nordmann", f"{username}@k.no", "+47 1", None, unit,
                 "RH", active)


def test_new_unchanged_changed_and_adopted() -> None:
    plan = compute_plan(
        [rec("kari", "g1"), rec("ola", "g2", first="Ola-Kåre"), rec("ny", "g3", "NAV Bærum"),
         rec("hand", "g4")],
        [known(1, "kari", "g1"), known(2, "ola", "g2", first="Ola"), known(3, "Hand", None)],
        CATALOG, today=TODAY, create_units=False)
    r = plan.result
    assert [a["username"] for a in r.added] == ["ny"] and r.added[0]["org_unit"] == "HO-001"
    assert {(c["username"], c["field"], c["new"]) for c in r.changed} == {
        ("ola", "first_name", "Ola-Kåre"), ("hand", "directory_id", "g4"),
        ("hand", "username", "hand"), ("hand", "email", "hand@k.no")}
    assert not r.moved and not r.deactivated and not r.unknown_units


def test_missing_disabled_moved_and_reactivated() -> None:
    plan = compute_plan(
        [rec("kari", "g1", "NAV Bærum"), rec("ola", "g2", disabled=True), rec("per", "g3"),
         rec("old", "g9", disabled=True)],
        [known(1, "kari", "g1"), known(2, "ola", "g2"), known(3, "per", "g3", active=False),
         known(4, "gone", "g4"), known(5, "manual", None)],
        CATALOG, today=TODAY, create_units=False)
    r = plan.result
    assert r.moved == [{"username": "kari", "from": "OPP", "to": "HO-001",
                        "date": "2026-05-04"}]
    assert sorted((d["username"], d["reason"]) for d in r.deactivated) == [
        ("gone", "missing"), ("ola", "disabled")]
    assert [x["username"] for x in r.reactivated] == ["per"]
    assert not r.added, "a disabled account pob never knew is not added"
    assert plan.active_from_directory == 3  # kari, ola, gone; manual was never synced


def test_unknown_units_reported_or_created() -> None:
    recs = [rec("a", "g1", "Økonomi og styring"), rec("b", "g2", "Økonomi og styring")]
    plan = compute_plan(recs, [], CATALOG, today=TODAY, create_units=False)
    assert plan.result.unknown_units == ["Økonomi og styring"]
    assert {a["org_unit"] for a in plan.result.added} == {None} and not plan.new_units
    plan = compute_plan(recs, [], CATALOG, today=TODAY, create_units=True)
    assert plan.new_units == {"OKONOMI-OG-STYRING": "Økonomi og styring"}
    assert {a["org_unit"] for a in plan.result.added} == {"OKONOMI-OG-STYRING"}
    assert propose_code("Oppvekst", {"OPPVEKST"}) == "OPPVEKST-2"


def test_same_username_two_live_accounts_are_not_merged() -> None:
    plan = compute_plan([rec("kari", "g1"), rec("KARI", "g2")], [known(1, "kari", "g1")],
                        CATALOG, today=TODAY, create_units=False)
    assert not plan.result.added and not plan.result.changed and plan.result.skipped == 1


def test_text_output_lists_items_and_counts() -> None:
    plan = compute_plan([rec("ny", "g3")], [known(4, "gone", "g4")], CATALOG, today=TODAY,
                        create_units=False)
    text = format_text(plan.result)
    assert "added       ny (Kari Nordmann) OPP" in text
    assert "deactivated gone (missing)" in text
    assert "1 added" in text and "1 deactivated" in text


def boss(username: str, did: str, manager: str | None, unit: str = "Oppvekst") -> PersonRecord:
    return PersonRecord(did, username, "Kari", "Nordmann", None, None, None, unit, None, False,
                        dn=f"CN={username},OU=Ansatte,DC=k", manager_dn=manager)


def test_the_head_of_a_unit_is_the_top_of_its_manager_chain() -> None:
    """Staff report to a team leader, who reports to the unit's head, who reports to someone
    outside the unit: the head is the unit's customer manager, whatever the DN's spelling."""
    recs = [boss("sjef", "g1", "cn=Rådmann,ou=Ansatte,dc=k"),
            boss("leder", "g2", "cn=sjef, ou=ansatte, dc=K"),
            boss("a", "g3", "CN=leder,OU=Ansatte,DC=k"),
            boss("b", "g4", "CN=leder,OU=Ansatte,DC=k"),
            boss("rådmann", "g5", None, unit="NAV Bærum")]
    plan = compute_plan(recs, [], CATALOG, today=TODAY, create_units=False)
    assert plan.result.managers == [{"unit": "OPP", "from": None, "to": "sjef"}]
    assert plan.managers == [("OPP", "g1")]
    assert "manager     OPP: - -> sjef" in format_text(plan.result)
    # A chosen, active manager is kept (wherever they work); one who left gets the head.
    kept = Catalog(**{**CATALOG.__dict__, "unit_managers": {
        "OPP": UnitManager("hand", True)}})
    assert compute_plan(recs, [], kept, today=TODAY, create_units=False).result.managers == []
    left = Catalog(**{**CATALOG.__dict__, "unit_managers": {
        "OPP": UnitManager("hand", False)}})
    assert compute_plan(recs, [], left, today=TODAY, create_units=False).result.managers == [
        {"unit": "OPP", "from": "hand", "to": "sjef"}]
    # The manager moves out of the unit in this run (the old head): the new head takes over.
    gone = [boss("old", "g9", None, unit="NAV Bærum"), *recs]
    moved = Catalog(**{**CATALOG.__dict__, "unit_managers": {
        "OPP": UnitManager("old", True)}})
    plan = compute_plan(gone, [known(9, "old", "g9")], moved, today=TODAY, create_units=False)
    assert plan.result.managers == [{"unit": "OPP", "from": "old", "to": "sjef"}]
    # Without manager links (or with the attribute off) nothing is proposed.
    plain = [boss(r.username, r.directory_id, None) for r in recs]
    assert compute_plan(plain, [], CATALOG, today=TODAY, create_units=False).managers == []


def test_dn_spellings_meet() -> None:
    assert dn_key("CN=Kari Nordmann, OU=Oppvekst,DC=k") == \
        dn_key("cn=kari nordmann,ou=OPPVEKST,dc=K")
    assert dn_key(r"CN=Nordmann\, Kari,OU=Æ,DC=k") == dn_key(r"cn=nordmann\, kari, ou=æ, dc=k")
    assert dn_key(r"CN=Nordmann\, Kari,OU=Æ,DC=k") != dn_key("CN=Nordmann,OU=Æ,DC=k")
