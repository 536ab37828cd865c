"""`pob directory sync|status`: people and units from Active Directory / LDAP."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pob_tui.commands.common import CommandContext, positive_int
from pob_tui.i18n import _

if TYPE_CHECKING:
    from pob_tui.directory.diff import SyncResult


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("directory", parents=[common],
                            help=_("people and org units from Active Directory / LDAP"))
    actions = parser.add_subparsers(dest="directory_command", metavar="ACTION", required=True)
    sync = actions.add_parser("sync", parents=[common],
                              help=_("bring people up to date with the directory"))
    sync.add_argument("--dry-run", action="store_true",
                      help=_("show what would change, write nothing"))
    sync.add_argument("--format", choices=("text", "json"), default="text")
    sync.add_argument("--force", action="store_true",
                      help=_("run even past directory.max_deactivate_share"))
    sync.add_argument("--create-units", action="store_true",
                      help=_("create org units the directory has and pob does not"))
    sync.set_defaults(handler=run_sync)
    status = actions.add_parser("status", parents=[common], help=_("the last sync runs"))
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.add_argument("--limit", type=positive_int, default=10)
    status.set_defaults(handler=run_status)


def run_sync(args: argparse.Namespace, ctx: CommandContext) -> int:
    import json

    from pob_tui.directory import run_sync as sync
    from pob_tui.services.permissions import require

    # Bringing people in is an import: administrators, or pob itself (the system actor of a
    # PostgreSQL deployment's service account, as in cron or `pob serve`).
    with ctx.database().session() as session:
        require(session, ctx.actor(session), "import", target="directory sync")
    result = sync(ctx.settings, dry_run=args.dry_run, force=args.force,
                  create_units=args.create_units, database=ctx.database())
    out = ctx.stdout
    if args.format == "json":
        out.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(format_text(result))
    return 0


def format_text(result: SyncResult) -> str:
    """The diff for people: one line per item, then the counts."""
    lines: list[str] = []
    for a in result.added:
        lines.append(_("added       {username} ({name}) {unit}").format(
            username=a["username"], name=a["name"], unit=a["org_unit"] or "-"))
    for ch in result.changed:
        lines.append(_("changed     {username} {field}: {old} -> {new}").format(
            username=ch["username"], field=ch["field"], old=ch["old"] or "-",
            new=ch["new"] or "-"))
    for m in result.moved:
        lines.append(_("moved       {username} {old} -> {new} from {date}").format(
            username=m["username"], old=m["from"] or "-", new=m["to"] or "-", date=m["date"]))
    for d in result.deactivated:
        lines.append(_("deactivated {username} ({reason})").format(
            username=d["username"], reason=d["reason"]))
    for r in result.reactivated:
        lines.append(_("reactivated {username}").format(username=r["username"]))
    for u in result.unknown_units:
        lines.append(_("unknown org unit in the directory: {value}").format(value=u))
    for mg in result.managers:
        lines.append(_("manager     {unit}: {old} -> {new}").format(
            unit=mg["unit"], old=mg["from"] or "-", new=mg["to"]))
    c = result.counts
    head = _("dry run, nothing written") if result.dry_run else _("done")
    lines.append(_("{head}: {entries} entries; {added} added, {changed} changed, {moved} moved, "
                   "{deactivated} deactivated, {reactivated} reactivated, {unknown} unknown "
                   "units").format(head=head, entries=result.entries, added=c["added"],
                                   changed=c["changed"], moved=c["moved"],
                                   deactivated=c["deactivated"],
                                   reactivated=c["reactivated"], unknown=c["unknown_units"]))
    if result.refusal:
        lines.append(_("a real run would be {refusal}").format(refusal=result.refusal))
    return "\n".join(lines) + "\n"


def run_status(args: argparse.Namespace, ctx: CommandContext) -> int:
    import json

    from pob_tui.directory.status import last_runs
    from pob_tui.services.permissions import require

    with ctx.database().session() as session:
        require(session, ctx.actor(session), "audit.read", target="directory status")
        runs = last_runs(session, limit=max(1, args.limit))
    out = ctx.stdout
    if args.format == "json":
        out.write(json.dumps([r.to_json() for r in runs], ensure_ascii=False, indent=2) + "\n")
        return 0
    if not runs:
        out.write(_("no directory sync has run yet") + "\n")
        return 0
    from pob_tui.sla.display import format_moment

    zone = ctx.settings.tzinfo
    for r in runs:
        kind = _("dry run") if r.dry_run else _("run")
        out.write(_("{at}  {kind:<7}  {outcome:<8}  {added} added, {changed} changed, {moved} "
                    "moved, {deactivated} deactivated, {reactivated} reactivated").format(
            at=format_moment(r.started_at, zone), kind=kind,
            outcome=r.outcome, added=r.counts["added"], changed=r.counts["changed"],
            moved=r.counts["moved"], deactivated=r.counts["deactivated"],
            reactivated=r.counts["reactivated"]) + "\n")
        if r.message:
            out.write(f"    {r.message}\n")
    return 0
