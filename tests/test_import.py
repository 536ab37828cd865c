"""CSV import: errors with line/column/reason, all or nothing, idempotence, BOM and `;`,
templates, the permission, and the round trip export -> empty database -> same figures."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pob_tui.cli import main
from pob_tui.db import Database, make_engine
from pob_tui.importers.csvio import (
    IMPORT_ORDER,
    KINDS,
    ImportFailed,
    export_csv,
    import_csv,
    template,
)
from pob_tui.models import Agent, AgentRole, OrgUnit, Person
from pob_tui.reports.costs import Period, allocate, costs_by_org_unit, costs_by_service
from pob_tui.services.identity import login_name

UNITS = "code,name,kind,parent\nOPP,Oppvekst,sector,\nHOS,Hosle skole,unit,OPP\n"
PEOPLE = ("username,first_name,last_name,phone,email,org_unit\n"
          "kari.n,Kari,Nordmann,+47 912,kari@x.no,HOS\n")


def test_templates_have_documented_headers() -> None:
    for kind in KINDS:
        assert template(kind).strip().split(",") == KINDS[kind].header


def test_import_and_reimport_changes_nothing(db) -> None:
    with db.session() as s:
        r1 = import_csv(s, "org-units", UNITS, name="u.csv")
        r2 = import_csv(s, "people", PEOPLE, name="p.csv")
    assert (r1.created, r2.created) == (2, 1)
    with db.session() as s:
        again = import_csv(s, "org-units", UNITS, name="u.csv")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        again = import_csv(s, "people", PEOPLE, name="p.csv")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
        kari = s.execute(select(Person).where(Person.username == "kari.n")).scalar_one()
        assert kari.search == "kari nordmann kari.n +47 912 kari@x.no"
        hos = s.execute(select(OrgUnit).where(OrgUnit.code == "HOS")).scalar_one()
        assert hos.parent_id is not None


def test_bom_and_semicolons(db) -> None:
    data = "\ufeffcode;name;kind;parent\nOPP;Oppvekst;sector;\n".encode()
    with db.session() as s:
        assert import_csv(s, "org-units", data, name="u.csv").created == 1
        assert s.execute(select(func.count()).select_from(OrgUnit)).scalar_one() == 1


def test_errors_name_line_column_reason_and_nothing_lands(db) -> None:
    bad = ("code,name,kind,parent\nOPP,Oppvekst,sector,\nHOS,Hosle,school,OPP\n"
           "X,,unit,NOPE\nOPP,Igjen,sector,\n")
    with pytest.raises(ImportFailed) as exc, db.session() as s:
        import_csv(s, "org-units", bad, name="units.csv")
    errors = exc.value.errors
    assert any(e.startswith("units.csv:3: column 'kind': expected one of") for e in errors)
    assert "units.csv:4: column 'name': required, but empty" in errors
    assert any(e.startswith("units.csv:4: column 'parent': no parent 'NOPE'") for e in errors)
    assert "units.csv:5: the same code as line 2" in errors
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(OrgUnit)).scalar_one() == 0


def test_header_errors(db) -> None:
    with pytest.raises(ImportFailed) as exc, db.session() as s:
        import_csv(s, "costs", "service,year,colour\n", name="c.csv")
    text = str(exc.value)
    assert "c.csv:1: column 'colour': unknown column" in text
    assert "c.csv:1: column 'kind': required column missing" in text


def test_cli_import_needs_administrator(db, db_url, tmp_path, capsys) -> None:
    path = tmp_path / "units.csv"
    path.write_text(UNITS, encoding="utf-8")
    with db.session() as s:
        me = login_name(s)
        p = Person(username=f"{me}-p", first_name="Me", last_name="Self")
        s.add(p)
        s.flush()
        a = Agent(username=me, person_id=p.id)
        s.add(a)
        s.flush()
        s.add(AgentRole(agent_id=a.id, role="first_line"))
    assert main(["--db", db_url, "import", "org-units", str(path)]) == 5
    assert "import needs the role administrator" in capsys.readouterr().err
    with db.session() as s:
        a = s.execute(select(Agent).where(Agent.username == me)).scalar_one()
        s.add(AgentRole(agent_id=a.id, role="administrator"))
    assert main(["--db", db_url, "import", "org-units", str(path)]) == 0
    assert "2 created" in capsys.readouterr().out
    assert main(["--db", db_url, "import", "org-units", "--template"]) == 0
    assert capsys.readouterr().out.startswith("code,name,kind,parent")


def _figures(database: Database):  # type: ignore[no-untyped-def]
    with database.session() as s:
        alloc = allocate(s, Period.year(2026), hourly_rate=Decimal(0))
        by_service = {r["code"]: (r["total"], r["allocated"], r["unallocated"])
                      for r in costs_by_service(alloc)}
        by_unit = {r["org_unit"]: r["total"] for r in costs_by_org_unit(alloc)}
    return by_service, by_unit


def test_round_trip_gives_the_same_figures(demo_db, db) -> None:
    files: dict[str, str] = {}
    with demo_db.session() as s:
        for kind in IMPORT_ORDER:
            buf = io.StringIO()
            export_csv(s, kind, buf)
            files[kind] = buf.getvalue()
    # managers are people: org units first without them, then again with them
    first_units = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 5)
                            for line in files["org-units"].splitlines())
    with db.session() as s:
        import_csv(s, "org-units", first_units, name="org-units.csv")
        for kind in [*IMPORT_ORDER[1:], "org-units"]:
            import_csv(s, kind, files[kind], name=f"{kind}.csv")
    with db.session() as s:  # and once more: nothing changes
        for kind in IMPORT_ORDER:
            r = import_csv(s, kind, files[kind], name=f"{kind}.csv")
            assert (r.created, r.updated) == (0, 0), kind
    assert _figures(demo_db) == _figures(db)


def test_export_matches_database(demo_url) -> None:
    database = Database(make_engine(demo_url))
    try:
        with database.session() as s:
            buf = io.StringIO()
            n = export_csv(s, "costs", buf)
            assert n == s.execute(select(func.count()).select_from(
                KINDS["costs"].model)).scalar_one()  # type: ignore[arg-type]
    finally:
        database.dispose()
