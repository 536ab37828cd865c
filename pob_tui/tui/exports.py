"""Where the TUI's exports go, and what a `pob serve` session shows instead.

Locally a file is written to `[general] export_dir` (default: the user's documents folder),
never to whatever folder pob happened to be started in; the folder is created 0700 when
missing. In a `pob serve` session that folder is on the server, out of the agent's reach:
the export key shows (and copies, where the terminal allows) the `ssh ... > FILE` command
that writes the same file on the agent's own machine.
"""

from __future__ import annotations

import contextlib
import shlex
import socket
from pathlib import Path
from typing import Any

from pob_tui.config import Settings
from pob_tui.errors import PobError
from pob_tui.i18n import _

_ANY_HOST = ("", "0.0.0.0", "::", "*", "127.0.0.1", "::1", "localhost")


def export_folder(settings: Settings) -> Path:
    """The export folder, created (0700) when missing. A folder that cannot be made is
    one clean error line."""
    folder = settings.export_path
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise PobError(_("cannot create the export folder {path}: {error}").format(
            path=repr(str(folder)), error=exc.strerror or exc)) from None
    return folder


def ssh_command(settings: Settings, args: list[str], filename: str) -> str:
    """`ssh [-p PORT] HOST pob-arguments > FILE`: the same export written on the agent's
    machine through the front door (a wildcard or loopback listen address names this host
    by its full name)."""
    host, _sep, port = settings.serve_listen.rpartition(":")
    host = host.strip("[]")
    if host in _ANY_HOST:
        host = socket.getfqdn()
    port_part = f"-p {port} " if port and port != "22" else ""
    return f"ssh {port_part}{host} {shlex.join(args)} > {shlex.quote(filename)}"


def show_remote_export(app: Any, command: str) -> None:
    """Tell a `pob serve` agent how to get the file: a notification that stays a while,
    the command also copied to the terminal's clipboard (OSC 52) where it supports that."""
    with contextlib.suppress(Exception):  # no clipboard support: the notice is enough
        app.copy_to_clipboard(command)
    app.notify(_("This pob runs on the server. On your own machine run:\n{command}").format(
        command=command), title=_("Export"), timeout=60, markup=False)
