"""`pob serve` against a local start, both measured in the same run.

    python bench/ssh.py [--scale small|municipality] [--runs N] [--sessions N]
                        [--commands N] [--no-goal]

1. Connect to the first interactive screen: asyncssh client with a pty until the header names
   the agent, against `python -m pob_tui` started in a local pty until the same header shows
   (goal: ratio of medians <= 1.3).
2. Memory per open terminal session: the session programs' RSS plus the server's growth,
   divided by the number of sessions (no goal; printed).
3. N concurrent sessions each running M CLI commands (`incident list --format json`) over
   SSH, against the same N-way run started locally (goal: p95 per command <= 2x).

Exits 1 when a goal is missed (unless --no-goal).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_CONNECT = 1.3
GOAL_P95 = 2.0
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
COMMAND = ("incident", "list", "--format", "json", "--limit", "20")


def build(scale: str, directory: Path) -> tuple[str, Path, str, str]:
    """The demo database (cached per scale), an agent `bench` with a key, and the OS account
    registered as an agent for the local start. Returns url, key path, both usernames."""
    import asyncssh
    from sqlalchemy import select

    from pob_tui.db import Database, make_engine
    from pob_tui.models import Agent, AgentRole, Person
    from pob_tui.services import keys
    from pob_tui.services.identity import SYSTEM_ACTOR, os_account

    cached = Path(tempfile.gettempdir()) / f"pob-bench-ssh-{scale}.sqlite3"
    if not cached.exists():
        from pob_tui.demo import generate

        print(f"building the {scale} demo in {cached} ...", flush=True)
        generate(f"sqlite:///{cached}", scale=scale, seed=1)
    path = directory / "pob.sqlite3"
    shutil.copyfile(cached, path)
    url = f"sqlite:///{path}"
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = directory / "bench_key"
    key_path.write_bytes(key.export_private_key("openssh"))
    key_path.chmod(0o600)
    local = os_account()
    db = Database(make_engine(url))
    with db.session() as s:
        for username in ("bench", local):
            if s.execute(select(Agent.id).where(Agent.username == username)).first():
                continue
            person = Person(username=f"{username}-bench", first_name="Bench",
                            last_name=username.title(), search=username)
            s.add(person)
            s.flush()
            agent = Agent(username=username, person_id=person.id)
            s.add(agent)
            s.flush()
            s.add(AgentRole(agent_id=agent.id, role="first_line"))
        keys.add_key(s, SYSTEM_ACTOR, key.export_public_key("openssh").decode(),
                     username="bench")
    db.dispose()
    return url, key_path, "bench", local


def server_env(directory: Path, url: str) -> dict[str, str]:
    config = directory / "config.toml"
    # A long SQLite busy timeout: on a loaded machine 20 writers (session records, claims,
    # audit rows) can queue for more than the default 5 s, and this measures latency.
    config.write_text(f'[database]\nbusy_timeout_ms = 60000\n\n[serve]\n'
                      f'host_key = "{directory / "host_key"}"\nidle_timeout_minutes = 0\n'
                      "max_sessions = 1000\nmax_sessions_per_agent = 1000\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POB_")}
    env.update(POB_CONFIG=str(config), POB_DATABASE_URL=url)
    return env


def start_server(env: dict[str, str], directory: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-m", "pob_tui", "serve", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, text=True, cwd=directory)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on" in line:
            proc.stdout.readline()
            return proc, int(line.rsplit(":", 1)[1])
    raise SystemExit(f"pob serve did not start (status {proc.wait()})")


SCREEN_WAIT = 90.0
"""Seconds a first screen may take before the bench gives up and says what it saw (a wait
without an end held a whole CI run for 10 minutes once)."""


def shown(seen: bytes) -> str:
    """The last screenful of text a terminal received, escapes taken out."""
    return ANSI.sub(b"", seen)[-600:].decode("utf-8", "replace")


def local_tui(env: dict[str, str], marker: bytes) -> float:
    """Seconds from starting `pob` in a local pty to the marker on its screen."""
    master, slave = pty.openpty()
    import fcntl

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pob_tui"], stdin=slave, stdout=slave,
                            stderr=slave, env={**env, "TERM": "xterm-256color"},
                            start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _w, _x = select.select([master], [], [], SCREEN_WAIT)
            if not ready:
                raise SystemExit(f"local pob: {marker.decode()} not on its screen after "
                                 f"{SCREEN_WAIT:.0f} s; it showed: {shown(seen)!r}")
            try:
                data = os.read(master, 65536)
            except OSError:
                raise SystemExit("local pob ended before its first screen") from None
            seen += data
            if marker in ANSI.sub(b"", seen):
                return time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGHUP)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise SystemExit("local pob did not end on SIGHUP within 30 s") from None
        finally:
            os.close(master)


async def ssh_tui(port: int, key: Path, marker: bytes, hold: asyncio.Event | None = None,
                  opened: list[float] | None = None) -> float:
    """Seconds from connecting to the marker on the remote screen."""
    import asyncssh

    t0 = time.perf_counter()
    async with asyncssh.connect("127.0.0.1", port, username="pob", client_keys=[str(key)],
                                known_hosts=None, agent_path=None, encoding=None) as conn:
        proc = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
        seen = b""
        while marker not in ANSI.sub(b"", seen):
            try:
                data = await asyncio.wait_for(proc.stdout.read(65536), SCREEN_WAIT)
            except TimeoutError:
                raise SystemExit(f"ssh session: {marker.decode()} not on its screen after "
                                 f"{SCREEN_WAIT:.0f} s; it showed: {shown(seen)!r}") from None
            if not data:
                raise SystemExit("the ssh session ended before its first screen")
            seen += data
        took = time.perf_counter() - t0
        if opened is not None:
            opened.append(took)
        if hold is not None:
            await hold.wait()
        proc.close()
    return took


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


async def memory_per_session(server: subprocess.Popen[str], port: int, key: Path,
                             marker: bytes, sessions: int) -> float:
    before = rss_kb(server.pid)
    hold = asyncio.Event()
    opened: list[float] = []
    tasks = [asyncio.create_task(ssh_tui(port, key, marker, hold, opened))
             for _ in range(sessions)]
    while len(opened) < sessions:
        await asyncio.sleep(0.2)
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()  # type: ignore[misc]
    total = rss_kb(server.pid) - before + sum(rss_kb(p) for p in children(server.pid))
    hold.set()
    await asyncio.gather(*tasks)
    return total / sessions / 1024


async def ssh_commands(port: int, key: Path, sessions: int, commands: int) -> list[float]:
    import asyncssh

    times: list[float] = []

    async def one() -> None:
        async with asyncssh.connect("127.0.0.1", port, username="pob", client_keys=[str(key)],
                                    known_hosts=None, agent_path=None, encoding=None) as conn:
            for _ in range(commands):
                t0 = time.perf_counter()
                done = await conn.run(" ".join(COMMAND))
                if done.exit_status != 0:
                    raise SystemExit(f"command failed over ssh: {done.stderr!r}")
                times.append(time.perf_counter() - t0)

    await asyncio.gather(*(one() for _ in range(sessions)))
    return times


async def local_commands(env: dict[str, str], sessions: int, commands: int) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        for _ in range(commands):
            t0 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pob_tui", *COMMAND, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            _out, err = await proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"local command failed: {err!r}")
            times.append(time.perf_counter() - t0)

    await asyncio.gather(*(one() for _ in range(sessions)))
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "municipality"), default="municipality")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=0)
    parser.add_argument("--commands", type=int, default=0)
    parser.add_argument("--no-goal", action="store_true", help="print figures, never fail")
    args = parser.parse_args()
    small = args.scale == "small"
    runs = args.runs or (1 if small else 5)
    sessions = args.sessions or (2 if small else 20)
    commands = args.commands or (2 if small else 50)
    directory = Path(tempfile.mkdtemp(prefix="pob-bench-ssh-"))
    directory.chmod(0o700)
    try:
        url, key, remote_user, local_user = build(args.scale, directory)
        env = server_env(directory, url)
        server, port = start_server(env, directory)
        try:
            remote_marker = f"({remote_user})".encode()
            local_marker = f"({local_user})".encode()
            local_tui(env, local_marker)  # warm the file cache for both
            asyncio.run(ssh_tui(port, key, remote_marker))
            local_s, ssh_s = [], []
            for _ in range(runs):
                local_s.append(local_tui(env, local_marker))
                ssh_s.append(asyncio.run(ssh_tui(port, key, remote_marker)))
            mem = asyncio.run(memory_per_session(server, port, key, remote_marker,
                                                 min(sessions, 5)))
            t0 = time.perf_counter()
            local_times = asyncio.run(local_commands(env, sessions, commands))
            local_wall = time.perf_counter() - t0
            t0 = time.perf_counter()
            ssh_times = asyncio.run(ssh_commands(port, key, sessions, commands))
            ssh_wall = time.perf_counter() - t0
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    connect_ratio = statistics.median(ssh_s) / statistics.median(local_s)
    p95_ratio = p95(ssh_times) / p95(local_times)
    print(f"database: {args.scale} demo (SQLite), {runs} runs, {sessions} sessions x "
          f"{commands} commands")
    print(f"first interactive screen, local: {statistics.median(local_s) * 1000:7.0f} ms")
    print(f"first interactive screen, ssh:   {statistics.median(ssh_s) * 1000:7.0f} ms   "
          f"ratio {connect_ratio:.2f} (goal <= {GOAL_CONNECT})")
    print(f"memory per terminal session:     {mem:7.1f} MB")
    print(f"{sessions}-way CLI, local: p50 {statistics.median(local_times) * 1000:6.0f} ms, "
          f"p95 {p95(local_times) * 1000:6.0f} ms, wall {local_wall:6.1f} s")
    print(f"{sessions}-way CLI, ssh:   p50 {statistics.median(ssh_times) * 1000:6.0f} ms, "
          f"p95 {p95(ssh_times) * 1000:6.0f} ms, wall {ssh_wall:6.1f} s   "
          f"ratio {p95_ratio:.2f} (goal <= {GOAL_P95})")
    missed = connect_ratio > GOAL_CONNECT or p95_ratio > GOAL_P95
    if missed and not args.no_goal:
        print("goal missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
