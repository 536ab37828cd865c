"""Trust: who acts is decided once and by nothing a user can set, settings reach every rule
the same way from every entry point, audit rows are append-only, and on PostgreSQL an agent's
own login can read but not change anything (the escalations a curious agent tried)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from pob_tui.cli import main
from pob_tui.config import Settings, load_settings
from pob_tui.db import Database, make_engine
from pob_tui.errors import PermissionDenied
from pob_tui.models import AdminEvent, Agent, AgentRole, Incident, TicketEvent
from pob_tui.services import grants, identity
from pob_tui.services.identity import SYSTEM_ACTOR, Actor, os_account, resolve_actor
from tests.conftest import pg_admin_engine, require_pg
from tests.factories import office_agreement
from tests.tui.conftest import settle


def _make_admin(world) -> None:
    with world.db.session() as s:
        anne = s.execute(select(Agent).where(Agent.username == "anne")).scalar_one()
        s.add(AgentRole(agent_id=anne.id, role="administrator"))


def test_logname_and_user_name_nobody(world, backend, db_url, monkeypatch, capsys) -> None:
    """LOGNAME/USER set to an administrator's name change nothing. On SQLite the CLI acts as
    the OS account (by uid), is refused and the denial is audited under that account; on
    PostgreSQL it acts as the login: the test's superuser holds pob's write credentials, so
    it is the system actor `pob`, and the audit says `pob`, never `anne`."""
    _make_admin(world)  # anne is an administrator now
    monkeypatch.setenv("LOGNAME", "anne")
    monkeypatch.setenv("USER", "anne")
    code = main(["--db", db_url, "agent", "add", "mallory", "--name", "Mal Lory",
                 "--role", "administrator"])
    err = capsys.readouterr().err
    with world.db.session() as s:
        added = s.execute(select(Agent).where(Agent.username == "mallory")).first()
        events = [(e.actor, e.action, e.allowed) for e in s.execute(
            select(AdminEvent).order_by(AdminEvent.id)).scalars()]
    if backend == "sqlite":
        assert code == 5, err
        assert added is None
        assert events == [(os_account(), "agent.admin", False)]
    else:
        assert code == 0, err
        assert [e for e in events if e[1] == "agent.add"] == [("pob", "agent.add", True)]
    assert all(actor != "anne" for actor, _action, _ok in events)


def test_injected_actor_is_a_python_argument_only(world, db_url, capsys) -> None:
    """Tests (and in-process callers) say who acts with `main(argv, actor=...)`; the roles
    come from the database, not from the injected value."""
    _make_admin(world)
    forged = Actor("lars", roles=frozenset({"administrator"}))
    code = main(["--db", db_url, "agent", "add", "mallory", "--name", "Mal Lory"], actor=forged)
    assert code == 5  # lars is second line in the database, whatever the Actor claimed
    code = main(["--db", db_url, "incident", "new", "--caller", "kari.n", "--service", "M365",
                 "--summary", "Skjermen er svart"], actor=Actor("anne"))
    out = capsys.readouterr().out
    assert code == 0 and out.strip().startswith("INC-")
    with world.db.session() as s:
        inc = s.execute(select(Incident)).scalar_one()
        created = s.execute(select(TicketEvent).where(TicketEvent.kind == "created")).scalar_one()
        anne_id = s.execute(select(Agent.id).where(Agent.username == "anne")).scalar_one()
    assert inc.summary == "Skjermen er svart" and created.actor_id == anne_id


def test_audit_rows_are_append_only(world, backend) -> None:
    """Nobody, pob's own code included, changes or removes an audit row (triggers)."""
    with world.db.session() as s:
        s.add(AdminEvent(actor="anne", action="test.write", target="x"))
    for sql in ("UPDATE admin_event SET actor = 'lars'", "DELETE FROM admin_event",
                "UPDATE ticket_event SET actor_id = NULL", "DELETE FROM ticket_event"):
        with pytest.raises(DBAPIError, match="append-only"), world.db.session() as s:
            s.execute(text("INSERT INTO ticket_event (ticket_type, ticket_id, at, kind) "
                           "VALUES ('incident', 1, CURRENT_TIMESTAMP, 'comment')"))
            s.execute(text(sql))
    with world.db.session() as s:
        assert s.execute(select(AdminEvent.actor)).scalars().all() == ["anne"]


