"""`pob serve` with real clients: OpenSSH (`/usr/bin/ssh`), asyncssh's client, and a terminal
session driven in tmux. One server per module on a free loopback port, over a SQLite file
owned by the test user (the service account's credentials, as the resolver requires).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from pob_tui.db import Database, make_engine
from pob_tui.models import AdminEvent, Agent, AgentRole, CallRing, Incident, Person
from pob_tui.services import keys, live
from pob_tui.services.identity import SYSTEM_ACTOR
from pob_tui.services.ring import RingCall, claim
from pob_tui.tui.teamwork import LIVE_INTERVAL
from tests.conftest import IN_CI
from tests.factories import build_world, office_agreement

SSH = shutil.which("ssh") or "/usr/bin/ssh"
TMUX = shutil.which("tmux")
START_TIMEOUT = 120.0  # the machine may be busy: a cold start imports the whole app


def need(tool: str | None, name: str) -> None:
    if tool is None or not Path(tool).exists():
        if IN_CI:
            pytest.fail(f"CI=true but {name} is not installed")
        pytest.skip(f"{name} is not installed")


@dataclass
class Serve:
    dir: Path
    url: str
    port: int
    proc: subprocess.Popen[str]
    keys: dict[str, Path]

    def db(self) -> Database:
        return Database(make_engine(self.url))


def make_key(directory: Path, name: str) -> Path:
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test",
                    "-f", str(path)], check=True)
    return path


def start_server(directory: Path, url: str) -> tuple[subprocess.Popen[str], int]:
    config = directory / "config.toml"
    config.write_text(f'[serve]\nhost_key = "{directory / "host_key"}"\n'
                      'idle_timeout_minutes = 0\n'
                      # a loaded CI machine must not miss a 1 s poll within the ring's wait
                      '[phone]\nring_wait_seconds = 8\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POB_")}
    env.update(POB_CONFIG=str(config), POB_DATABASE_URL=url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pob_tui", "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        text=True, cwd=directory)
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "listening on" in line:
            port = int(line.rsplit(":", 1)[1])
            host_key_line = proc.stdout.readline()
            assert host_key_line.startswith("host key SHA256:")
            return proc, port
    proc.kill()
    raise AssertionError(f"pob serve did not start: {''.join(lines)}")


def stop_server(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return proc.returncode, out


def _add_agent(s, username: str, roles: list[str]) -> None:  # type: ignore[no-untyped-def]
    person = Person(username=username, first_name=username.title(), last_name="Test",
                    search=username)
    s.add(person)
    s.flush()
    agent = Agent(username=username, person_id=person.id)
    s.add(agent)
    s.flush()
    for role in roles:
        s.add(AgentRole(agent_id=agent.id, role=role))


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    need(SSH, "OpenSSH client (ssh)")
    directory = tmp_path_factory.mktemp("serve")
    os.chmod(directory, 0o700)
    url = f"sqlite:///{directory / 'pob.sqlite3'}"
    engine = make_engine(url)
    from pob_tui.db import upgrade

    upgrade(engine)
    engine.dispose()
    db = Database(make_engine(url))
    build_world(db)
    with db.session() as s:
        office_agreement(s, {p: (60, 600) for p in range(1, 6)})
        _add_agent(s, "ada", ["administrator"])
        _add_agent(s, "dora", ["first_line"])
        _add_agent(s, "rita", ["first_line"])
    names = ("anne", "ada", "dora", "rita", "removed", "stranger", "phone")
    paths = {name: make_key(directory, name) for name in names}
    with db.session() as s:
        for name in ("anne", "ada", "dora", "rita"):
            keys.add_key(s, SYSTEM_ACTOR, paths[name].with_suffix(".pub").read_text(),
                         username=name)
        keys.add_key(s, SYSTEM_ACTOR, paths["removed"].with_suffix(".pub").read_text(),
                     username="anne")
        keys.add_key(s, SYSTEM_ACTOR, paths["phone"].with_suffix(".pub").read_text(),
                     integration="telefoni")
    db.dispose()
    proc, port = start_server(directory, url)
    yield Serve(directory, url, port, proc, paths)
    if proc.poll() is None:
        stop_server(proc)


def ssh(serve: Serve, who: str, command: str, *, stdin: bytes = b"", tty: bool = False,
        timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    argv = [SSH, "-i", str(serve.keys[who]), "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-p", str(serve.port)]
    if tty:
        argv.append("-tt")
    argv += ["pob@127.0.0.1", command]
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout)


def audit(serve: Serve, action: str) -> list[tuple[str, str | None, str | None, bool]]:
    db = serve.db()
    try:
        with db.session() as s:
            rows = s.execute(select(AdminEvent.actor, AdminEvent.target, AdminEvent.detail,
                                    AdminEvent.allowed)
                             .where(AdminEvent.action == action).order_by(AdminEvent.id))
            return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        db.dispose()


def fingerprint(serve: Serve, who: str) -> str:
    return keys.parse_public_key(serve.keys[who].with_suffix(".pub").read_text()).fingerprint


async def asyncssh_connect(serve: Serve, who: str) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1", serve.port, username="whatever", client_keys=[str(serve.keys[who])],
        known_hosts=None, agent_path=None, encoding=None)


# -- OpenSSH ----------------------------------------------------------------------------------

def test_known_key_runs_a_command_and_gets_json(serve: Serve) -> None:
    done = ssh(serve, "anne", "incident list --format json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    (actor, target, detail, allowed), *_ = audit(serve, "serve.login")
    assert (actor, target, allowed) == ("pob", "anne", True)
    assert fingerprint(serve, "anne") in detail and "127.0.0.1:" in detail
    assert (serve.dir / "host_key").stat().st_mode & 0o777 == 0o600  # created private


def test_exit_status_and_one_line_come_back(serve: Serve) -> None:
    done = ssh(serve, "anne", "incident show INC-424242")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "pob: unknown incident 'INC-424242'"


def test_unknown_key_is_refused_and_audited(serve: Serve) -> None:
    done = ssh(serve, "stranger", "incident list")
    assert done.returncode == 255 and b"Permission denied" in done.stderr
    refused = [r for r in audit(serve, "serve.refused")
               if fingerprint(serve, "stranger") in (r[2] or "")]
    assert refused and refused[0][0] == "pob" and refused[0][3] is False
    assert "unknown key" in refused[0][2]


def test_removed_key_is_refused(serve: Serve) -> None:
    assert ssh(serve, "removed", "incident list --format json").returncode == 0
    db = serve.db()
    with db.session() as s:
        keys.remove_key(s, SYSTEM_ACTOR, fingerprint(serve, "removed"))
    db.dispose()
    done = ssh(serve, "removed", "incident list")
    assert done.returncode == 255 and b"Permission denied" in done.stderr
    assert any("key removed" in (r[2] or "") for r in audit(serve, "serve.refused"))


def test_stdin_reaches_an_import(serve: Serve) -> None:
    template = ssh(serve, "ada", "import people --template")
    assert template.returncode == 0, template.stderr
    header = next(csv.reader(io.StringIO(template.stdout.decode())))
    row = {c: "" for c in header}
    row.update(username="siri.s", first_name="Siri", last_name="Sørby")
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    done = ssh(serve, "ada", "import people - --format json", stdin=out.getvalue().encode())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 1
    db = serve.db()
    with db.session() as s:
        assert s.execute(select(Person.last_name).where(Person.username == "siri.s")
                         ).scalar() == "Sørby"
        assert s.execute(select(AdminEvent.actor).where(AdminEvent.action == "import")
                         ).scalar() == "ada"
    db.dispose()


def test_no_shell_runs(serve: Serve) -> None:
    done = ssh(serve, "anne", "incident show 'INC-1; touch /tmp/pwned' $(id)")
    assert done.returncode == 2  # one word, an unknown number; no shell saw `;` or `$(`
    assert not Path("/tmp/pwned").exists()


# -- asyncssh's client ---------------------------------------------------------------------------

REFUSED = [
    ("--db sqlite:////tmp/x.sqlite3 incident list", "--db"),
    ("incident list --config=/etc/passwd", "--config"),
    ("incident list --conf /etc/passwd", "--conf"),
    ("export people -o /tmp/out.csv", "-o"),
    ("export people --output=/tmp/out.csv", "--output"),
    ("import people /etc/passwd", "standard input"),
    ("serve --listen 0.0.0.0:22", "pob serve"),
    ("db upgrade", "pob db"),
    ("agent key list", "pob agent key"),
    ("demo --scale small", "pob demo"),
    ("", "give a pob command"),
]


async def test_asyncssh_client_refusals_and_json(serve: Serve) -> None:
    results: list[tuple[int | None, bytes, bytes]] = []
    async with await asyncssh_connect(serve, "anne") as conn:
        for command, _needle in REFUSED:
            done = await conn.run(command, env={"POB_DATABASE_URL": "sqlite:////tmp/x"})
            results.append((done.exit_status, done.stdout, done.stderr))
        done = await conn.run("pob incident list --format json")
        results.append((done.exit_status, done.stdout, done.stderr))
    for (command, needle), (status, _out, err) in zip(REFUSED, results, strict=False):
        assert status == 5, command
        assert needle in err.decode(), (command, err)
    status, out, err = results[-1]
    assert status == 0 and json.loads(out) == [], err


async def test_integration_key_may_only_ring(serve: Serve) -> None:
    async with await asyncssh_connect(serve, "phone") as conn:
        other = await conn.run("incident list")
        ring = await conn.run("call ringing --help")
    assert other.exit_status == 5 and b"only `call ringing`" in other.stderr
    assert b"only `call ringing`" not in ring.stderr


def rings(serve: Serve, agent: str) -> list[tuple[int, str, str | None, bool]]:
    """The committed rings for `agent`: id, number, caller's username, taken."""
    db = serve.db()
    try:
        with db.session() as s:
            rows = s.execute(
                select(CallRing.id, CallRing.number, Person.username,
                       col(CallRing.taken_at).is_not(None))
                .join(Agent, Agent.id == CallRing.agent_id)
                .outerjoin(Person, Person.id == CallRing.person_id)
                .where(Agent.username == agent).order_by(CallRing.id))
            return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        db.dispose()


