"""`pob audit`: the audit trail (ticket events and administrative actions), filtered."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext, positive_int
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("audit", parents=[common],
                            help=_("the audit trail: who changed what, and when"))
    parser.add_argument("--actor", help=_("agent username"))
    parser.add_argument("--ticket", help=_("ticket number (INC-, PRB-, CHG-)"))
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                        help=_("first day (included)"))
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD",
                        help=_("last day (included)"))
    parser.add_argument("--limit", type=positive_int, default=100)
    parser.add_argument("--offset", type=positive_int, default=0)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.settings
    import sys

    from pob_tui.commands.output import print_table
    from pob_tui.services import audit_query
    from pob_tui.sla.display import format_stamp

    f = audit_query.AuditFilter(
        actor=args.actor, ticket=args.ticket,
        date_from=audit_query.parse_date(args.date_from) if args.date_from else None,
        date_to=audit_query.parse_date(args.date_to) if args.date_to else None,
        tz=settings.timezone)
    database = ctx.database()
    with database.session() as session:
        actor = ctx.actor(session)
        rows = audit_query.list_events(session, actor, f, limit=max(1, args.limit),
                                       offset=args.offset)
    if args.format == "json":
        sys.stdout.write(audit_query.to_json(rows) + "\n")
    elif args.format == "csv":
        sys.stdout.write(audit_query.to_csv(rows))
    else:
        zone = settings.tzinfo
        print_table([{**r, "at": format_stamp(r["at"], zone)}
                     for r in rows],
                    ("at", "actor", "ticket", "action", "field", "old", "new", "detail"),
                    max_width=40)
    return 0
