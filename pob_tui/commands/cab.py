"""`pob cab agenda|minutes|vote|decide|move|emergency`: the CAB from the command line."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("cab", parents=[common], help=_("CAB agendas, votes and minutes"))
    csub = parser.add_subparsers(dest="cab_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    ag = csub.add_parser("agenda", parents=[common],
                         help=_("the agenda of a meeting (default: the next one)"))
    ag.add_argument("--meeting", metavar="DATE", help=_("meeting date, e.g. 2026-12-01"))
    ag.add_argument("--format", choices=("md", "json", "text"), default="text")
    mi = csub.add_parser("minutes", parents=[common], help=_("the minutes of a meeting"))
    mi.add_argument("--meeting", metavar="DATE", required=True)
    mi.add_argument("--format", choices=("md", "json"), default="md")
    for name, helptext in (("vote", _("a CAB member's vote")),
                           ("decide", _("the chair's decision"))):
        p = csub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("number")
        p.add_argument("vote", choices=("approve", "reject", "defer"))
        p.add_argument("--conditions")
        p.add_argument("--meeting", metavar="DATE")
    mv = csub.add_parser("move", parents=[common], help=_("move a change to another meeting"))
    mv.add_argument("number")
    mv.add_argument("--to", metavar="DATE", required=True)
    csub.add_parser("emergency", parents=[common], help=_("call an emergency CAB now"))
    hold = csub.add_parser("hold", parents=[common],
                           help=_("mark a meeting held (default: the next one)"))
    hold.add_argument("meeting", nargs="?", help=_("YYYY-MM-DD or 'YYYY-MM-DD HH:MM'"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.settings
    from pob_tui.commands.output import print_json, visible
    from pob_tui.reports import cab as report
    from pob_tui.services import cab as svc
    from pob_tui.sla.display import format_moment

    database = ctx.database()
    cmd = args.cab_command
    tz = settings.tzinfo
    with database.session() as session:
        if cmd == "agenda":
            data = svc.agenda(session, args.meeting, settings=settings)
            if args.format == "json":
                print_json(report.agenda_json(data))
            elif args.format == "md":
                print(report.agenda_markdown(data, tz), end="")
            else:
                for line in report.agenda_text(data, tz).splitlines():
                    print(visible(line))
            return 0
        if cmd == "minutes":
            data = svc.minutes(session, args.meeting, settings=settings)
            if args.format == "json":
                print_json(data)
            else:
                print(report.minutes_markdown(data, tz), end="")
            return 0
        actor = ctx.actor(session)
        if cmd in ("vote", "decide"):
            ref = svc.find_meeting(session, args.meeting, settings=settings) \
                if args.meeting else None
            if cmd == "vote":
                svc.vote(session, actor, args.number, args.vote, conditions=args.conditions,
                         meeting=ref)
                print(f"{args.number.upper()} {args.vote}")
            else:
                res = svc.decide(session, actor, args.number, args.vote,
                                 conditions=args.conditions, meeting=ref, settings=settings)
                print(f"{res['number']} {res['status']}")
        elif cmd == "move":
            mt = svc.move_item(session, actor, args.number, args.to, settings=settings)
            print(f"{args.number.upper()} -> {format_moment(mt.starts_at, tz)}")
        elif cmd == "emergency":
            mt = svc.call_emergency_cab(session, actor)
            print(format_moment(mt.starts_at, tz))
        elif cmd == "hold":
            mt = svc.hold_meeting(session, actor, args.meeting, settings=settings)
            print(f"{format_moment(mt.starts_at, tz)} {mt.status}")
    return 0
