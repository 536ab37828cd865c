"""The kept copy of the holidays package's answer (services/holiday_cache.py): the same
dates as the library, a private file, read back by a later process without importing the
library, and started over for another installation of it or a damaged file."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from pob_tui.services.holiday_cache import holiday_names, library_stamp
from pob_tui.sla.calendar import _norwegian_holiday_names


def test_kept_dates_equal_the_library_and_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "pob" / "holidays-NO.json"
    for year in range(2016, 2031):
        assert holiday_names(year, path) == _norwegian_holiday_names(year)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["library"] == library_stamp() and len(data["years"]) == 15
    assert data["years"]["2026"]["2026-05-17"]  # Grunnlovsdag, with its name
    for year in range(2016, 2031):  # read back: the same
        assert holiday_names(year, path) == _norwegian_holiday_names(year)


def test_a_later_process_reads_them_without_importing_the_library(tmp_path: Path) -> None:
    path = tmp_path / "holidays-NO.json"
    expected = holiday_names(2027, path)
    code = ("import sys, json; from pathlib import Path\n"
            "from pob_tui.services.holiday_cache import holiday_names\n"
            f"got = holiday_names(2027, Path({str(path)!r}))\n"
            "print(json.dumps({'imported': 'holidays' in sys.modules,\n"
            "                  'days': sorted(d.isoformat() for d in got)}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True).stdout)
    assert out == {"imported": False, "days": sorted(d.isoformat() for d in expected)}


def test_another_installation_or_a_damaged_file_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "holidays-NO.json"
    holiday_names(2026, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["library"] = "an-older-install"
    data["years"]["2026"] = {"2026-07-01": "not a holiday"}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert holiday_names(2026, path) == _norwegian_holiday_names(2026)
    assert json.loads(path.read_text(encoding="utf-8"))["library"] == library_stamp()
    path.write_text("{not json", encoding="utf-8")
    assert holiday_names(2026, path) == _norwegian_holiday_names(2026)
    assert json.loads(path.read_text(encoding="utf-8"))["years"]["2026"]
