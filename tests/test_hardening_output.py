"""Issue 12, items 2 and 8: what pob writes is inert in a spreadsheet, a terminal, a reader.

Formulas in CSV get a leading `'` in every CSV writer (export, report, incident list, audit,
the TUI's exports share `textsafe.csv_cell`); real numbers stay numbers; control characters
never reach CSV raw; JSON escapes C0 and C1 controls; the table measures terminal cells.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from pob_tui.cli import main
from pob_tui.commands.output import print_table
from pob_tui.models import AgentRole, Service, ServiceCost
from pob_tui.services import audit_query
from pob_tui.services import incidents as svc
from pob_tui.textsafe import csv_cell, csv_uncell, json_dumps, visible

NOW = datetime.now(UTC).replace(microsecond=0)
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
            "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_cell_gets_a_quote_and_reads_back(text: str) -> None:
    cell = csv_cell(text)
    assert cell.startswith("'")
    assert "\r" not in cell and "\x1b" not in cell
    if "\r" not in text:
        assert csv_uncell(cell) == text


@pytest.mark.parametrize("value", [-12.5, 42, "-12.50", "+3", "1234.50", 0])
def test_numbers_stay_numbers(value) -> None:
    assert csv_cell(value) == str(value)


def test_csv_shows_controls_visibly_and_keeps_line_breaks() -> None:
    assert csv_cell("a\x1b[2Jb\u009bc\x07") == "a^[[2Jb\\x9bc^G"
    assert csv_cell("line1\r\nline2") == "line1\nline2"


def test_json_escapes_c0_c1_and_bidi() -> None:
    text = json_dumps({"s": "a\x1b[2J\u009b\u202eb\x7f"})
    assert "\x1b" not in text and "\u009b" not in text and "\u202e" not in text
    assert "\\u001b" in text and "\\u009b" in text and "\\u202e" in text
    assert json.loads(text) == {"s": "a\x1b[2J\u009b\u202eb\x7f"}


def test_terminal_text_neutralises_bidi_and_table_counts_cells() -> None:
    assert "\u202e" not in visible("abc\u202edef") and "<U+202E>" in visible("abc\u202edef")
    out = io.StringIO()
    rows = [{"a": "🙂🙂", "b": "x"}, {"a": "e\u0301e\u0301e\u0301", "b": "y"},
            {"a": "abcd", "b": "z"}]
    print_table(rows, ["a", "b"], out=out)
    lines = out.getvalue().splitlines()
    from rich.cells import cell_len

    # the second column starts at the same terminal column on every line
    starts = {cell_len(line[: line.rindex(" ") + 1]) for line in lines}
    assert len(starts) == 1, out.getvalue()


def _formula_world(world):
    with world.db.session() as s:
        s.execute(update(Service).where(Service.code == "M365")
                  .values(name='=HYPERLINK("http://x","y")'))
        inc = svc.create_incident(s, world.anne, svc.NewIncident(
            caller="kari.n", service="M365", summary="@SUM(1)"), now=NOW)
        svc.comment(s, world.anne, inc.number, "-2+3 \x1b[2J", now=NOW)
        m365 = s.execute(select(Service.id).where(Service.code == "M365")).scalar_one()
        s.add(ServiceCost(service_id=m365, year=NOW.year, kind="licence",
                          amount=Decimal("-1500.00")))
    return inc.number


def _me(world, role: str) -> None:
    from tests.test_teamwork import _make_me

    _make_me(world, role)


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


def test_every_cli_csv_writer_guards_formulas(world, db_url: str, capsys) -> None:
    _formula_world(world)
    _me(world, "administrator")
    day = NOW.date().isoformat()
    outputs = {}
    for name, argv in {
        "export": ["export", "services"],
        "incident list": ["incident", "list", "--format", "csv"],
        "audit": ["audit", "--format", "csv"],
        "report": ["report", "costs", "--by", "service", "--year", day[:4],
                   "--format", "csv"],
    }.items():
        code = main(["--db", db_url, *argv])
        out, err = capsys.readouterr()
        assert code == 0, (name, err)
        outputs[name] = out
        for cell in _cells(out):
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
            assert not (cell.startswith("-") and not cell.lstrip("-").replace(".", "")
                        .isdigit()), (name, cell)
            assert "\x1b" not in cell, (name, cell)
    assert "'=HYPERLINK(\"http://x\",\"y\")" in _cells(outputs["export"])
    assert "'@SUM(1)" in _cells(outputs["incident list"])
    assert "'=HYPERLINK(\"http://x\",\"y\")" in _cells(outputs["report"])
    assert any(c.startswith("'-2+3 ^[[2J") for c in _cells(outputs["audit"]))


def test_export_with_formulas_round_trips(world, db_url: str, capsys, tmp_path) -> None:
    _formula_world(world)
    path = tmp_path / "services.csv"
    assert main(["--db", db_url, "export", "services", "-o", str(path)]) == 0
    _me(world, "administrator")
    capsys.readouterr()
    assert main(["--db", db_url, "import", "services", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 0
    with world.db.session() as s:  # the quote is pob's guard, not part of the name
        name = s.execute(select(Service.name).where(Service.code == "M365")).scalar_one()
    assert name == '=HYPERLINK("http://x","y")'
    again = tmp_path / "again.csv"
    assert main(["--db", db_url, "export", "services", "-o", str(again)]) == 0
    assert again.read_text() == path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600


def test_audit_csv_for_the_tui_export(world) -> None:
    number = _formula_world(world)
    with world.db.session() as s:
        s.add(AgentRole(agent_id=world.anne.agent_id, role="administrator"))
    from pob_tui.services.identity import load_actor

    with world.db.session() as s:
        admin = load_actor(s, "anne")
        rows = audit_query.list_events(s, admin, audit_query.AuditFilter(ticket=number))
    text = audit_query.to_csv(rows)
    assert "\x1b" not in text
    assert all(not c.startswith(("=", "+", "@")) for c in _cells(text))
