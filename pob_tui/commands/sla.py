"""`pob sla check`: record breaches and warnings (for cron; the app runs it on a timer)."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("sla", parents=[common], help=_("SLA clocks"))
    ssub = parser.add_subparsers(dest="sla_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    check = ssub.add_parser("check", parents=[common],
                            help=_("record breaches and notify team leads (opening hours only)"))
    check.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_json
    from pob_tui.services import sla

    database = ctx.database()
    with database.session() as session:
        result = sla.check_breaches(session)
    if args.format == "json":
        print_json(result)
    else:
        print(_("{breached} breach(es) recorded, {warned} warning(s) sent.").format(**result))
    return 0