class StandInPob:
    """What an agent's running pob does with a ring, without the screen: the live channel's
    SQLite poll (`live.Poller`, at the app's `LIVE_INTERVAL`) and `services.ring.claim` of
    every ring it hears of, as `PobApp.start_live` and `take_rings` do."""

    def __init__(self, serve: Serve, username: str) -> None:
        self.db = serve.db()
        with self.db.session() as s:
            self.agent_id = s.execute(select(Agent.id).where(Agent.username == username)
                                      ).scalar_one()
        self.poller = live.Poller.for_engine(self.db.engine, LIVE_INTERVAL)
        self.taken: list[RingCall] = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="stand-in-pob", daemon=True)

    def __enter__(self) -> StandInPob:
        self.poller.poll()  # connected and up to date before anything rings
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.poller.stop()
        self.thread.join(30)
        self.db.dispose()

    def _run(self) -> None:
        try:
            for batch in self.poller.batches():
                for ring_id in dict.fromkeys(c.id for c in batch if c.kind == "ring"):
                    with self.db.session() as s:
                        call = claim(s, self.agent_id, ring_id)
                    if call is not None:
                        self.taken.append(call)
        except BaseException as exc:  # the test says so
            self.errors.append(exc)
        finally:
            self.poller.close()


def test_integration_key_rings_over_openssh_and_no_pob_takes_it(serve: Serve) -> None:
    """Issue 13 item 13 through the SSH front door: the phone system's key, the real OpenSSH
    client, the real server; no pob of that agent runs, so after the wait it says so and
    still exits 0 (a phone system must not retry), the ring committed all the same."""
    before = rings(serve, "anne")
    done = ssh(serve, "phone", "call ringing --agent anne --number '+47 22 22 22 22'")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "not taken: no running pob of anne took the call from +47 22 22 22 22 "
        "(unknown number)"), done.stderr
    new = rings(serve, "anne")[len(before):]
    assert [row[1:] for row in new] == [("+47 22 22 22 22", None, False)]


