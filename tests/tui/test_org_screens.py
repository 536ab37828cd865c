"""The org area (issue 18) driven with Pilot: the unit tree walked with keys, a unit, the
people list filtered as you type, a person's card (and a call logged from it), agreements
with a target change previewed and saved; the roles that may not edit get greyed keys and
refusals; snapshots of the tree, a unit, a card and an agreement at 80x24 and 160x50."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pob_tui.models import AdminEvent, OrgUnit, SlaTarget
from pob_tui.services.identity import Actor
from tests.test_org import build_org
from tests.tui.conftest import screen_text
from tests.tui.conftest import settle as _settle


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Two rounds: a card's worker may start after the key that opened it was handled."""
    await _settle(pilot)
    await _settle(pilot)


async def until(pilot, done) -> None:  # type: ignore[no-untyped-def]
    """Settle until `done()` (bounded): under load a worker's answer may need more rounds."""
    for _ in range(50):
        if done():
            return
        await _settle(pilot)
    raise AssertionError("the screen never got there")

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.fixture
def org_url(world, db_url):
    build_org(world)
    return db_url


async def test_tree_walk_fold_and_unit(org_url, make_app) -> None:
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        text = screen_text(app)
        assert "Helse og omsorg" in text and "Hosle skole" in text and "⚑2.0" in text
        table = app.screen.query_one("#org-units")
        await pilot.press("j")  # OPP
        assert table.row_key_at_cursor() == "OPP"
        await pilot.press("space")  # fold the sector: its unit disappears
        await settle(pilot)
        assert "Hosle skole" not in screen_text(app)
        await pilot.press("space", "j", "j")
        assert table.row_key_at_cursor() == "OPP-HOS"
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "OPP-HOS" in text and "under 4" in text, text
        assert [p.username for p in app.screen.detail.people] == ["kari.n", "ordforer"]
        await pilot.press("e")  # first line: greyed, nothing opens
        await settle(pilot)
        assert type(app.screen).__name__ == "UnitScreen"


