"""Issue 13 item 10: the CLI speaks the chosen language and shows times as the TUI does.

`--lang nb` and `[general] language = "nb"` reach every line the CLI prints for people
(help, errors, report tables and Markdown, the CAB agenda and minutes); JSON and CSV keep
their English keys and values. Times are in the calendar's zone with the offset and without
microseconds. `incident list` is newest first and its table names the service.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from pob_tui import i18n
from pob_tui.cli import main
from pob_tui.models import Agent, AgentRole, Incident, Person
from pob_tui.services.identity import Actor, login_name


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    """`main` switches the process's language; later tests expect English."""
    yield
    i18n.set_language("en")


@pytest.fixture
def cli_world(world, db_url):
    """The world plus an agent for whoever runs the CLI, and two incidents: INC-000001 on
    M365 opened first, INC-000002 on another service opened an hour later."""
    with world.db.session() as s:
        me = login_name(s)
        p = Person(username=f"{me}-person", first_name="Me", last_name="Myself")
        s.add(p)
        s.flush()
        desk = s.execute(select(Agent.team_id).where(Agent.username == "anne")).scalar()
        agent = Agent(username=me, person_id=p.id, team_id=desk)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="first_line"))
    return world, db_url


def pob(capsys, url, *argv, actor: Actor | None = None):
    code = main(["--db", url, *argv], actor=actor)
    out, err = capsys.readouterr()
    return code, out, err


def _two_incidents(capsys, world, url) -> None:
    for service, summary in (("M365", "Outlook henger"), ("M365", "Teams faller ut")):
        code, _out, err = pob(capsys, url, "incident", "new", "--caller", "kari.n",
                              "--service", service, "--summary", summary)
        assert code == 0, err
    # INC-000001 opened in winter time with microseconds, INC-000002 an hour later
    first = datetime(2026, 11, 27, 8, 5, 9, 123456, tzinfo=UTC)
    with world.db.session() as s:
        s.execute(update(Incident).where(Incident.number == "INC-000001")
                  .values(opened_at=first))
        s.execute(update(Incident).where(Incident.number == "INC-000002")
                  .values(opened_at=first + timedelta(hours=1)))


