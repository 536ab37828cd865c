"""What the app shell asks the database (dbinfo, agents, numbers, tickets), on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from pob_tui.models import ChangeRequest, Problem
from pob_tui.services import agents, dbinfo, numbers, tickets
from tests.tui.conftest import MARKUP_SUMMARIES, fill


def test_empty_database_is_empty_until_filled(db) -> None:
    with db.session() as s:
        assert dbinfo.is_empty(s)
    fill(db, incidents=3)
    with db.session() as s:
        assert not dbinfo.is_empty(s)


def test_agent_info_known_and_unknown(db) -> None:
    fill(db, incidents=1)
    with db.session() as s:
        known = agents.agent_info(s, "agent1")
        unknown = agents.agent_info(s, "nobody")
    assert known.known and known.name == "Kari Nordmann" and known.team == "Service desk"
    assert not unknown.known and unknown.username == "nobody"


def test_find_ticket_any_kind_case_insensitive(db) -> None:
    fill(db, incidents=8)
    with db.session() as s:
        s.add(Problem(number="PRB-000001", title="Printers drop jobs", status="investigating"))
        s.add(ChangeRequest(number="CHG-000002", title="Replace core switch"))
    with db.session() as s:
        inc = tickets.find_ticket(s, "inc-000003")
        prb = tickets.find_ticket(s, "PRB-1")
        chg = tickets.find_ticket(s, " chg-000002 ")
        assert tickets.find_ticket(s, "INC-999999") is None
        assert tickets.find_ticket(s, "3") is None
    assert inc is not None and inc.kind == "incident" and inc.summary == MARKUP_SUMMARIES[2]
    assert inc.caller and inc.service
    assert prb is not None and prb.kind == "problem" and prb.status == "investigating"
    assert chg is not None and chg.kind == "change" and chg.summary == "Replace core switch"


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("sqlite:////var/lib/pob/pob.sqlite3", "sqlite pob.sqlite3"),
        ("sqlite:///:memory:", "sqlite :memory:"),
        ("postgresql+psycopg://pob:s3cret@db.kommune.no:5432/itsm",
         "postgresql db.kommune.no/itsm"),
        ("postgresql://db.kommune.no/itsm", "postgresql db.kommune.no/itsm"),
    ],
)
def test_database_label_never_shows_the_password(url: str, label: str) -> None:
    assert dbinfo.database_label(url) == label
    assert "s3cret" not in dbinfo.database_label(url)


@pytest.mark.parametrize(
    ("text", "number"),
    [("INC-000123", "INC-000123"), ("inc-123", "INC-000123"), ("chg-7", "CHG-000007"),
     ("123", None), ("INC-", None), ("XYZ-000001", None), ("INC-1234567", None)],
)
def test_normalize_ticket_number(text: str, number: str | None) -> None:
    assert numbers.normalize_ticket_number(text) == number
