"""Files and folders pob creates are private: 0600 and 0700, whatever the umask.

The database holds people and costs, exports carry the same, the SSH host key is a secret.
The umask only ever removes bits, so we open with the private mode and then set it
explicitly (a umask of 0 or 022 would otherwise leave group/world bits on an existing
file we overwrite; a stricter umask like 0277 would leave us unable to write our own file).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create `path` and any missing parents as 0700; folders that exist are left alone
    (a user's home or ~/.local is not ours to change)."""
    folder = Path(path)
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=DIR_MODE)
        except FileExistsError:  # created meanwhile by another process
            continue
        os.chmod(item, DIR_MODE)
    return folder


def private_file(path: str | os.PathLike[str], *, binary: bool = False,
                 encoding: str = "utf-8", newline: str | None = "") -> IO[Any]:
    """Open `path` for writing (created or truncated) with mode 0600; use it in `with`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with contextlib.suppress(OSError):  # a file system without modes (some mounts)
        os.fchmod(fd, FILE_MODE)
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding=encoding, newline=newline)


def create_private(path: str | os.PathLike[str]) -> bool:
    """Create an empty 0600 file if there is none (before SQLite opens it, so its WAL and
    SHM files, which SQLite gives the database file's mode, are private too). True if it
    was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def open_export(path: str | os.PathLike[str]) -> IO[Any]:
    """`private_file` for a file the user named (`-o FILE`, a TUI export): a folder, a
    missing folder or no permission is one line naming the file with repr(), exit 2."""
    from pob_tui.errors import InvalidInput

    try:
        return private_file(path)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}"
        ) from None
