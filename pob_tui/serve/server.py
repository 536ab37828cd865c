"""The SSH server of `pob serve` (asyncssh).

One SSH session = one child process (`python -m pob_tui ...`) started with the server's own
configuration and database and the token of a one-use session record that names the key's
owner. A session with a terminal gets a pty at the client's size (the TUI); a command without
one gets pipes (the CLI), its output with control characters made visible. The client's
environment is never passed on. Database work (key checks, records, audit) runs in one
worker thread so the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import os
import signal
import struct
import sys
import termios
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from pob_tui.config import Settings
from pob_tui.db import Database
from pob_tui.errors import ConfigError, PermissionDenied, PobError
from pob_tui.serve.policy import Plan, Refused, VisibleText, plan_exec
from pob_tui.services.identity import SERVE_SESSION_ENV, SYSTEM_USERNAME
from pob_tui.services.keys import KeyOwner, KeyRefused

T = TypeVar("T")

CHECK_INTERVAL_S = 2.0  # how often keys, agents and idle sessions are checked
STOP_GRACE_S = 5.0  # how long children get to finish after SIGTERM before SIGKILL
EXIT_REFUSED = 5  # the CLI's "not permitted"
# The client's environment never reaches a session; of the server's own only these pass.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "PYTHONPATH", "VIRTUAL_ENV")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"serve.listen: expected HOST:PORT like 127.0.0.1:2222, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def host_key_path(settings: Settings) -> Path:
    if settings.serve_host_key:
        return Path(settings.serve_host_key).expanduser()
    import platformdirs

    return platformdirs.user_data_path("pob") / "ssh_host_ed25519_key"


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key; created (ed25519, mode 0600) on first start."""
    from pob_tui.files import create_private, private_dir, private_file

    if not path.exists():
        private_dir(path.parent)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="pob serve")
        # Created 0600 before anything is written: the key is never readable by others,
        # not even for a moment (asyncssh's write_private_key would follow the umask).
        create_private(path)
        with private_file(path, binary=True) as fh:
            fh.write(key.export_private_key("openssh"))
        return key
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path}: host key is readable by others; chmod 600 it")
    try:
        return asyncssh.read_private_key(str(path))
    except (OSError, asyncssh.KeyImportError) as exc:
        raise ConfigError(f"{path}: cannot read the host key: {exc}") from None


def _peer(conn: asyncssh.SSHServerConnection) -> str:
    peer = conn.get_extra_info("peername") or ("?", 0)
    return f"{peer[0]}:{peer[1]}"


