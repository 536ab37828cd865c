"""Agents, roles and identity: who may do what, and nobody acts as someone else."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from pob_tui.cli import main
from pob_tui.errors import InvalidInput, PermissionDenied
from pob_tui.models import AdminEvent, Incident
from pob_tui.services import agents, incidents
from pob_tui.services.identity import Actor, load_actor, login_name, os_account, resolve_actor
from pob_tui.services.permissions import RULES, allowed, require

ROLE_CASES = [
    ("first_line", "incident.work", True),
    ("first_line", "cab.vote", False),
    ("first_line", "costs.read", False),
    ("second_line", "problem.work", True),
    ("cab_member", "cab.vote", True),
    ("cab_member", "cab.chair", False),
    ("change_manager", "cab.chair", True),
    ("change_manager", "import", False),
    ("service_owner", "costs.read", True),
    ("service_owner", "service.retire", True),
    ("customer_manager", "costs.read", True),
    ("customer_manager", "agent.admin", False),
    ("administrator", "import", True),
    ("administrator", "agent.admin", True),
]


@pytest.mark.parametrize(("role", "action", "ok"), ROLE_CASES)
def test_role_rules(role: str, action: str, ok: bool) -> None:
    actor = Actor(username="x", agent_id=1, roles=frozenset({role}))
    assert allowed(actor, action) is ok


def test_every_action_names_known_roles() -> None:
    from pob_tui.models import ROLES

    for roles in RULES.values():
        assert roles <= set(ROLES)


def test_denied_action_says_the_role_is_audited_and_changes_nothing(world) -> None:
    with world.db.session() as s, pytest.raises(PermissionDenied) as err:
        require(s, world.lars, "import", target="people.csv")
    assert "needs the role administrator" in str(err.value)
    with world.db.session() as s:
        event = s.execute(select(AdminEvent)).scalars().one()
        assert (event.actor, event.action, event.allowed) == ("lars", "import", False)


def test_cab_member_cannot_log_incidents(world) -> None:
    with world.db.session() as s:
        agents.add_agent(s, _admin(world, s), "carl",
                         first_name="Carl", last_name="Cab", roles=["cab_member"])
    with world.db.session() as s:
        carl = load_actor(s, "carl")
        with pytest.raises(PermissionDenied, match=r"incident\.work needs the role"):
            incidents.create_incident(s, carl, incidents.NewIncident(caller="kari.n",
                                                                     summary="x"))
    with world.db.session() as s:
        assert s.execute(select(Incident)).first() is None


def _admin(world, session) -> Actor:
    """Make anne an administrator (bootstrap: the first admin may be added by anyone)."""
    from pob_tui.models import AgentRole

    session.add(AgentRole(agent_id=world.anne.agent_id, role="administrator"))
    session.flush()
    return load_actor(session, "anne")


def test_bootstrap_first_admin_then_only_admins_add(world) -> None:
    nobody = Actor(username="root")
    with world.db.session() as s, pytest.raises(InvalidInput, match="must have the admin"):
        agents.add_agent(s, nobody, "first", first_name="F", last_name="A")
    with world.db.session() as s:
        agents.add_agent(s, nobody, "boss", first_name="Bo", last_name="Sjef",
                         roles=["administrator"])
    with world.db.session() as s, pytest.raises(PermissionDenied):
        agents.add_agent(s, world.lars, "sneaky", first_name="S", last_name="N")
    with world.db.session() as s:
        boss = load_actor(s, "boss")
        agents.add_agent(s, boss, "nina", first_name="Nina", last_name="Ny", team="SD",
                         roles=["first_line"])
        agents.disable_agent(s, boss, "nina")
    with world.db.session() as s:
        assert not load_actor(s, "nina").registered
        names = [a["username"] for a in agents.list_agents(s, include_disabled=True)]
        assert "nina" in names and "nina" not in [a["username"] for a in agents.list_agents(s)]


def test_identity_is_the_login_not_a_setting(world, backend, monkeypatch) -> None:
    monkeypatch.setenv("USER", "anne")
    monkeypatch.setenv("LOGNAME", "anne")
    with world.db.session() as s:
        name = login_name(s)
    if backend == "postgresql":
        assert name == make_url(world.db.engine.url).username  # the server's session_user
    else:
        assert name == os_account() != "anne"  # the OS account by uid; LOGNAME is ignored


def test_agent_cli_and_postgres_login_role(world, backend, db_url, capsys) -> None:
    """An administrator adds an agent with a login of their own: on PostgreSQL it is a
    pob_reader login, which reads pob's tables and changes nothing (work goes through
    pob serve)."""
    with world.db.session() as s:
        me = login_name(s)
        agents.add_agent(s, Actor(username=me), me, first_name="Ad", last_name="Min",
                         roles=["administrator"])
    argv = ["--db", db_url, "agent", "add", "pobtest_ola", "--name", "Ola Nord", "--team",
            "SD", "--role", "first_line"]
    if backend == "postgresql":
        argv.append("--create-role")
        assert main(["--db", db_url, "db", "grant"]) == 0
        capsys.readouterr()
    assert main(argv) == 0, capsys.readouterr().err
    assert main(["--db", db_url, "agent", "list", "--format", "json"]) == 0
    listed = {a["username"]: a for a in json.loads(capsys.readouterr().out.split("\n", 1)[1])}
    assert listed["pobtest_ola"]["roles"] == "first_line"
    if backend != "postgresql":
        return
    url = make_url(db_url).set(username="pobtest_ola", password=None)
    engine = create_engine(url)
    try:
        from pob_tui.db import Database

        ola_db = Database(engine)
        with ola_db.session() as s:
            actor = resolve_actor(s)
            assert actor.username == "pobtest_ola" and actor.registered
        with pytest.raises(Exception, match="permission denied"), ola_db.session() as s:
            incidents.create_incident(s, actor, incidents.NewIncident(
                caller="kari.n", summary="Fra Olas egen innlogging"))
        with engine.connect() as conn, pytest.raises(Exception, match="permission denied"):
            conn.execute(text("UPDATE ticket_event SET comment = 'rewritten'"))
        with engine.connect() as conn:  # reading works
            assert conn.execute(text("SELECT count(*) FROM incident")).scalar() == 0
    finally:
        engine.dispose()
        with world.db.session() as s:
            s.execute(text("REASSIGN OWNED BY pobtest_ola TO postgres"))
            s.execute(text("DROP OWNED BY pobtest_ola"))
        with world.db.engine.connect() as conn:
            conn.execute(text("DROP ROLE IF EXISTS pobtest_ola"))
            conn.commit()