def test_incident_list_newest_first_with_service_name_and_local_time(cli_world, capsys) -> None:
    world, url = cli_world
    _two_incidents(capsys, world, url)
    code, out, err = pob(capsys, url, "incident", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NUMBER", "PRIORITY"]
    numbers = [line.split()[0] for line in lines[1:]]
    assert numbers == ["INC-000002", "INC-000001"]  # newest first by default
    assert "Microsoft 365" in lines[1]  # the service's name, not its code
    assert not re.search(r"\bM365\b", out)
    # Europe/Oslo in November is +01:00: 08:05 UTC reads 09:05, with weekday and offset
    assert "Fri 27.11.2026 09:05 +01:00" in lines[2]
    assert "08:05" not in out and ".123456" not in out and "T08" not in out
    # --sort still wins over the default
    code, out, _ = pob(capsys, url, "incident", "list", "--sort", "age")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["INC-000001", "INC-000002"]


def test_incident_list_json_and_csv_keep_the_code_and_iso_times(cli_world, capsys) -> None:
    world, url = cli_world
    _two_incidents(capsys, world, url)
    code, out, _ = pob(capsys, url, "--lang", "nb", "incident", "list", "--format", "json")
    rows = json.loads(out)
    assert [r["number"] for r in rows] == ["INC-000002", "INC-000001"]
    assert rows[0]["service"] == "M365" and "service_name" not in rows[0]
    assert rows[0]["status"] == "new"  # the stored value, not "ny"
    assert rows[1]["opened_at"] == "2026-11-27T08:05:09.123456+00:00"
    code, out, _ = pob(capsys, url, "--lang", "nb", "incident", "list", "--format", "csv")
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["number", "priority", "status", "caller", "service", "summary", "team",
                        "assignee", "opened_at"]
    assert table[1][4] == "M365" and table[1][2] == "new"


def test_incident_list_and_show_in_norwegian(cli_world, capsys) -> None:
    world, url = cli_world
    _two_incidents(capsys, world, url)
    code, out, err = pob(capsys, url, "--lang", "nb", "incident", "list")
    assert code == 0, err
    head = out.splitlines()[0]
    assert head.split()[:2] == ["NUMMER", "PRIORITET"] and "TJENESTE" in head
    assert "ÅPNET" in head and "OPENED" not in head
    assert " ny " in out.splitlines()[1]  # the status as the queue shows it in nb
    assert "fre 27.11.2026 09:05 +01:00" in out
    code, out, err = pob(capsys, url, "--lang", "nb", "incident", "show", "INC-000001")
    assert code == 0, err
    assert re.search(r"^Nummer\s+INC-000001$", out, re.M)
    assert re.search(r"^Åpnet\s+fre 27.11.2026 09:05 \+01:00$", out, re.M)
    assert re.search(r"^Status\s+ny$", out, re.M)


def test_language_from_the_configuration_reaches_errors_and_help(
        cli_world, capsys, tmp_path) -> None:
    _world, url = cli_world
    config = tmp_path / "pob.toml"
    config.write_text('[general]\nlanguage = "nb"\n', encoding="utf-8")
    code, out, _err = pob(capsys, url, "--config", str(config), "incident", "--help")
    assert code == 0
    assert "list incidents" not in out and "one incident with its events" not in out
    code, out, _err = pob(capsys, url, "--config", str(config), "--help")
    assert "Tastaturstyrt IT-tjenestestyring." in out and "Keyboard-driven" not in out
    # errors: the CLI's own, argparse types, and the domain's
    code, _out, err = pob(capsys, url, "--config", str(config), "incident", "new",
                          "--caller", "x", "--summary", "a\x00b")
    assert (code, err) == (2, "pob: argument 10 inneholder en NUL-byte\n")
    code, _out, err = pob(capsys, url, "--lang", "nb", "incident", "show", "INC-424242")
    assert code == 2 and err.startswith("pob: ") and "INC-424242" in err
    assert err != "pob: unknown incident 'INC-424242'\n" or not _translated(
        "unknown incident {number}")
    code, _out, err = pob(capsys, url, "--lang", "en", "incident", "show", "INC-424242")
    assert err == "pob: unknown incident 'INC-424242'\n"


def _translated(msgid: str) -> bool:
    """Whether the nb catalogue has `msgid` yet (new messages get theirs from tools/i18n.py)."""
    i18n.set_language("nb")
    try:
        return i18n._(msgid) != msgid
    finally:
        i18n.set_language("en")


def test_report_table_and_markdown_in_norwegian_json_csv_english(db, db_url, capsys) -> None:
    from tests.test_costs import _me, hand_world

    hand_world(db)
    _me(db, ["administrator"])
    year = ("--year", "2025")
    code, out, err = pob(capsys, db_url, "--lang", "nb", "report", "costs", "--by", "org-unit",
                         *year)
    assert code == 0, err
    head = out.splitlines()[0]
    assert head.split()[:2] == ["ENHET", "NAVN"] and "ORG_UNIT" not in head
    opp = next(line for line in out.splitlines() if line.startswith("OPP "))
    assert "36 500,00" in opp  # thousands apart, decimal comma
    code, out, _ = pob(capsys, db_url, "--lang", "en", "report", "costs", "--by", "org-unit",
                       *year)
    assert "36 500.00" in next(line for line in out.splitlines() if line.startswith("OPP "))
    code, out, _ = pob(capsys, db_url, "--lang", "nb", "report", "chargeback", *year,
                       "--format", "md")
    first = out.splitlines()[0]
    assert first.startswith("| Kunde |") and "| Beløp |" in first and "amount" not in first
    # scripts: keys and values stay English, amounts with a point
    code, out, _ = pob(capsys, db_url, "--lang", "nb", "report", "chargeback", *year,
                       "--format", "csv")
    assert out.splitlines()[0] == "customer,customer_name,code,service,people,amount"
    code, out, _ = pob(capsys, db_url, "--lang", "nb", "report", "costs", "--by", "org-unit",
                       *year, "--format", "csv")
    assert "36500.00" in out and "36 500" not in out
    code, out, _ = pob(capsys, db_url, "--lang", "nb", "report", "kpi", *year,
                       "--format", "csv")
    assert out.splitlines()[0] == "metric,value,target,flag"
    assert "\ncalls," in out
    code, out, _ = pob(capsys, db_url, "--lang", "nb", "report", "costs", *year,
                       "--format", "json")
    assert json.loads(out)[0]["total"].count(",") == 0


def test_cab_agenda_and_minutes_in_norwegian() -> None:
    """The agenda and minutes text as the CLI prints them, in nb and in en."""
    from pob_tui.reports import cab as report

    when = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    item = {"number": "CHG-000007", "title": "Bytte brannmur", "type": "normal",
            "status": "awaiting_cab",
            "risk": "high", "risk_reasons": [], "planned_start": when,
            "planned_end": when + timedelta(hours=2), "impact": None, "conflicts": [],
            "earlier_decisions": [], "votes": [{"member": "anne", "vote": "approve",
                                                "conditions": None}],
            "decision": "approve", "chair_decision": {"vote": "approve", "conditions": ""}}
    data = {"meeting": {"date": "2026-12-01", "time": "13:00", "kind": "emergency",
                        "status": "planned", "cutoff": None, "chair": "Anne",
                        "members": ["anne"]},
            "items": [item], "summary": {"approve": 1, "reject": 0, "defer": 0,
                                         "undecided": 0}}
    i18n.set_language("nb")
    agenda = report.agenda_markdown(data)
    assert agenda.startswith("# Akutt-CAB")
    assert "| # | Endring | Risiko | Type | Tidsvindu | Tittel |" in agenda
    assert "| høy | normal |" in agenda and "| high |" not in agenda
    assert "- Vote: anne approve" not in agenda and "godkjenn" in agenda
    text = report.agenda_text(data)
    assert "(akutt, planlagt)" in text and "høy" in text and "emergency" not in text
    # each item as the CAB screen's detail pane shows it (one renderer for both)
    lines = report.item_lines(item)
    assert "    anne: godkjenn" in text and all("    " + line in text for line in lines)
    minutes = report.minutes_markdown(data)
    assert "| CHG-000007 | Bytte brannmur | høy | godkjent |" in minutes
    assert "anne: godkjenn" in minutes
    i18n.set_language("en")
    assert "(emergency, planned): 1 change\n" in report.agenda_text(data)
    assert "| CHG-000007 | Bytte brannmur | high | approved |" in report.minutes_markdown(data)


def test_cab_weekdays_in_the_error_follow_the_language(cli_world, capsys) -> None:
    """"no CAB meeting on ...; the CAB meets on Tue, Thu" named the days in English in nb."""
    _world, url = cli_world
    code, _out, err = pob(capsys, url, "--lang", "nb", "cab", "agenda", "--meeting",
                          "2026-11-25")
    assert code == 2 and "2026-11-25" in err
    days = err.rsplit(";", 1)[1]
    assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", days), err
    assert re.search(r"\b(man|tir|ons|tor|fre|lør|søn)\b", days), err
    code, _out, err = pob(capsys, url, "--lang", "en", "cab", "agenda", "--meeting",
                          "2026-11-25")
    assert re.search(r"\b(Mon|Tue|Wed|Thu|Fri)\b", err.rsplit(";", 1)[1]), err


def test_change_show_in_norwegian_with_local_times(cli_world, capsys) -> None:
    _world, url = cli_world
    code, out, err = pob(capsys, url, "change", "new", "--title", "Bytte brannmur",
                         "--start", "2026-12-02 20:00", "--end", "2026-12-02 21:00")
    assert code == 0, err
    number = out.split()[0]
    code, out, err = pob(capsys, url, "--lang", "nb", "change", "show", number)
    assert code == 0, err
    assert re.search(r"^Status\s+utkast$", out, re.M), out
    # 20:00 Oslo time, with weekday and offset, as the TUI shows a moment
    assert "ons 02.12.2026 20:00 +01:00 - ons 02.12.2026 21:00 +01:00" in out, out
    code, out, _ = pob(capsys, url, "change", "show", number, "--format", "json")
    assert json.loads(out)["status"] == "draft"


def test_cab_impact_counts_singular_and_plural() -> None:
    from pob_tui.reports.cab import impact_text

    one = {"cis": 1, "services": 1, "people": 1, "locations": 1}
    many = {"cis": 2, "services": 3, "people": 1452, "locations": 0}
    assert impact_text(one) == "1 CI, 1 service, 1 person, 1 location"
    assert impact_text(many) == "2 CIs, 3 services, 1 452 people, 0 locations"


def test_cab_impact_counts_singular_and_plural_in_norwegian() -> None:
    """"1 tjeneste", not "1 tjenester": nb has its own singular and plural (issue 13 item
    10), in the counts and in the agenda line that shows them."""
    from pob_tui.reports.cab import impact_text, item_lines

    one = {"cis": 1, "services": 1, "people": 1, "locations": 1}
    many = {"cis": 2, "services": 3, "people": 1452, "locations": 0}
    i18n.set_language("nb")
    assert impact_text(one) == "1 CI, 1 tjeneste, 1 person, 1 lokasjon"
    assert impact_text(many) == "2 CI-er, 3 tjenester, 1 452 personer, 0 lokasjoner"
    item = {"number": "CHG-000007", "title": "Bytte brannmur", "type": "normal",
            "status": "awaiting_cab", "risk": "low", "risk_reasons": [],
            "planned_start": None, "planned_end": None, "impact": one, "conflicts": [],
            "earlier_decisions": [], "votes": [], "decision": None, "chair_decision": None}
    assert "Konsekvens: 1 CI, 1 tjeneste, 1 person, 1 lokasjon" in item_lines(item)