class PobServer:
    """The server's state: open connections and sessions, the database and its thread."""

    def __init__(self, settings: Settings, database: Database, *, listen: str) -> None:
        self.settings = settings
        self.database = database
        self.host, self.port = parse_listen(listen)
        self.connections: set[Connection] = set()
        self.sessions: set[Session] = set()
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pob-serve-db")
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- database work, one thread ---------------------------------------------------------
    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(session, ...)` in one transaction on the database thread. A SQLite file
        still locked after busy_timeout_ms is tried twice more: a login or its audit row is
        worth a wait, and each try is a whole transaction of its own."""
        from sqlalchemy.exc import OperationalError

        def run() -> T:
            with self.database.session() as session:
                return fn(session, *args, **kwargs)

        loop = asyncio.get_running_loop()
        for attempt in range(3):
            try:
                return await loop.run_in_executor(self._db_thread, run)
            except OperationalError as exc:
                if attempt == 2 or "locked" not in str(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def audit(self, action: str, target: str | None, detail: str,
                    allowed: bool = True) -> None:
        from pob_tui.services.audit import record_admin_event

        try:
            await self.db(lambda s: record_admin_event(
                s, actor=SYSTEM_USERNAME, action=action, target=target, detail=detail,
                allowed=allowed))
        except Exception as exc:  # the audit must not take the server down; say so loudly
            print(f"pob serve: cannot write the audit event {action}: {exc}", file=sys.stderr)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- life cycle --------------------------------------------------------------------------
    async def start(self, host_key: asyncssh.SSHKey) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: Connection(self), self.host, self.port,
            server_host_keys=[host_key],
            encoding=None, line_editor=False,  # bytes in and out; keys go to the app as typed
            agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            gss_host=None, login_timeout=30, keepalive_interval=60,
        )
        if self.port == 0:
            sockets = self._acceptor.sockets
            self.port = sockets[0].getsockname()[1]

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        watcher = loop.create_task(self._watch())
        jobs = loop.create_task(self._jobs())
        await self._stopping.wait()
        watcher.cancel()
        jobs.cancel()
        await self.stop()

    async def stop(self) -> None:
        """Tell every session, give the programs time to finish, close everything."""
        if self._acceptor is not None:
            self._acceptor.close()
        sessions = list(self.sessions)
        for session in sessions:
            session.tell("pob serve is stopping; your session ends now.")
            session.terminate()
        if sessions:
            await asyncio.wait([asyncio.ensure_future(s.done.wait()) for s in sessions],
                               timeout=STOP_GRACE_S)
        for session in sessions:
            session.kill()
        for conn in list(self.connections):
            conn.end_reason = "server stopped"
            await conn.logout()
            conn.close()
        if self._acceptor is not None:
            await self._acceptor.wait_closed()
        if self._tasks:  # audits still under way (refusals, logins of the last moment)
            await asyncio.wait(list(self._tasks), timeout=STOP_GRACE_S)
        self._db_thread.shutdown(wait=True)

    async def _watch(self) -> None:
        """Every few seconds: end sessions whose key was removed or agent disabled, end
        idle ones, and drop session records past use."""
        from pob_tui.services import keys, serve_sessions

        last_purge = 0.0
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            try:
                live = [c for c in self.connections if c.owner is not None]
                if live:
                    allowed = await self.db(keys.still_allowed, [c.owner.key_id for c in live
                                                                 if c.owner])
                    for conn in live:
                        if conn.owner and conn.owner.key_id not in allowed:
                            conn.end("your key was removed or your agent disabled",
                                     reason="access withdrawn")
                idle = self.settings.serve_idle_timeout_minutes * 60
                now = time.monotonic()
                for conn in list(self.connections):
                    if idle and now - conn.last_input > idle:
                        conn.end(f"no key pressed for {idle // 60} minutes", reason="idle")
                if now - last_purge > 3600:
                    last_purge = now
                    await self.db(serve_sessions.purge_records)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup must not stop the watch
                print(f"pob serve: check failed: {exc}", file=sys.stderr)

    async def _jobs(self) -> None:
        """Server jobs, run as `pob ...` children with the service's credentials (they act as
        the system actor `pob`): `mail fetch` every minute with `serve.mail_watch`, `directory
        sync` daily at `serve.directory_sync_at`. A job that fails logs its last line and the
        next round runs as planned."""
        from datetime import datetime

        last_sync_day = None
        while True:
            if self.settings.serve_mail_watch:
                await self.run_job("mail", "fetch")
            at = self.settings.serve_directory_sync_at
            if at is not None:
                now = datetime.now(self.settings.tzinfo)
                if now.time() >= at and last_sync_day != now.date():
                    last_sync_day = now.date()
                    await self.run_job("directory", "sync")
            await asyncio.sleep(60)

    async def run_job(self, *argv: str) -> int:
        env = self.child_env(None, None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pob_tui", *argv, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env)
        out, _err = await proc.communicate()
        if proc.returncode:
            text = out.decode("utf-8", "replace").strip().splitlines()
            print(f"pob serve: job `pob {' '.join(argv)}` ended with {proc.returncode}: "
                  f"{text[-1] if text else ''}", file=sys.stderr)
        return proc.returncode or 0

    def child_env(self, token: str | None, term: str | None) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        # The server's own POB_* settings (not the client's: those are never read).
        env.update({k: v for k, v in os.environ.items()
                    if k.startswith("POB_") and k not in ("POB_DEBUG", SERVE_SESSION_ENV)})
        env["POB_DATABASE_URL"] = self.settings.database_url
        if self.settings.config_path is not None:
            env["POB_CONFIG"] = str(self.settings.config_path)
        if self.settings.language:
            env["POB_GENERAL_LANGUAGE"] = self.settings.language
        if token is not None:
            env[SERVE_SESSION_ENV] = token
        env["PYTHONIOENCODING"] = "utf-8"
        if term:
            env["TERM"] = term
        return env


class Connection(asyncssh.SSHServer):
    """One client connection: public-key authentication, then its sessions."""

    def __init__(self, server: PobServer) -> None:
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.owner: KeyOwner | None = None
        self.authenticated = False
        self.refused: set[str] = set()
        self.last_input = time.monotonic()
        self.started = time.monotonic()
        self.end_reason = "closed by client"
        self.logged_out = False
        self._owners: dict[str, KeyOwner | None] = {}

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.address = _peer(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.server.spawn(self.logout())

    async def logout(self) -> None:
        """Audit the end of an authenticated connection, once."""
        if not self.authenticated or self.owner is None or self.logged_out:
            return
        self.logged_out = True
        minutes = (time.monotonic() - self.started) / 60
        await self.server.audit(
            "serve.logout", self.owner.name,
            f"{self.owner.fingerprint} from {self.address}; {self.end_reason}; "
            f"{minutes:.1f} min")

    def begin_auth(self, username: str) -> bool:
        return True  # the SSH user name is ignored: the key decides who you are

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        from pob_tui.services import keys

        key_data = base64.b64encode(key.public_data).decode("ascii")
        fingerprint = key.get_fingerprint("sha256")
        if key_data not in self._owners:  # asked twice per key: offered, then signed
            try:
                self._owners[key_data] = await self.server.db(keys.key_owner, key_data)
            except KeyRefused as exc:
                self._owners[key_data] = None
                if fingerprint not in self.refused:
                    self.refused.add(fingerprint)
                    await self.server.audit("serve.refused", None,
                                            f"{fingerprint} from {self.address}: {exc}",
                                            allowed=False)
        owner = self._owners[key_data]
        if owner is not None:
            self.owner = owner
        return owner is not None

    def auth_completed(self) -> None:
        self.authenticated = True
        self.server.connections.add(self)
        assert self.owner is not None
        self.server.spawn(self.server.audit(
            "serve.login", self.owner.name, f"{self.owner.fingerprint} from {self.address}"))

    def session_requested(self) -> asyncssh.SSHServerSession[bytes]:
        return Session(self)

    def end(self, message: str, *, reason: str) -> None:
        self.end_reason = reason
        for session in [s for s in self.server.sessions if s.connection is self]:
            session.tell(message)
            session.terminate()
        if self.conn is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(STOP_GRACE_S, self.close)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@dataclass
class _Pty:
    term: str
    size: tuple[int, int, int, int]
    master: int = -1


class Session(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One SSH session: one child process, in a pty or on pipes."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.server = connection.server
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.command: str | None = None
        self.pty: _Pty | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self.done = asyncio.Event()
        self._stdin_eof = False
        self._pending_input: list[bytes] = []

    # -- asyncssh callbacks ------------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Any) -> bool:
        self.pty = _Pty(term=term_type or "xterm-256color", size=term_size)
        return True

    def shell_requested(self) -> bool:
        return True  # no shell is ever run: a terminal gets the app

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no sftp, nothing by name on the server

    def session_started(self) -> None:
        self.server.sessions.add(self)
        self.server.spawn(self._run())

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.connection.last_input = time.monotonic()
        if self.pty is not None and self.pty.master >= 0:
            with contextlib.suppress(OSError):
                os.write(self.pty.master, data)
        elif self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.write(data)
        else:
            self._pending_input.append(data)

    def eof_received(self) -> bool:
        self._stdin_eof = True
        if self.proc is not None and self.proc.stdin is not None and self.pty is None:
            with contextlib.suppress(OSError, RuntimeError):
                self.proc.stdin.write_eof()
        return True  # keep sending the command's output

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        if self.pty is None:
            return
        self.pty.size = (width, height, pixwidth, pixheight)
        if self.pty.master >= 0:
            _set_size(self.pty.master, self.pty.size)
            if self.proc is not None and self.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGWINCH)

    def connection_lost(self, exc: Exception | None) -> None:
        self.terminate()

    # -- control -----------------------------------------------------------------------------
    def tell(self, message: str) -> None:
        if self.chan is None:
            return
        text = f"\r\npob: {message}\r\n" if self.pty else f"pob: {message}\n"
        with contextlib.suppress(Exception):
            if self.pty:
                self.chan.write(text.encode())
            else:
                self.chan.write_stderr(text.encode())

    def terminate(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                # A terminal session hangs up like a closed terminal; a command is asked
                # to stop. Either way each save is one transaction: nothing half-saved.
                self.proc.send_signal(signal.SIGHUP if self.pty else signal.SIGTERM)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()

    def _finish(self, status: int, message: str | None = None) -> None:
        if message:
            self.tell(message)
        if self.chan is not None:
            with contextlib.suppress(Exception):
                self.chan.exit(status)
        self.server.sessions.discard(self)
        self.done.set()

    # -- the session's program ---------------------------------------------------------------
    async def _run(self) -> None:
        from pob_tui.services import serve_sessions

        owner = self.connection.owner
        assert owner is not None
        settings = self.server.settings
        mine = [s for s in self.server.sessions if s.connection.owner
                and s.connection.owner.name == owner.name]
        if settings.serve_max_sessions and len(self.server.sessions) > settings.serve_max_sessions:
            await self._refuse(f"the server has its maximum of {settings.serve_max_sessions} "
                               "sessions open; try again later")
            return
        if settings.serve_max_sessions_per_agent and (
                len(mine) > settings.serve_max_sessions_per_agent):
            await self._refuse(f"you have {settings.serve_max_sessions_per_agent} sessions "
                               "open already (serve.max_sessions_per_agent)")
            return
        try:
            plan = plan_exec(self.command, integration=owner.integration is not None,
                             pty=self.pty is not None)
        except Refused as exc:
            await self._refuse(str(exc))
            return
        try:
            token = await self.server.db(serve_sessions.create_record, owner,
                                         client_address=self.connection.address)
        except PobError as exc:
            self._finish(exc.exit_code, str(exc))
            return
        try:
            status = await self._start(plan, token)
        except Exception as exc:  # the client gets one line, the server log the rest
            print(f"pob serve: session failed: {exc!r}", file=sys.stderr)
            status = 1
            self.tell("the session could not start; the administrator can see why in the "
                      "server log")
        self._finish(status)

    async def _refuse(self, reason: str) -> None:
        owner = self.connection.owner
        await self.server.audit("serve.refused", owner.name if owner else None,
                                f"{owner.fingerprint if owner else '?'} from "
                                f"{self.connection.address}: {reason}; command "
                                f"{(self.command or '')[:100]!r}", allowed=False)
        self._finish(EXIT_REFUSED, reason)

    async def _start(self, plan: Plan, token: str) -> int:
        argv = [sys.executable, "-m", "pob_tui", *plan.argv]
        env = self.server.child_env(token, self.pty.term if self.pty else None)
        cwd = str(Path(env.get("HOME", "/")))
        if self.pty is not None:
            return await self._start_pty(argv, env, cwd)
        return await self._start_pipes(argv, env, cwd)

    async def _start_pipes(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        assert self.chan is not None
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        for data in self._pending_input:
            proc.stdin.write(data)
        self._pending_input.clear()
        if self._stdin_eof:
            with contextlib.suppress(OSError, RuntimeError):
                proc.stdin.write_eof()
        chan = self.chan

        async def pump(stream: asyncio.StreamReader, write: Callable[[bytes], None]) -> None:
            shown = VisibleText()
            while True:
                data = await stream.read(65536)
                if not data:
                    tail = shown.feed(b"", final=True)
                    if tail:
                        write(tail)
                    return
                with contextlib.suppress(Exception):  # the client may be gone
                    write(shown.feed(data))

        await asyncio.gather(pump(proc.stdout, chan.write), pump(proc.stderr, chan.write_stderr))
        return _status(await proc.wait())

    async def _start_pty(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        import pty as ptymod

        assert self.chan is not None and self.pty is not None
        master, slave = ptymod.openpty()
        _set_size(master, self.pty.size)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                start_new_session=True)
        finally:
            os.close(slave)
        self.proc = proc
        self.pty.master = master
        os.set_blocking(master, False)
        for data in self._pending_input:
            with contextlib.suppress(OSError):
                os.write(master, data)
        self._pending_input.clear()
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()
        chan = self.chan

        def readable() -> None:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                return
            except OSError:  # EIO: the program has ended and closed the terminal
                data = b""
            if not data:
                loop.remove_reader(master)
                closed.set()
                return
            with contextlib.suppress(Exception):
                chan.write(data)

        loop.add_reader(master, readable)
        status = _status(await proc.wait())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(closed.wait(), 1.0)
        loop.remove_reader(master)
        self.pty.master = -1
        os.close(master)
        return status


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _set_size(fd: int, size: tuple[int, int, int, int]) -> None:
    width, height, pixwidth, pixheight = size
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", height or 24, width or 80, pixwidth, pixheight))


def check_service_credentials(database: Database) -> None:
    """pob serve must hold pob's service credentials, or no session could learn its agent."""
    from pob_tui.services.identity import holds_service_credentials

    with database.session() as session:
        if not holds_service_credentials(session):
            raise PermissionDenied(
                "pob serve needs pob's service credentials: on PostgreSQL a login in "
                "pob_service (see `pob db grant`), on SQLite the account that owns the file")


async def serve(settings: Settings, database: Database, *, listen: str,
                ready: Callable[[PobServer, asyncssh.SSHKey], None]) -> None:
    host_key = load_or_create_host_key(host_key_path(settings))
    server = PobServer(settings, database, listen=listen)
    try:
        await server.start(host_key)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    ready(server, host_key)
    await server.run()
