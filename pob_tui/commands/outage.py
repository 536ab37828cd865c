"""`pob outage declare|list|resolve|link`: major incidents from the command line."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext, positive_int
from pob_tui.i18n import _

LIST_COLUMNS = ("number", "summary", "ci", "service", "children", "status", "opened_at")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("outage", parents=[common],
                            help=_("outages (major incidents) with their child calls"))
    osub = parser.add_subparsers(dest="outage_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    dec = osub.add_parser("declare", parents=[common],
                          help=_("declare an outage on a CI or a service; prints its number"))
    which = dec.add_mutually_exclusive_group(required=True)
    which.add_argument("--ci", metavar="NAME")
    which.add_argument("--service", metavar="CODE")
    dec.add_argument("--summary", required=True)
    dec.add_argument("--link-open", action="store_true",
                     help=_("link the open incidents on the impacted services at once"))
    ls = osub.add_parser("list", parents=[common], help=_("open outages"))
    ls.add_argument("--all", action="store_true", help=_("resolved and closed ones too"))
    ls.add_argument("--limit", type=positive_int, default=50)
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    res = osub.add_parser("resolve", parents=[common],
                          help=_("resolve the outage and its open child incidents"))
    res.add_argument("number")
    res.add_argument("--note", required=True)
    link = osub.add_parser("link", parents=[common],
                           help=_("link incidents to the outage (none: every open incident "
                                  "on its services)"))
    link.add_argument("number")
    link.add_argument("incidents", nargs="*")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_rows
    from pob_tui.services import outages

    out = ctx.stdout
    cmd = args.outage_command
    with ctx.database().session() as session:
        if cmd == "list":
            rows = outages.list_outages(session, open_only=not args.all, limit=args.limit)
            print_rows([r.as_json() for r in rows], LIST_COLUMNS, args.format, out)
            return 0
        actor = ctx.actor(session)
        if cmd == "declare":
            if args.link_open:
                parent, linked = outages.declare_and_link(
                    session, actor, summary=args.summary, ci=args.ci, service=args.service)
            else:
                parent, linked = outages.declare(session, actor, summary=args.summary,
                                                 ci=args.ci, service=args.service), []
            session.commit()
            out.write(parent.number + "\n")
            if linked:
                out.write(_("linked {n}: {numbers}").format(n=len(linked),
                                                            numbers=" ".join(linked)) + "\n")
        elif cmd == "resolve":
            children = outages.resolve(session, actor, args.number, note=args.note)
            session.commit()
            out.write(_("{number} resolved with {n} child incidents").format(
                number=args.number.upper(), n=len(children)) + "\n")
        elif cmd == "link":
            if args.incidents:
                linked = [outages.link_child(session, actor, args.number, n).number
                          for n in args.incidents]
            else:
                linked = outages.link_open_on_services(session, actor, args.number)
            session.commit()
            out.write(" ".join(linked) + "\n")
    return 0
