"""A throwaway PostgreSQL cluster owned by one test: password auth, its own port.

The shared CI server trusts every login, so wrong-password and server-restart behaviour
can only be shown on a cluster the test controls. Needs the PostgreSQL server binaries and,
when running as root, the `postgres` OS user (initdb refuses to run as root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    PASSWORD = "s3cret-pob"

    def __init__(self) -> None:
        self.initdb = _bin("initdb")
        self.pg_ctl = _bin("pg_ctl")
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pob-pgcluster-"))
        self.data = self.root / "data"
        self.as_postgres = os.geteuid() == 0

    def available(self) -> str | None:
        if not self.initdb or not self.pg_ctl:
            return "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if self.as_postgres:
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root without a postgres OS user for initdb"
        return None

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else list(cmd)
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        pwfile = self.root / "pw"
        pwfile.write_text(self.PASSWORD + "\n")
        if self.as_postgres:
            shutil.chown(pwfile, "postgres")
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "scram-sha-256",
                  f"--pwfile={pwfile}", "--no-sync")
        self._run(self.pg_ctl, "-D", str(self.data), "-w", "-l", str(self.root / "log"),
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off", "start")

    def restart(self) -> None:
        # -l: without a log file the restarted server keeps our stdout pipe open and
        # capture_output would wait for it forever.
        self._run(self.pg_ctl, "-D", str(self.data), "-w", "-m", "fast",
                  "-l", str(self.root / "log"),
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(self.pg_ctl, "-D", str(self.data), "-w", "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, password: str | None = None, database: str = "postgres") -> str:
        pw = self.PASSWORD if password is None else password
        return f"postgresql+psycopg://postgres:{pw}@127.0.0.1:{self.port}/{database}"
