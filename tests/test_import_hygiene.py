"""Code below the UI never loads Textual or Rich (the layering in docs/architecture.md).

Every module of the package outside `pob_tui.tui` is imported, one at a time, in one fresh
subprocess, and checked right after its own import, so the test names the module that pulled
Textual in. The list is walked, not kept by hand. (A subprocess per module, or per layer,
would cost a second of CPU each for the same verdict: a module that loads Textual is caught
at its own import whichever modules came before it, since none of those had loaded it.)
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pob_tui

UI_PACKAGES = ("pob_tui.tui",)


def _modules() -> list[str]:
    names = ["pob_tui"]
    for info in pkgutil.walk_packages(pob_tui.__path__, "pob_tui."):
        if not info.name.startswith(UI_PACKAGES) and ".migrations" not in info.name:
            names.append(info.name)
    return sorted(names)


def _layers() -> dict[str, list[str]]:
    layers: dict[str, list[str]] = {}
    for name in _modules():
        layers.setdefault(".".join(name.split(".")[:2]), []).append(name)
    return layers


def test_no_layer_imports_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {[m for layer in sorted(_layers()) for m in _layers()[layer]]!r}:\n"
        "    importlib.import_module(name)\n"
        "    bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "    if bad:\n"
        "        print(name, 'loads', ','.join(bad[:5]))\n"
        "        break\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_the_walk_finds_the_layers() -> None:
    found = _modules()
    for expected in ("pob_tui.services.incidents", "pob_tui.sla.calendar", "pob_tui.cli",
                     "pob_tui.reports.costs", "pob_tui.importers.csvio"):
        assert expected in found
    assert not [m for m in found if m.startswith("pob_tui.tui")]
