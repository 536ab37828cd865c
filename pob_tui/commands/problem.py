"""`pob problem new|link|show|list|update`."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext, positive_int, search_text
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("problem", parents=[common], help=_("problems and known errors"))
    psub = parser.add_subparsers(dest="problem_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    new = psub.add_parser("new", parents=[common], help=_("open a problem; prints the number"))
    new.add_argument("--title", required=True)
    new.add_argument("--description")
    new.add_argument("--service")
    new.add_argument("--team")
    new.add_argument("--priority", type=int, choices=range(1, 6), default=3)
    new.add_argument("--from-incident", metavar="INC")
    link = psub.add_parser("link", parents=[common], help=_("link incidents to a problem"))
    link.add_argument("number")
    link.add_argument("incidents", nargs="+", metavar="INC")
    link.add_argument("--unlink", action="store_true")
    show = psub.add_parser("show", parents=[common])
    show.add_argument("number")
    show.add_argument("--format", choices=("text", "json"), default="text")
    ls = psub.add_parser("list", parents=[common])
    ls.add_argument("--status")
    ls.add_argument("--known-errors", action="store_true")
    ls.add_argument("--search", type=search_text)
    ls.add_argument("--limit", type=positive_int, default=50)
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    up = psub.add_parser("update", parents=[common])
    up.add_argument("number")
    up.add_argument("--root-cause")
    up.add_argument("--workaround")
    up.add_argument("--symptoms")
    up.add_argument("--known-error", action="store_true")
    up.add_argument("--status", choices=("investigating", "known_error", "resolved", "closed"))
    up.add_argument("--note")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_fields, print_json, print_rows, visible
    from pob_tui.services import problems as svc

    database = ctx.database()
    cmd = args.problem_command
    with database.session() as session:
        actor = ctx.actor(session)
        if cmd == "new":
            p = svc.create_problem(session, actor, title=args.title,
                                   description=args.description, service=args.service,
                                   team=args.team, priority=args.priority,
                                   from_incident=args.from_incident)
            print(p.number)
        elif cmd == "link":
            n = svc.link_incidents(session, actor, args.number, args.incidents,
                                   unlink=args.unlink)
            print(_("{n} incident(s) changed.").format(n=n))
        elif cmd == "list":
            rows = svc.list_problems(session, status=args.status,
                                     known_error=True if args.known_errors else None,
                                     search=args.search, limit=args.limit)
            print_rows(rows, ("number", "priority", "status", "known_error", "title", "service",
                              "incidents"), args.format)
        elif cmd == "show":
            data = svc.problem_detail(session, args.number)
            if args.format == "json":
                print_json({k: v for k, v in data.items() if k != "id"})
            else:
                print_fields([(k, data[k]) for k in (
                    "number", "title", "status", "priority", "known_error", "service", "team",
                    "symptoms", "root_cause", "workaround")])
                for inc in data["incidents"]:
                    print(f"  {inc['number']}  {inc['status']:<16} {visible(inc['summary'])}")
        elif cmd == "update":
            p = svc.update_problem(session, actor, args.number, root_cause=args.root_cause,
                                   workaround=args.workaround, symptoms=args.symptoms,
                                   known_error=True if args.known_error else None,
                                   status=args.status, note=args.note)
            print(f"{p.number} {p.status}")
    return 0
