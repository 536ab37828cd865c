"""Domain code never loads Textual or Rich (the layering in DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys

DOMAIN_MODULES = [
    "pob_tui",
    "pob_tui.config",
    "pob_tui.db",
    "pob_tui.models",
    "pob_tui.services.numbers",
    "pob_tui.services.audit",
    "pob_tui.services.dbinfo",
    "pob_tui.services.system",
    "pob_tui.services.live",
    "pob_tui.services.retry",
    "pob_tui.services.presence",
    "pob_tui.services.merge",
    "pob_tui.services.audit_query",
    "pob_tui.services.notifications",
    "pob_tui.sla",
    "pob_tui.reports.build",
    "pob_tui.demo",
    "pob_tui.cli",
]


def test_domain_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {DOMAIN_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
