"""services.system: the shell's queries, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from pob_tui.models import ChangeRequest, Problem
from pob_tui.services import system
from tests.tui.conftest import MARKUP_SUMMARIES, fill


def test_empty_database_is_empty_until_filled(db) -> None:
    with db.session() as s:
        assert system.is_empty(s)
        assert system.count_open_incidents(s) == 0
        assert system.ci_counts_by_class(s) == []
    fill(db, incidents=3)
    with db.session() as s:
        assert not system.is_empty(s)


def test_open_incidents_are_counted(db) -> None:
    fill(db, incidents=40)
    with db.session() as s:
        assert system.count_open_incidents(s) == 40


def test_agent_info_known_and_unknown(db) -> None:
    fill(db, incidents=1)
    with db.session() as s:
        known = system.agent_info(s, "agent1")
        unknown = system.agent_info(s, "nobody")
    assert known.known and known.name == "Kari Nordmann" and known.team == "Service desk"
    assert not unknown.known and unknown.username == "nobody"


def test_ci_counts_by_class_largest_first(db) -> None:
    fill(db, incidents=1)
    with db.session() as s:
        assert system.ci_counts_by_class(s) == [("client", 9), ("server", 5), ("printer", 1)]


def test_find_ticket_any_kind_case_insensitive(db) -> None:
    fill(db, incidents=8)
    with db.session() as s:
        s.add(Problem(number="PRB-000001", title="Printers drop jobs", status="investigating"))
        s.add(ChangeRequest(number="CHG-000002", title="Replace core switch"))
    with db.session() as s:
        inc = system.find_ticket(s, "inc-000003")
        prb = system.find_ticket(s, "PRB-1")
        chg = system.find_ticket(s, " chg-000002 ")
        assert system.find_ticket(s, "INC-999999") is None
        assert system.find_ticket(s, "3") is None
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
    assert system.database_label(url) == label
    assert "s3cret" not in system.database_label(url)


@pytest.mark.parametrize(
    ("text", "number"),
    [("INC-000123", "INC-000123"), ("inc-123", "INC-000123"), ("chg-7", "CHG-000007"),
     ("123", None), ("INC-", None), ("XYZ-000001", None), ("INC-1234567", None)],
)
def test_normalize_ticket_number(text: str, number: str | None) -> None:
    assert system.normalize_ticket_number(text) == number