def _settings_with_closing_days(tmp_path: Path, url: str, days: list[date]) -> Path:
    cfg = tmp_path / "config.toml"
    listed = ", ".join(f'"{d:%m-%d}"' for d in days)
    cfg.write_text(f'[calendar]\nclosing_days = [{listed}]\n', encoding="utf-8")
    return cfg


async def test_cli_and_tui_give_the_same_deadline_under_a_custom_config(world, db_url, tmp_path,
                                                                   capsys) -> None:
    """Closing days from the configuration reach the SLA clock whether the call is logged
    from the CLI or from the TUI (the settings travel with the session, no module keeps a
    copy), and they do change the deadline."""
    from pob_tui.services import incidents
    from pob_tui.tui.app import PobApp

    with world.db.session() as s:
        office_agreement(s, {3: (60, 2 * 465)})
    today = date.today()
    weekdays = [today + timedelta(days=i) for i in range(1, 12)
                if (today + timedelta(days=i)).weekday() < 5][:3]
    cfg = _settings_with_closing_days(tmp_path, db_url, weekdays)

    code = main(["--config", str(cfg), "--db", db_url, "incident", "new", "--caller", "kari.n",
                 "--service", "M365", "--summary", "via CLI", "--impact", "2", "--urgency",
                 "2"], actor=Actor("anne"))
    assert code == 0, capsys.readouterr().err
    settings = load_settings(str(cfg), database_url=db_url)

    async def tui_call() -> None:
        app = PobApp(settings=settings, actor=Actor("anne"), live_updates=False)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(200):
                await pilot.pause(0.05)
                if app.database is not None and app.actor is not None:
                    break
            assert app.database is not None
            with app.database.session() as s:  # what the call form's worker does
                incidents.create_incident(s, app.actor_in(s), incidents.NewIncident(
                    caller="kari.n", service="M365", summary="via TUI", impact=2, urgency=2))
            # The session's own load may still be on its way: leave once it has landed (on a
            # loaded machine it came after the screens were gone: ScreenStackError).
            await settle(pilot)

    await tui_call()
    with world.db.session() as s:
        due = dict(s.execute(select(Incident.summary, Incident.resolution_due_at)).all())
        opened = dict(s.execute(select(Incident.summary, Incident.opened_at)).all())
    # the same rule: both deadlines are two working days after opening, skipping the
    # configured closing days (minutes apart at most, as the two calls are)
    assert abs(due["via CLI"] - due["via TUI"]) <= abs(opened["via CLI"] - opened["via TUI"]) \
        + timedelta(minutes=1)
    default_db = Database(make_engine(db_url), Settings(database_url=db_url))
    with default_db.session() as s:
        from pob_tui.services import sla

        cal = sla.calendar_by_id(s, s.execute(text("SELECT id FROM calendar")).scalar_one())
        default_due = cal.add(opened["via CLI"], timedelta(minutes=2 * 465))
    default_db.dispose()
    assert due["via CLI"] > default_due  # the closing days were applied


def test_settings_missing_from_a_session_is_an_error_not_a_default(world) -> None:
    from sqlmodel import Session

    from pob_tui.services import sla

    with Session(world.db.engine) as s, pytest.raises(RuntimeError, match="without settings"):
        sla.calendar_by_id(s, 1)


# --- PostgreSQL: grants ---------------------------------------------------------------


