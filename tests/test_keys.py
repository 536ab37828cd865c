"""Agent keys and one-use serve session records, on both backends."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import asyncssh
import pytest
from sqlalchemy import select, update

from pob_tui.errors import InvalidInput, NotFound, PermissionDenied
from pob_tui.models import AdminEvent, Agent, ServeSession
from pob_tui.services import keys, serve_sessions
from pob_tui.services.identity import Actor


def public_key(comment: str = "anne@pc") -> str:
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return key.export_public_key("openssh").decode()


@pytest.fixture
def admin(world) -> Actor:
    return Actor(username="admin", agent_id=world.anne.agent_id, roles=frozenset({"administrator"}))


def test_fingerprint_is_what_ssh_keygen_prints(tmp_path) -> None:
    text = public_key()
    (tmp_path / "k.pub").write_text(text)
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k.pub")],
                         capture_output=True, text=True, check=True).stdout
    assert keys.parse_public_key(text).fingerprint == out.split()[1]


def test_add_list_remove(world, admin) -> None:
    text = public_key("anne@laptop")
    with world.db.session() as s:
        row = keys.add_key(s, admin, text, username="anne")
        keys.add_key(s, admin, public_key("phone"), integration="telefoni")
    with world.db.session() as s:
        rows = keys.list_keys(s)
        assert [(r.username, r.integration) for r in rows] == [("anne", None), (None, "telefoni")]
        assert rows[0].fingerprint == row.fingerprint and rows[0].comment == "anne@laptop"
        assert [r.fingerprint for r in keys.list_keys(s, "anne")] == [row.fingerprint]
        assert keys.list_keys(s, "lars") == []
        owner = keys.key_owner(s, keys.parse_public_key(text).key_data)
        assert (owner.username, owner.agent_id) == ("anne", world.anne.agent_id)
    with world.db.session() as s:
        keys.remove_key(s, admin, row.fingerprint)
    with world.db.session() as s:
        assert [r.username for r in keys.list_keys(s)] == [None]
        with pytest.raises(keys.KeyRefused, match="removed"):
            keys.key_owner(s, keys.parse_public_key(text).key_data)
        actions = s.execute(select(AdminEvent.action, AdminEvent.actor)).all()
        assert ("agent.key.add", "admin") in actions and ("agent.key.remove", "admin") in actions
    with world.db.session() as s:  # a removed key may be given again, to someone else
        keys.add_key(s, admin, text, username="lars")
        assert keys.key_owner(s, keys.parse_public_key(text).key_data).username == "lars"


def test_refusals(world, admin) -> None:
    text = public_key()
    with world.db.session() as s:
        keys.add_key(s, admin, text, username="anne")
    with world.db.session() as s, pytest.raises(InvalidInput, match="already belongs to anne"):
        keys.add_key(s, admin, text, username="lars")
    with world.db.session() as s, pytest.raises(NotFound):
        keys.add_key(s, admin, public_key(), username="nobody")
    with world.db.session() as s, pytest.raises(InvalidInput, match="not an SSH public key"):
        keys.add_key(s, admin, "ssh-ed25519 AAAAnotbase64", username="anne")
    with world.db.session() as s, pytest.raises(PermissionDenied):
        keys.add_key(s, world.lars, public_key(), username="lars")
    with world.db.session() as s, pytest.raises(keys.KeyRefused, match="unknown"):
        keys.key_owner(s, keys.parse_public_key(public_key()).key_data)
    with world.db.session() as s:
        s.execute(update(Agent).where(Agent.username == "anne").values(active=False))
    with world.db.session() as s, pytest.raises(keys.KeyRefused, match="disabled"):
        keys.key_owner(s, keys.parse_public_key(text).key_data)


def test_session_record_is_used_once(world, admin) -> None:
    text = public_key()
    with world.db.session() as s:
        keys.add_key(s, admin, text, username="anne")
        owner = keys.key_owner(s, keys.parse_public_key(text).key_data)
        token = serve_sessions.create_record(s, owner, client_address="127.0.0.1:5000")
        expired = serve_sessions.create_record(s, owner, lifetime=timedelta(seconds=-1))
    assert len(token) >= 43
    with world.db.session() as s:
        claim = serve_sessions.claim(s, token)
    assert (claim.username, claim.agent_id) == ("anne", world.anne.agent_id)
    assert claim.client_address == "127.0.0.1:5000"
    for bad in (token, expired, "x" * 43):
        with world.db.session() as s, pytest.raises(PermissionDenied):
            serve_sessions.claim_record(s, bad)
    with world.db.session() as s:
        assert s.execute(select(ServeSession.used_at).where(ServeSession.token == expired)
                         ).scalar() is None


def test_record_of_disabled_agent_names_nobody(world, admin) -> None:
    text = public_key()
    with world.db.session() as s:
        keys.add_key(s, admin, text, username="anne")
        owner = keys.key_owner(s, keys.parse_public_key(text).key_data)
        token = serve_sessions.create_record(s, owner)
        assert keys.still_allowed(s, [owner.key_id]) == {owner.key_id}
        s.execute(update(Agent).where(Agent.username == "anne").values(active=False))
        assert keys.still_allowed(s, [owner.key_id]) == set()
    with world.db.session() as s, pytest.raises(PermissionDenied, match="disabled"):
        serve_sessions.claim_record(s, token)


def test_integration_record(world, admin) -> None:
    text = public_key()
    with world.db.session() as s:
        keys.add_key(s, admin, text, integration="telefoni")
        owner = keys.key_owner(s, keys.parse_public_key(text).key_data)
        token = serve_sessions.create_record(s, owner)
    with world.db.session() as s:
        assert serve_sessions.claim_record(s, token) == "integration:telefoni"


def test_resolver_takes_the_agent_from_the_record(world, admin, backend) -> None:
    """The lead's resolver claims the record once: the record names the agent."""
    from pob_tui.services.identity import holds_service_credentials, resolve_actor

    if backend == "postgresql":
        from pob_tui.services import grants

        with world.db.session() as s:  # creates pob_service (idempotent, cluster-wide)
            grants.grant(s)
        with world.db.session() as s:
            if not holds_service_credentials(s):
                pytest.skip("the test login is not in pob_service")

    text = public_key()
    with world.db.session() as s:
        keys.add_key(s, admin, text, username="lars")
        token = serve_sessions.create_record(s, keys.key_owner(
            s, keys.parse_public_key(text).key_data))
    with world.db.session() as s:
        assert resolve_actor(s, serve_record=token).username == "lars"
    with world.db.session() as s, pytest.raises(PermissionDenied):
        resolve_actor(s, serve_record=token)


