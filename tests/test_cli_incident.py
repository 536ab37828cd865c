"""The CLI twins: `pob incident ...` and `pob problem ...` on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from pob_tui.cli import main
from pob_tui.models import Agent, AgentRole, Incident, Person, TicketEvent
from pob_tui.services.identity import login_name

MARKUP = ["[@click=app.quit]x[/]", "[/", "[bold", "[0]", "[a[0]]"]
ESCAPES = ["\x1b[2J", "\x1b]0;title\x07"]


@pytest.fixture
def cli_world(world, db_url):
    """The world plus an agent for whoever runs the CLI (OS user or database role)."""
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


def pob(capsys, url, *argv):
    code = main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_new_list_show_update_json(cli_world, capsys) -> None:
    world, url = cli_world
    code, out, err = pob(capsys, url, "incident", "new", "--caller", "kari.n", "--service",
                         "M365", "--summary", "Outlook henger", "--impact", "2")
    assert code == 0, err
    number = out.strip()
    assert number == "INC-000001"
    code, out, _ = pob(capsys, url, "incident", "list", "--format", "json")
    rows = json.loads(out)
    assert rows[0]["number"] == number and rows[0]["caller"] == "kari.n"
    assert rows[0]["service"] == "M365" and rows[0]["priority"] == 3
    assert {"status", "summary", "team", "assignee", "opened_at"} <= set(rows[0])
    assert rows[0]["opened_at"].endswith("+00:00")
    code, out, err = pob(capsys, url, "incident", "update", number, "--escalate", "NETT",
                         "--reason", "Nettverk", "--work-note", "sjekket kabel", "--minutes",
                         "15")
    assert code == 0, err
    code, out, _ = pob(capsys, url, "incident", "show", number, "--format", "json")
    data = json.loads(out)
    assert data["team"] == "Nettverk" and data["escalation_level"] == 1
    assert any(e["minutes"] == 15 for e in data["events"])
    code, out, _ = pob(capsys, url, "incident", "list", "--format", "csv", "--team", "NETT")
    assert out.splitlines()[0].startswith("number,priority,status")
    assert number in out
    code, out, err = pob(capsys, url, "incident", "update", number, "--status", "resolved",
                         "--comment", "Byttet kabel")
    assert code == 0, err
    code, out, err = pob(capsys, url, "incident", "rate", number, "2", "--comment", "treg")
    assert code == 0 and "follow-up" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["incident", "new", "--caller", "ghost", "--summary", "x"], "unknown caller 'ghost'"),
        (["incident", "new", "--caller", "kari.n", "--service", "NOPE", "--summary", "x"],
         "unknown service 'NOPE'"),
        (["incident", "show", "INC-424242"], "unknown incident 'INC-424242'"),
        (["incident", "list", "--status", "sleeping"], "unknown status 'sleeping'"),
        (["incident", "update", "INC-000001"], "nothing to update"),
        (["problem", "link", "PRB-000001", "INC-777777"], "unknown incident"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(cli_world, capsys, argv, needle) -> None:
    world, url = cli_world
    pob(capsys, url, "incident", "new", "--caller", "kari.n", "--summary", "first")
    before = _counts(world)
    code, out, err = pob(capsys, url, *argv)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert _counts(world) == before


def test_update_is_all_or_nothing(cli_world, capsys) -> None:
    world, url = cli_world
    pob(capsys, url, "incident", "new", "--caller", "kari.n", "--summary", "first")
    before = _counts(world)
    code, _, err = pob(capsys, url, "incident", "update", "INC-000001", "--work-note", "ok",
                       "--status", "resolved")  # resolve without a note fails
    assert code == 2 and "resolution note" in err
    assert _counts(world) == before


def _counts(world) -> tuple[int, int]:
    with world.db.session() as s:
        return (s.execute(select(func.count()).select_from(Incident)).scalar(),
                s.execute(select(func.count()).select_from(TicketEvent)).scalar())


@pytest.mark.parametrize("text", MARKUP + ESCAPES)
def test_user_text_is_shown_literally(cli_world, capsys, text) -> None:
    world, url = cli_world
    code, out, err = pob(capsys, url, "incident", "new", "--caller", "kari.n", "--summary",
                         f"A{text}B", "--description", text)
    assert code == 0, err
    number = out.strip()
    code, out, _ = pob(capsys, url, "incident", "list", "--format", "json")
    assert json.loads(out)[0]["summary"] == f"A{text}B"
    for argv in (["incident", "list"], ["incident", "show", number]):
        code, out, _ = pob(capsys, url, *argv)
        assert code == 0
        assert "\x1b" not in out and "\x07" not in out
        shown = text.replace("\x1b", "^[").replace("\x07", "^G")
        assert f"A{shown}B" in out


def test_problem_cli(cli_world, capsys) -> None:
    world, url = cli_world
    pob(capsys, url, "incident", "new", "--caller", "kari.n", "--summary", "Outlook henger")
    code, out, err = pob(capsys, url, "problem", "new", "--title", "Outlook",
                         "--from-incident", "INC-000001")
    assert code == 0, err
    number = out.strip()
    code, out, _ = pob(capsys, url, "problem", "show", number, "--format", "json")
    assert json.loads(out)["incidents"][0]["number"] == "INC-000001"
    code, out, _ = pob(capsys, url, "problem", "list", "--known-errors", "--format", "json")
    assert [r["number"] for r in json.loads(out)] == ["PRB-000001"]


def test_assign_and_link_several_at_once(cli_world, capsys) -> None:
    """The queue's bulk actions have CLI twins: all of the incidents or none."""
    world, url = cli_world
    numbers = []
    for summary in ("Skriver 1", "Skriver 2"):
        code, out, err = pob(capsys, url, "incident", "new", "--caller", "kari.n",
                             "--summary", summary)
        assert code == 0, err
        numbers.append(out.strip())
    code, out, err = pob(capsys, url, "incident", "assign", *numbers, "INC-999999",
                         "--team", "NETT")
    assert code != 0 and "INC-999999" in err
    with world.db.session() as s:
        assert s.execute(select(func.count()).select_from(Incident)
                         .where(Incident.status == "assigned")).scalar_one() == 0
    code, out, err = pob(capsys, url, "incident", "assign", *numbers, "--team", "NETT")
    assert code == 0, err
    assert "2" in out
    code, out, err = pob(capsys, url, "incident", "assign", numbers[0])
    assert code != 0 and "--team" in err
    code, out, err = pob(capsys, url, "incident", "link", *numbers, "--new-problem",
                         "Skrivere faller ut")
    assert code == 0, err
    assert "PRB-000002" in out
    with world.db.session() as s:
        linked = s.execute(select(Incident.number).where(Incident.problem_id.is_not(None))
                           ).scalars().all()
    assert sorted(linked) == sorted(numbers)
    code, _out, err = pob(capsys, url, "incident", "link", numbers[0])
    assert code == 2  # --problem or --new-problem is required