@pytest.fixture
def pg_grants(world, backend, db_url):
    """`pob db grant` on this database, plus a fresh reader login and a fresh service
    login (unique names: roles are cluster-wide)."""
    require_pg()
    assert main(["--db", db_url, "db", "grant"]) == 0
    suffix = uuid.uuid4().hex[:8]
    reader, service = f"pob_t_reader_{suffix}", f"pob_t_service_{suffix}"
    with world.db.session() as s:
        grants.grant(s, service_login=service)
        grants.grant_reader(s, reader)
        anne = s.execute(select(Agent).where(Agent.username == "anne")).scalar_one()
        anne.username = reader  # the reader login is anne's own
    yield db_url, reader, service
    world.db.dispose()
    eng = pg_admin_engine()
    with eng.connect() as conn:
        for role in (reader, service):
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    eng.dispose()


def _as(url: str, login: str) -> str:
    return make_url(url).set(username=login).render_as_string(hide_password=False)


ESCALATIONS = [
    "INSERT INTO agent_role(agent_id, role) SELECT id, 'administrator' FROM agent "
    "WHERE username = session_user",
    "UPDATE sla_clock SET met = true",
    "UPDATE change_request SET status = 'approved'",
    "UPDATE incident SET status = 'closed'",
    "SELECT * FROM service_cost",
    "SELECT * FROM funding",
    "INSERT INTO ticket_event (ticket_type, ticket_id, at, kind, actor_id) "
    "VALUES ('incident', 1, now(), 'comment', 1)",
    "INSERT INTO admin_event (at, actor, action, allowed) VALUES (now(), 'eva.berge', 'x', true)",
    "UPDATE agent SET username = 'someone' WHERE username = 'lars'",
    "SELECT * FROM serve_session",
]


@pytest.mark.pg_only
@pytest.mark.parametrize("sql", ESCALATIONS)
def test_an_agents_own_login_changes_nothing(pg_grants, sql) -> None:
    url, reader, _service = pg_grants
    engine = create_engine(_as(url, reader))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM incident")).scalar() == 0
            if "serve_session" in sql and not conn.execute(text(
                    "SELECT to_regclass('serve_session')")).scalar():
                pytest.skip("no serve_session table in this schema yet")
            with pytest.raises(DBAPIError, match="permission denied"):
                conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.mark.pg_only
async def test_reader_login_reads_in_the_cli_and_is_sent_to_ssh_by_the_tui(pg_grants,
                                                                            capsys) -> None:
    from pob_tui.tui.app import PobApp

    url, reader, _service = pg_grants
    as_reader = _as(url, reader)
    assert main(["--db", as_reader, "incident", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    code = main(["--db", as_reader, "incident", "new", "--caller", "kari.n", "--service",
                 "M365", "--summary", "x"])
    err = capsys.readouterr().err
    assert code == 5 and "not permitted" in err and "Traceback" not in err

    async def start() -> PobApp:
        app = PobApp(settings=Settings(database_url=as_reader), exit_on_database_error=True,
                     live_updates=False)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(200):
                await pilot.pause(0.05)
                if app.failure:
                    break
        return app

    app = await start()
    assert app.return_code == 5
    assert app.failure and "may only read" in app.failure and "ssh" in app.failure


@pytest.mark.pg_only
def test_service_login_is_the_system_actor_and_cannot_rewrite_audit(pg_grants) -> None:
    url, _reader, service = pg_grants
    db = Database(make_engine(_as(url, service)))
    try:
        with db.session() as s:
            assert resolve_actor(s) == SYSTEM_ACTOR
            s.execute(text("INSERT INTO admin_event (at, actor, action, allowed) "
                           "VALUES (now(), 'pob', 'test', true)"))
        with pytest.raises(DBAPIError), db.session() as s:
            s.execute(text("UPDATE admin_event SET actor = 'x'"))
    finally:
        db.dispose()


@pytest.mark.pg_only
def test_serve_record_needs_the_service_credentials(pg_grants) -> None:
    url, reader, _service = pg_grants
    db = Database(make_engine(_as(url, reader)))
    try:
        with db.session() as s, pytest.raises(PermissionDenied, match="service credentials"):
            resolve_actor(s, serve_record="forged-record-id")
    finally:
        db.dispose()


def test_cli_names_the_same_serve_variable_as_identity() -> None:
    from pob_tui import cli

    assert cli.SERVE_SESSION_ENV == identity.SERVE_SESSION_ENV
