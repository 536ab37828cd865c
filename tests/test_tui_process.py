"""The TUI as a process: it ends with its terminal, even when its parent ignored SIGHUP
(started under `nohup`): an orphan pob spun at half a core on a closed terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest


def _ignore_hangup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does before exec


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX terminals only")
def test_pob_ends_on_hangup_even_when_started_with_sighup_ignored(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path)}
    url = f"sqlite:///{tmp_path / 'pob.sqlite3'}"
    proc = subprocess.Popen([sys.executable, "-m", "pob_tui", "--db", url], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True,
                            preexec_fn=_ignore_hangup)
    os.close(slave)
    try:
        seen, deadline = b"", time.monotonic() + 60
        while b"pob" not in seen and time.monotonic() < deadline:  # its first screen
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 65536)
        assert b"pob" in seen, "pob drew no screen"
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(timeout=20) == -signal.SIGHUP
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
