"""Issue 12, item 3: no cycle in the org tree, and a cost report never drops money.

Import and editing refuse a loop naming the units (`org_units.check_no_cycle` for an edit,
the importer for a whole file); a loop put there by other means makes the cost reports
refuse with one line instead of showing a smaller total.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from pob_tui.cli import main
from pob_tui.errors import InconsistentData, InvalidInput
from pob_tui.importers import csvio
from pob_tui.models import OrgUnit, Service, ServiceCost
from pob_tui.orgtree import find_cycle
from pob_tui.reports import costs
from pob_tui.services.org_units import check_no_cycle


def test_find_cycle() -> None:
    assert find_cycle({"A": "B", "B": "A"}, "A") == ["A", "B", "A"]
    assert find_cycle({"C": "A", "A": "B", "B": "A"}, "C") == ["A", "B", "A"]
    assert find_cycle({"A": "B", "B": None}, "A") is None


def test_import_refuses_a_cycle_in_the_file(db) -> None:
    data = "code,name,kind,parent\nA,Alfa,unit,B\nB,Bravo,unit,A\nC,Charlie,unit,\n"
    with db.session() as s, pytest.raises(csvio.ImportFailed) as err:
        csvio.import_csv(s, "org-units", data, name="units.csv")
    assert "units.csv:2: column 'parent': the org units would form a cycle A -> B -> A" \
        in str(err.value)
    with db.session() as s:
        assert s.execute(select(OrgUnit.id)).first() is None  # nothing written


def test_import_refuses_a_cycle_through_the_database(world) -> None:
    data = "code,name,kind,parent\nOPP,Oppvekst,sector,OPP-HOS\n"
    with world.db.session() as s, pytest.raises(csvio.ImportFailed) as err:
        csvio.import_csv(s, "org-units", data, name="units.csv")
    assert "cycle OPP -> OPP-HOS -> OPP" in str(err.value)


def test_check_no_cycle_for_an_edit(world) -> None:
    with world.db.session() as s:
        ids = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        with pytest.raises(InvalidInput, match=r"OPP cannot be placed under OPP-HOS: .*"
                                               r"OPP -> OPP-HOS -> OPP"):
            check_no_cycle(s, ids["OPP"], ids["OPP-HOS"])
        with pytest.raises(InvalidInput, match="OPP -> OPP"):
            check_no_cycle(s, ids["OPP"], ids["OPP"])
        check_no_cycle(s, ids["OPP-HOS"], ids["OPP"])  # the existing parent: fine
        check_no_cycle(s, ids["OPP"], None)


def test_a_report_refuses_a_cycle_rather_than_drop_money(world, db_url, capsys) -> None:
    with world.db.session() as s:  # before: the whole amount is in the totals
        printing = s.execute(select(Service.id).where(Service.code == "PRINT")).scalar_one()
        s.add(ServiceCost(service_id=printing, year=2026, kind="licence",
                          amount=Decimal("21076.69")))
    with world.db.session() as s:
        alloc = costs.allocate(s, costs.Period.year(2026), hourly_rate=Decimal(0))
        rows = costs.costs_by_org_unit(alloc)
        costs.chargeback(s, alloc)
    assert sum(r["total"] for r in rows if r["depth"] == 0) == Decimal("21076.69")
    with world.db.session() as s:
        ids = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        s.execute(update(OrgUnit).where(OrgUnit.code == "OPP").values(parent_id=ids["OPP-HOS"]))
    with world.db.session() as s, pytest.raises(InconsistentData, match="cycle"):
        costs.allocate(s, costs.Period.year(2026), hourly_rate=Decimal(0))
    from tests.test_teamwork import _make_me

    _make_me(world, "administrator")
    capsys.readouterr()
    code = main(["--db", db_url, "report", "costs", "--by", "org-unit", "--year", "2026"])
    err = capsys.readouterr().err
    assert code == 3 and "cycle" in err and "OPP" in err and len(err.splitlines()) == 1


def test_totals_that_do_not_add_up_are_an_error(world) -> None:
    with world.db.session() as s:
        printing = s.execute(select(Service.id).where(Service.code == "PRINT")).scalar_one()
        s.add(ServiceCost(service_id=printing, year=2026, kind="licence",
                          amount=Decimal("100.00")))
    with world.db.session() as s:
        alloc = costs.allocate(s, costs.Period.year(2026), hourly_rate=Decimal(0))
    alloc.inputs.parents.clear()  # as if the tree lost its units: the rows would miss money
    alloc.inputs.units.clear()
    with pytest.raises(InconsistentData, match="add up to"):
        costs.costs_by_org_unit(alloc)