def test_integration_key_rings_over_openssh_and_the_agents_pob_takes_it(serve: Serve) -> None:
    """The same with a stand-in for anne's running pob: it hears the ring on the live
    channel and takes it with the caller found by phone number (however it is written)."""
    before = rings(serve, "anne")
    with StandInPob(serve, "anne") as pob:
        done = ssh(serve, "phone", "call ringing --agent anne --number '0047 912 34 567'")
    assert not pob.errors, pob.errors
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "taken: anne's pob shows the call from 0047 912 34 567 (kari.n)"), done.stderr
    new = rings(serve, "anne")[len(before):]
    assert [row[1:] for row in new] == [("0047 912 34 567", "kari.n", True)]
    assert [(c.ring_id, c.number, (c.caller or {}).get("username")) for c in pob.taken] == [
        (new[0][0], "0047 912 34 567", "kari.n")]


async def test_disabled_agent_is_refused_and_open_session_ends(serve: Serve) -> None:
    async with await asyncssh_connect(serve, "dora") as conn:
        # `import people -` waits for standard input: an open session
        proc = await conn.create_process("import people -")
        await asyncio.sleep(1.0)
        db = serve.db()
        with db.session() as s:
            s.execute(update(Agent).where(Agent.username == "dora").values(active=False))
        db.dispose()
        await asyncio.wait_for(proc.wait_closed(), 60)
        status, err = proc.exit_status, await proc.stderr.read()
    assert status != 0
    assert b"your key was removed or your agent disabled" in err
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh_connect(serve, "dora")
    assert any("dora is disabled" in (r[2] or "") for r in audit(serve, "serve.refused"))
    assert any(r[1] == "dora" and "access withdrawn" in (r[2] or "")
               for r in audit(serve, "serve.logout"))


