"""Norwegian public holidays per year, kept in a small private file between processes.

Importing the `holidays` package loads every country's rules: about a quarter of a second
here, a sixth of the TUI's start to rows and most of a CLI command that shows SLA time,
although pob needs one country's dates for a few years. The library stays the source of the
dates: what it answered is kept per year in `holidays-NO.json` in the user's cache folder
(0600, folder 0700), stamped with the library's installed file, and read back by later
processes; another installation of the library (an upgrade) makes the file start over.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from pob_tui.files import private_dir, private_file
from pob_tui.sla.calendar import _norwegian_holiday_names


def cache_path() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("pob") / "holidays-NO.json"


def library_stamp() -> str | None:
    """Which installation of `holidays` answered (its file's mtime and size), found without
    importing it; None when it cannot be told, and then nothing is kept."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.origin:
        return None
    try:
        st = os.stat(spec.origin)
    except OSError:
        return None
    return f"{st.st_mtime_ns}-{st.st_size}"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("years"), dict) else {}


def holiday_names(year: int, path: Path | None = None) -> dict[date, str]:
    """The year's public holidays and their names, from the kept file when the same
    installation of the library wrote it, else from the library (and then kept)."""
    path = path or cache_path()
    stamp = library_stamp()
    data = _read(path) if stamp else {}
    if data.get("library") == stamp:
        kept = data["years"].get(str(year))
        if isinstance(kept, dict):
            with contextlib.suppress(ValueError, TypeError):
                return {date.fromisoformat(d): str(n) for d, n in kept.items()}
    found = _norwegian_holiday_names(year)
    if stamp:
        years = data["years"] if data.get("library") == stamp else {}
        years[str(year)] = {d.isoformat(): n for d, n in sorted(found.items())}
        _write(path, {"library": stamp, "years": years})
    return found


def _write(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all (a temporary file renamed over it); a cache that cannot be
    written is not an error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        private_dir(path.parent)
        with private_file(tmp) as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
