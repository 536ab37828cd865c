"""`pob agent add|list|disable|key`: who may work in pob (administrators)."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("agent", parents=[common], help=_("agents and their roles"))
    asub = parser.add_subparsers(dest="agent_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    add = asub.add_parser("add", parents=[common], help=_("add an agent"))
    add.add_argument("username", help=_("the agent's name: their OS account (SQLite), "
                                        "database login (PostgreSQL) or name in pob serve"))
    add.add_argument("--name", required=True, help=_("first and last name"))
    add.add_argument("--team", help=_("team code or name"))
    add.add_argument("--role", action="append", dest="roles", metavar="ROLE",
                     help=_("first_line, second_line, change_manager, cab_member, "
                            "service_owner, customer_manager, administrator (repeat)"))
    add.add_argument("--person", help=_("existing person's username, if not the same"))
    add.add_argument("--create-role", action="store_true",
                     help=_("PostgreSQL: also create a read-only login (pob_reader)"))
    ls = asub.add_parser("list", parents=[common], help=_("list agents"))
    ls.add_argument("--all", action="store_true", help=_("include disabled agents"))
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    dis = asub.add_parser("disable", parents=[common], help=_("disable an agent"))
    dis.add_argument("username")
    parser.set_defaults(handler=run)
    from pob_tui.commands import agent_key

    agent_key.register(asub, common)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_rows
    from pob_tui.errors import InvalidInput
    from pob_tui.services import agents

    database = ctx.database()
    with database.session() as session:
        actor = ctx.actor(session)
        if args.agent_command == "add":
            first, _sep, last = args.name.strip().partition(" ")
            if not last:
                raise InvalidInput(_("--name needs a first and a last name"))
            agents.add_agent(session, actor, args.username, first_name=first, last_name=last,
                             team=args.team, roles=args.roles, person=args.person,
                             create_role=args.create_role)
            print(_("Agent {username} added.").format(username=args.username))
        elif args.agent_command == "list":
            print_rows(agents.list_agents(session, include_disabled=args.all),
                       ("username", "name", "team", "roles", "active"), args.format)
        else:
            agents.disable_agent(session, actor, args.username)
            print(_("Agent {username} disabled.").format(username=args.username))
    return 0