# -- a terminal session, driven in tmux --------------------------------------------------------

def tmux(*args: str) -> str:
    return subprocess.run([TMUX or "tmux", *args], capture_output=True, text=True,
                          check=True).stdout


def wait_screen(session: str, needle: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if needle in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} not on screen:\n{screen}")


def test_terminal_session_logs_a_call_and_follows_a_resize(serve: Serve) -> None:
    need(TMUX, "tmux")
    session = f"pobserve{os.getpid()}"
    command = " ".join([
        SSH, "-tt", "-i", str(serve.keys["rita"]), "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-p", str(serve.port), "pob@127.0.0.1"])
    tmux("-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
         "-e", "TERM=xterm-256color", command)
    try:
        wait_screen(session, "rita")  # the header names the agent the key belongs to
        tmux("send-keys", "-t", session, "n")
        wait_screen(session, "Pick a caller")
        tmux("send-keys", "-t", session, "-l", "kari")
        wait_screen(session, "kari.n · Hosle")  # the picker's first match
        time.sleep(1.0)  # the picker settles on it before Enter takes it
        tmux("send-keys", "-t", session, "Enter")
        wait_screen(session, "(kari.n)")
        tmux("send-keys", "-t", session, "-l", "print")
        wait_screen(session, "Utskrift PRINT")
        time.sleep(1.0)
        tmux("send-keys", "-t", session, "Enter")
        wait_screen(session, "Utskrift (PRINT)")
        tmux("send-keys", "-t", session, "-l", "Skanneren over ssh")
        wait_screen(session, "Skanneren over ssh")
        tmux("send-keys", "-t", session, "C-s")
        wait_screen(session, "Logged INC-")
        # resize: the app redraws at the new size
        tmux("resize-window", "-t", session, "-x", "120", "-y", "40")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lines = tmux("capture-pane", "-p", "-t", session).splitlines()
            if len(lines) >= 40 and any(len(line.rstrip()) > 80 for line in lines):
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the app did not follow the resize:\n" + "\n".join(lines))
    finally:
        subprocess.run([TMUX or "tmux", "kill-session", "-t", session], capture_output=True)
    db = serve.db()
    with db.session() as s:
        row = s.execute(select(Incident.summary, Agent.username)
                        .join(Agent, Agent.id == Incident.opened_by_id)
                        .where(Incident.summary == "Skanneren over ssh")).one()
    db.dispose()
    assert row == ("Skanneren over ssh", "rita")


# -- SIGTERM ----------------------------------------------------------------------------------

async def test_sigterm_tells_open_sessions_and_stops_cleanly(serve: Serve,
                                                             tmp_path: Path) -> None:
    """A server of its own over a copy of the database (the module's keeps running)."""
    directory = tmp_path / "own"
    directory.mkdir(mode=0o700)
    shutil.copyfile(serve.dir / "pob.sqlite3", directory / "pob.sqlite3")
    proc, port = start_server(directory, f"sqlite:///{directory / 'pob.sqlite3'}")
    own = Serve(directory, f"sqlite:///{directory / 'pob.sqlite3'}", port, proc, serve.keys)

    async with await asyncssh_connect(own, "anne") as conn:
        session = await conn.create_process("import people -")
        await asyncio.sleep(1.0)
        server_status, server_out = await asyncio.get_running_loop().run_in_executor(
            None, stop_server, proc)
        await asyncio.wait_for(session.wait_closed(), 30)
        exit_status, err = session.exit_status, await session.stderr.read()
    assert b"pob serve is stopping" in err
    assert exit_status != 0
    assert server_status == 0 and "pob serve stopped." in server_out
    assert any(r[1] == "anne" for r in audit(own, "serve.logout"))
