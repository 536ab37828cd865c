"""`pob call ringing --agent USERNAME --number NUMBER`: the phone system says an agent
answered; their running pob opens the call form with the caller. Exit 0 whether or not a
pob took it (a phone system must not retry); the output says which."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("call", parents=[common], help=_("phone system integration"))
    csub = parser.add_subparsers(dest="call_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    ringing = csub.add_parser("ringing", parents=[common],
                              help=_("open the call form in the agent's running pob"))
    ringing.add_argument("--agent", required=True, help=_("the answering agent's username"))
    ringing.add_argument("--number", required=True, help=_("the caller's phone number"))
    ringing.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from dataclasses import asdict

    from pob_tui.commands.output import print_json, visible
    from pob_tui.services import ring

    with ctx.database().session() as session:
        result = ring.ring(session, ctx.actor(session), args.agent, args.number,
                           settings=ctx.settings)
    if args.format == "json":
        print_json(asdict(result), ctx.stdout)
        return 0
    who = visible(result.caller) if result.caller else _("unknown number")
    if result.taken:
        line = _("taken: {agent}'s pob shows the call from {number} ({who})")
    else:
        line = _("not taken: no running pob of {agent} took the call from {number} ({who})")
    ctx.stdout.write(line.format(agent=visible(result.agent), number=visible(result.number),
                                 who=who) + "\n")
    return 0
