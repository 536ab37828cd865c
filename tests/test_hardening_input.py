"""Issue 12, items 8 and 9, and a fuzz test: Markdown is inert, usernames are
case-insensitive, amounts are plain ASCII numbers, a password with `@` never shows, and no
CSV row or CLI text argument gives a traceback or exit status 1."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pob_tui.cli import main
from pob_tui.db import safe_url
from pob_tui.errors import DatabaseError, InvalidInput
from pob_tui.importers import csvio
from pob_tui.models import Person
from pob_tui.reports.cab import agenda_markdown
from pob_tui.textsafe import markdown_inline

# --- item 8: Markdown ---------------------------------------------------------------------------


def test_markdown_escapes_html_and_drops_javascript_links() -> None:
    out = markdown_inline('<img src=x onerror=alert(1)> [klikk](javascript:alert(1)) '
                          '<javascript:alert(2)> [ok](https://x) | \x1b[2J \u202e')
    assert "<" not in out and ">" not in out and "&lt;img" in out
    assert "](javascript:" not in out and "klikk" in out
    assert "\\[ok\\]" in out  # no link can be formed from user text
    assert "\\|" in out and "\x1b" not in out and "\u202e" not in out


def test_agenda_markdown_is_inert() -> None:
    data = {"meeting": {"kind": "normal", "date": "2026-12-01", "time": "10:00",
                        "chair": "<b>Mia</b>", "members": ["[x](javascript:alert(1))"]},
            "items": [{"number": "CHG-000001", "risk": "high", "type": "normal",
                       "planned_start": None, "planned_end": None,
                       "title": "<script>alert(1)</script>", "risk_reasons": ["<i>r</i>"]}]}
    md = agenda_markdown(data)
    assert "<script>" not in md and "<b>" not in md and "javascript:" not in md
    assert "&lt;script&gt;" in md


# --- item 9: smaller holes ----------------------------------------------------------------------

def test_usernames_differing_only_in_case_are_duplicates(db) -> None:
    with db.session() as s:
        csvio.import_csv(s, "people", "username,first_name,last_name\nkari.n,Kari,N\n",
                         name="p.csv")
    with db.session() as s, pytest.raises(csvio.ImportFailed) as err:
        csvio.import_csv(s, "people", "username,first_name,last_name\nKari.N,Kari,N\n"
                         "ola,Ola,N\nOLA,Ola,N\n", name="p.csv")
    text = str(err.value)
    assert "p.csv:2: column 'username': 'Kari.N' differs only in case from the existing " \
           "'kari.n'" in text
    assert "p.csv:4: column 'username': 'OLA' differs only in case from 'ola' on line 3" \
        in text
    with db.session() as s:  # the database refuses it too, whoever writes
        s.add(Person(username="KARI.N", first_name="K", last_name="N"))
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


@pytest.mark.parametrize("amount", ["1e3", "1_000", "١٠٠", "１２", "NaN", "Infinity", "0x10"])
def test_odd_amounts_are_refused(db, amount: str) -> None:
    data = f"org_unit,year,amount\nOPP,2026,{amount}\n"
    with db.session() as s, pytest.raises(csvio.ImportFailed, match="column 'amount'"):
        csvio.import_csv(s, "funding", data, name="f.csv")


@pytest.mark.parametrize("number", ["1_000", "١٢", "１２"])
def test_odd_whole_numbers_are_refused(db, number: str) -> None:
    data = f"code,name,ring\nL1,Sted,{number}\n"
    with db.session() as s, pytest.raises(csvio.ImportFailed, match="column 'ring'"):
        csvio.import_csv(s, "locations", data, name="l.csv")


def test_a_password_with_an_at_sign_never_shows(capsys) -> None:
    url = "postgresql+psycopg://kari:hemmelig@pass@127.0.0.1:1/pob"
    assert "hemmelig" not in safe_url(url) and "pass@" not in safe_url(url)
    with pytest.raises(DatabaseError, match="%40"):
        from pob_tui.db import make_engine

        make_engine(url)
    assert main(["--db", url, "db", "status"]) == 3
    err = capsys.readouterr().err
    assert "hemmelig" not in err and "pass@" not in err and "%40" in err


def test_agent_usernames_are_case_insensitive(world) -> None:
    from pob_tui.models import AgentRole
    from pob_tui.services import agents
    from pob_tui.services.identity import load_actor

    with world.db.session() as s:
        s.add(AgentRole(agent_id=world.anne.agent_id, role="administrator"))
    with world.db.session() as s:
        admin = load_actor(s, "anne")
        with pytest.raises(InvalidInput, match="already exists"):
            agents.add_agent(s, admin, "lars", first_name="L", last_name="N")
    with world.db.session() as s:
        assert s.execute(select(Person.id).where(Person.username == "Lars")).first() is None


# --- fuzz: no traceback, never exit 1 -------------------------------------------------------------

CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=8), max_size=5),
       kind=st.sampled_from(sorted(csvio.KINDS)))
def test_fuzz_csv_rows(db, rows, kind) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(csvio.KINDS[kind].header)
    writer.writerows(rows)
    try:
        with db.session() as s:
            csvio.import_csv(s, kind, buf.getvalue().encode("utf-8"), name="fuzz.csv")
    except InvalidInput:
        pass  # a one-line (per error) refusal: fine


ARG = st.text(alphabet=st.sampled_from(string.printable + "æøå\u202e\x00\x1b€🙂"),
              max_size=30)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.sampled_from([
    ["incident", "list", "--search"], ["incident", "show"], ["problem", "list", "--search"],
    ["change", "list", "--search"], ["incident", "new", "--caller", "kari.n", "--summary"],
    ["export"], ["import", "people"], ["report", "costs", "--year"], ["audit", "--actor"],
    ["incident", "list", "--limit"],
]), value=ARG)
def test_fuzz_cli_text_arguments(demo_url, capsys, argv, value) -> None:
    code = main(["--db", demo_url, *argv, value])
    _out, err = capsys.readouterr()
    assert code != 1, err
    assert "Traceback" not in err


def test_demo_administrator_is_the_login_that_ran_it(db_url, backend) -> None:
    """`pob demo` makes an administrator of who ran it, as identity names them (the login on
    PostgreSQL), never also an agent named after the OS user."""
    from pob_tui.commands.demo import _operator
    from pob_tui.config import Settings
    from pob_tui.services.identity import os_account

    who = _operator(Settings(database_url=db_url))
    if backend == "postgresql":
        from sqlalchemy import create_engine, text

        engine = create_engine(db_url)
        with engine.connect() as conn:
            assert who == conn.execute(text("SELECT session_user")).scalar_one()
        engine.dispose()
    else:
        assert who == os_account()


def test_a_nul_byte_in_any_argument_is_bad_input_on_both_databases(demo_url, capsys) -> None:
    """PostgreSQL refuses NUL in every query (a search included); pob says which argument
    holds it, exit 2, before anything is opened."""
    code = main(["--db", demo_url, "incident", "list", "--search", "a\x00b"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "pob: argument 6 contains a NUL byte"