async def test_admin_edits_unit_and_cycle_is_refused(org_url, make_app, world) -> None:
    app = make_app(org_url, actor=Actor("ada"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)  # keys act on what is shown: the tree first
        await pilot.press("enter")  # HO
        await settle(pilot)
        assert "HO  Helse og omsorg" in screen_text(app)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter", *"OPP-HOS", "ctrl+s")  # parent: its own grandchild? no:
        await settle(pilot)  # HO has no children; OPP-HOS is fine as a parent
        with world.db.session() as s:
            ho, hos = (s.execute(select(OrgUnit.id).where(OrgUnit.code == c)).scalar()
                       for c in ("HO", "OPP-HOS"))
            assert s.execute(select(OrgUnit.parent_id).where(OrgUnit.id == ho)).scalar() == hos
        await pilot.press("escape")  # back to the tree
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgScreen"
        await pilot.press("g")  # OPP (now the only sector)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter", *"HO", "ctrl+s")  # OPP under HO, which is under OPP
        await settle(pilot)
        with world.db.session() as s:
            assert s.execute(select(OrgUnit.parent_id).where(OrgUnit.code == "OPP")
                             ).scalar() is None
            events = s.execute(select(AdminEvent.action, AdminEvent.target)).all()
        assert ("unit.update", "HO") in [tuple(e) for e in events]
        assert any("cycle" in str(n.message) for n in app.notes), screen_text(app)


async def test_people_filter_card_and_log_call(org_url, make_app) -> None:
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8", "slash")
        await settle(pilot)  # the box takes the focus after a frame
        await pilot.press(*"hosle kari")
        await settle(pilot)
        table = app.screen.query_one("#org-people")
        assert table.row_count == 1 and table.row_key_at_cursor() == "kari.n"
        await pilot.press("enter", "enter")
        await until(pilot, lambda: getattr(app.screen, "card", None) is not None
                    and "PC-KARI-01" in screen_text(app))
        text = screen_text(app)
        assert "Kari Nordmann" in text and "+4791234567" in text and "PC-KARI-01" in text, text
        assert "Oppvekst › Hosle skole" in text
        await pilot.press("e")  # anne may not edit: greyed
        await settle(pilot)
        assert type(app.screen).__name__ == "PersonScreen"
        await pilot.press("c")
        await settle(pilot)
        assert type(app.screen).__name__ == "LogCallScreen"
        picker = app.screen.query_one("#call-caller")
        assert picker.selected and picker.selected["username"] == "kari.n"
        await pilot.press("f2")  # and from the call form back to the card
        await settle(pilot)
        assert type(app.screen).__name__ == "PersonScreen"


async def open_kari_card_form(pilot) -> None:  # type: ignore[no-untyped-def]
    """Org area, `/kari`, her card, `e`: the card's edit form."""
    await settle(pilot)
    await pilot.press("8", "slash")
    await settle(pilot)  # the box takes the focus after a frame
    await pilot.press(*"kari")
    await settle(pilot)
    await pilot.press("enter", "enter")
    await settle(pilot)
    await pilot.press("e")
    await settle(pilot)


async def test_customer_manager_edits_contact_fields(org_url, make_app, world) -> None:
    app = make_app(org_url, actor=Actor("mona"))
    async with app.run_test(size=(160, 50)) as pilot:
        await open_kari_card_form(pilot)
        await pilot.press("ctrl+u", *"+47 22 33 44 55", "ctrl+s")
        await settle(pilot)
        assert "+47 22 33 44 55" in screen_text(app)
    with world.db.session() as s:
        event = s.execute(select(AdminEvent).where(AdminEvent.action == "person.update")
                          ).scalars().one()
        assert event.actor == "mona" and "+47 22 33 44 55" in (event.detail or "")


async def test_administrator_edits_vip_language_and_active_on_the_card(org_url, make_app,
                                                                       world) -> None:
    """An administrator edits all of a person from the card, as `pob person update` does;
    the customer manager's form (above) keeps to the contact fields."""
    from pob_tui.models import Person

    app = make_app(org_url, actor=Actor("ada"))
    async with app.run_test(size=(160, 50)) as pilot:
        await open_kari_card_form(pilot)
        labels = screen_text(app)
        assert all(w in labels for w in ("VIP", "Language", "Active"))
        await pilot.press("enter", "enter", "enter")  # phone, e-mail, location as they are
        await pilot.press("up", "enter")  # VIP: no -> yes
        await pilot.press("down", "enter")  # language: nb -> en
        await pilot.press("down", "enter")  # active: yes -> no; the last field saves
        await settle(pilot)
        assert type(app.screen).__name__ == "PersonScreen"
    with world.db.session() as s:
        kari = s.execute(select(Person).where(Person.username == "kari.n")).scalars().one()
        assert (kari.vip, kari.language, kari.active) == (True, "en", False)
        event = s.execute(select(AdminEvent).where(AdminEvent.action == "person.update")
                          ).scalars().one()
    assert event.actor == "ada" and all(
        w in (event.detail or "") for w in ("vip", "language", "active"))


async def test_palette_finds_people_units_agreements(org_url, make_app) -> None:
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        for query, screen in (("nordmann", "PersonScreen"), ("hosle", "UnitScreen"),
                              ("standard", "AgreementScreen")):
            await pilot.press("ctrl+p", *query)
            await settle(pilot)
            await pilot.pause(0.3)
            await settle(pilot)
            await pilot.press("down", "enter")
            await settle(pilot)
            assert type(app.screen).__name__ == screen, (query, screen_text(app))
            await pilot.press("escape")
            await settle(pilot)


async def test_agreement_target_with_preview(org_url, make_app, world) -> None:
    app = make_app(org_url, actor=Actor("ada"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("8", "a")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "SLA targets" in screen_text(app)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("enter", "enter", "ctrl+u", *"60", "ctrl+s")
        await settle(pilot)
        text = screen_text(app)
        assert "8h → 1h" in text and "met 1 of 1 (100.0 %) → 0 of 1 (0.0 %)" in text, text
        await pilot.press("enter")
        await settle(pilot)
    with world.db.session() as s:
        assert s.execute(select(SlaTarget.resolution_minutes)).scalar() == 60
        assert s.execute(select(AdminEvent.actor).where(
            AdminEvent.action == "agreement.target")).scalar() == "ada"


async def test_incident_u_opens_the_callers_card(org_url, make_app) -> None:
    """Reachable everywhere: on an incident, u opens its caller's card."""
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"inc-000001")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "IncidentScreen"
                    and app.screen.data is not None)
        assert app.screen.number == "INC-000001"
        await pilot.press("u")
        await until(pilot, lambda: getattr(app.screen, "card", None) is not None)
        assert type(app.screen).__name__ == "PersonScreen"
        assert app.screen.username == "kari.n"
        assert "Kari Nordmann" in screen_text(app)
        await pilot.press("escape")  # back to the incident
        await settle(pilot)
        assert type(app.screen).__name__ == "IncidentScreen"


def _reports_data(world) -> None:  # type: ignore[no-untyped-def]
    """A cost on PRINT this year (OPP-HOS subscribes: a chargeback row for OPP) and a
    satisfaction score from Helse og omsorg (a second dashboard row, before OPP's)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from pob_tui.models import Incident, Person, Service, ServiceCost

    with world.db.session() as s:
        printing = s.execute(select(Service.id).where(Service.code == "PRINT")).scalar()
        s.add(ServiceCost(service_id=printing, year=2026, kind="licence",
                          amount=Decimal("12000.00")))
        hilde = s.execute(select(Person.id).where(Person.username == "hilde.h")).scalar()
        at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        s.add(Incident(number="INC-000002", caller_id=hilde, summary="Pasientjournal",
                       priority=3, status="closed", opened_at=at, resolved_at=at,
                       satisfaction=5, satisfaction_at=at))


async def test_reports_u_opens_the_unit(org_url, make_app, world) -> None:
    """Reachable everywhere: u on a chargeback row and on a dashboard satisfaction row
    opens that row's unit (the highlighted one)."""
    _reports_data(world)
    app = make_app(org_url, actor=Actor("ada"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("7")  # the dashboard: satisfaction rows per customer
        await until(pilot, lambda: len(getattr(app.screen, "_shown", [])) == 2)
        assert [r["metric"] for r in app.screen._shown] == ["satisfaction:HO",
                                                            "satisfaction:OPP"]
        await pilot.press("down", "u")  # the second row: Oppvekst
        await until(pilot, lambda: type(app.screen).__name__ == "UnitScreen")
        assert app.screen.code == "OPP"
        await until(pilot, lambda: "Oppvekst" in screen_text(app))
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReportsScreen"
        await pilot.press("b")  # chargeback: one statement row, Oppvekst's printing
        await until(pilot, lambda: [r.get("customer") for r in app.screen._shown] == ["OPP"])
        await pilot.press("u")
        await until(pilot, lambda: type(app.screen).__name__ == "UnitScreen")
        assert app.screen.code == "OPP"


async def test_agreement_shows_ola_targets_per_team(org_url, make_app, world) -> None:
    """An agreement's screen lists the OLA targets of the teams behind its services."""
    from tests.test_org import add_ola_targets

    add_ola_targets(world)
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("8", "a")
        await settle(pilot)
        await pilot.press("enter")  # Standard (the default, first): every team
        await until(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        table = app.screen.query_one("#agreement-ola")
        rows = [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]
        assert [r[:2] for r in rows] == [["Nettverk", "P2"], ["Nettverk", "P3"],
                                         ["Servicedesk", "P3"]], rows
        assert "OLA targets of the teams" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("down", "enter")  # Skole-M365: the desk's only
        await until(pilot, lambda: getattr(app.screen, "detail", None) is not None
                    and app.screen.detail.agreement.name == "Skole-M365")
        table = app.screen.query_one("#agreement-ola")
        assert [str(c) for c in table.get_row_at(0)][:2] == ["Servicedesk", "P3"]
        assert table.row_count == 1


async def test_people_and_agreements_walk_with_keys_on_first_visit(org_url, make_app,
                                                                   world) -> None:
    """p and a focus their list once it has loaded (a loading table takes no focus: the
    keys went nowhere, and back from an agreement they moved the hidden unit tree)."""
    from tests.test_org import add_ola_targets

    add_ola_targets(world)  # a second agreement, Skole-M365
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("8", "p")
        await settle(pilot)
        people = app.screen.query_one("#org-people")
        assert app.screen.focused is people
        first = people.row_key_at_cursor()
        await pilot.press("j")
        assert people.row_key_at_cursor() not in (None, first)
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.focused is app.screen.query_one("#org-agreements")
        await pilot.press("j", "enter")
        await until(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        assert app.screen.detail.agreement.name == "Skole-M365"


async def test_tree_shows_agreements_and_open_incidents(org_url, make_app, world) -> None:
    """The tree's Agr and Open columns: the unit's own agreements; open incidents rolled up
    (numbers from tests/test_org.py::test_tree_counts_agreements_and_open_incidents)."""
    from tests.test_org import add_unit_work

    add_unit_work(world)
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        table = app.screen.query_one("#org-units")
        shown = {code: (str(table.get_cell(code, "agreements")), str(table.get_cell(code, "open")))
                 for code in ("HO", "OPP", "OPP-HOS")}
        assert shown == {"HO": ("0", "0"), "OPP": ("1", "5"), "OPP-HOS": ("1", "3")}
        assert "Agr" in screen_text(app)


async def test_admin_sets_cost_centre_manager_and_inactive_in_the_form(org_url, make_app,
                                                                       world) -> None:
    """The unit form's cost centre, customer manager and active (a choice) are saved,
    audited, and the tree marks the unit inactive."""
    app = make_app(org_url, actor=Actor("ada"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        await pilot.press("j", "j", "enter")  # OPP-HOS
        await until(pilot, lambda: getattr(app.screen, "detail", None) is not None)
        assert app.screen.code == "OPP-HOS"
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter", "enter", *"20010", "enter", *"hilde.h", "enter")
        await pilot.press("down", "enter")  # active: yes -> no; the last field saves
        await until(pilot, lambda: type(app.screen).__name__ == "UnitScreen"
                    and "inactive" in screen_text(app))
        await pilot.press("escape")
        await until(pilot, lambda: "(inactive)" in screen_text(app))
    with world.db.session() as s:
        unit = s.execute(select(OrgUnit).where(OrgUnit.code == "OPP-HOS")).scalars().one()
        assert (unit.cost_centre, unit.active) == ("20010", False)
        event = s.execute(select(AdminEvent).where(AdminEvent.action == "unit.update")
                          ).scalars().one()
    assert event.actor == "ada" and all(
        w in (event.detail or "") for w in ("20010", "hilde.h", "active"))


async def test_people_filter_by_email(org_url, make_app) -> None:
    """`/` matches e-mail: "k@pob-kommune" is only in Mona's address (mona.k@...)."""
    app = make_app(org_url, actor=Actor("anne"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8", "slash")
        await settle(pilot)  # the box takes the focus after a frame
        await pilot.press(*"k@pob-kommune")
        await settle(pilot)
        table = app.screen.query_one("#org-people")
        assert table.row_count == 1 and table.row_key_at_cursor() == "mona.k"


# --------------------------------------------------------------------------- snapshots

async def steady(pilot) -> None:  # type: ignore[no-untyped-def]
    """Settle until two rounds in a row show the same screen: a table fills in a later
    layout pass than the message that gave it its rows."""
    before = screen_text(pilot.app)
    for _ in range(20):
        await settle(pilot)
        now = screen_text(pilot.app)
        if now == before:
            return
        before = now


def _tables_laid_out(screen) -> bool:  # type: ignore[no-untyped-def]
    """Every table with rows has its height (a DataTable sizes itself when idle)."""
    from textual.widgets import DataTable

    return all(t.size.height > 1 for t in screen.query(DataTable)
               if t.row_count and t.display)


def _keys(*keys: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        screen = pilot.app.screen
        await until(pilot, lambda: getattr(screen, "detail", 1) is not None
                    and getattr(screen, "card", 1) is not None and _tables_laid_out(screen))
        await steady(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_tree_snapshot(snap_compare, org_url, make_app, size) -> None:
    app = make_app(org_url, actor=Actor("ada"))
    assert snap_compare(app, terminal_size=size, run_before=_keys("8"))


@pytest.mark.parametrize("size", SIZES)
def test_unit_snapshot(snap_compare, org_url, make_app, size) -> None:
    app = make_app(org_url, actor=Actor("ada"))
    assert snap_compare(app, terminal_size=size, run_before=_keys("8", "j", "j", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_card_snapshot(snap_compare, org_url, make_app, size) -> None:
    app = make_app(org_url, actor=Actor("ada"))
    assert snap_compare(app, terminal_size=size, run_before=_keys(
        "8", "slash", *"kari", "enter", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_agreement_snapshot(snap_compare, org_url, make_app, size) -> None:
    app = make_app(org_url, actor=Actor("ada"))
    assert snap_compare(app, terminal_size=size, run_before=_keys("8", "a", "enter"))