def test_agent_key_commands(world, db_url, tmp_path, capsys, monkeypatch) -> None:
    import io
    import json

    from pob_tui.cli import main
    from pob_tui.services.identity import SYSTEM_ACTOR

    monkeypatch.setenv("POB_DATABASE_URL", db_url)
    monkeypatch.setenv("POB_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    pub = tmp_path / "lars.pub"
    pub.write_text(public_key("lars@pc"))
    assert main(["agent", "key", "add", "lars", str(pub)], actor=SYSTEM_ACTOR) == 0
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(public_key("tel").encode())))
    assert main(["agent", "key", "add", "--integration", "telefoni", "-"], actor=SYSTEM_ACTOR) == 0
    capsys.readouterr()
    assert main(["agent", "key", "list", "lars", "--format", "json"], actor=SYSTEM_ACTOR) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["comment"]) for r in rows] == [("lars", "lars@pc")]
    assert set(rows[0]) >= {"username", "fingerprint", "comment", "added_at"}
    assert main(["agent", "key", "remove", rows[0]["fingerprint"]], actor=SYSTEM_ACTOR) == 0
    assert main(["agent", "key", "remove", rows[0]["fingerprint"]], actor=SYSTEM_ACTOR) == 2
    assert main(["agent", "key", "add", "lars", str(pub)], actor=world.lars) == 5


def test_an_integration_key_may_ring_and_nothing_else(world, admin) -> None:
    """The phone system's key resolves to an integration actor: `call.ring` is allowed,
    every other rule refuses it (and the refusal is audited under its name)."""
    from pob_tui.config import Settings
    from pob_tui.services import incidents, ring
    from pob_tui.services.identity import resolve_actor

    text = public_key("phone@pbx")
    with world.db.session() as s:
        keys.add_key(s, admin, text, integration="telefoni")
        token = serve_sessions.create_record(s, keys.key_owner(
            s, keys.parse_public_key(text).key_data))
    with world.db.session() as s:
        phone = resolve_actor(s, serve_record=token)
    assert phone.integration and phone.agent_id is None
    with world.db.session() as s:
        result = ring.ring(s, phone, "anne", "+47 912 34 567",
                           settings=Settings(database_url="sqlite://"), wait=0)
    assert result is not None
    with world.db.session() as s, pytest.raises(PermissionDenied):
        incidents.create_incident(s, phone, incidents.NewIncident(
            caller="kari.n", service="M365", summary="ringer"))
    with world.db.session() as s:
        denied = s.execute(select(AdminEvent.actor).where(AdminEvent.allowed.is_(False))
                           ).scalars().all()
    assert "integration:telefoni" in denied
