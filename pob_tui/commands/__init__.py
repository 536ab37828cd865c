"""Subcommands of `pob`, one module per area.

Each module has `register(sub, common)`, which adds its parsers and sets `handler` on them:
a function `(args, ctx) -> exit status`, `ctx` being a `commands.common.CommandContext`.
Modules import only argparse-level code at the top, so building the parser stays cheap; the
work is imported inside the handlers.
"""

from __future__ import annotations

AREAS = ("db", "demo", "incident", "problem", "sla", "report", "change", "cab", "importer", "agent",
         "audit", "directory", "serve", "ci", "outage", "mail", "org", "template", "call")
