"""`pob template add|list|remove`: quick-call templates for the call form (administrators
add and remove; anyone may list)."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _

COLUMNS = ("name", "service", "summary", "impact", "urgency", "code", "resolution")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("template", parents=[common], help=_("quick-call templates"))
    tsub = parser.add_subparsers(dest="template_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    add = tsub.add_parser("add", parents=[common],
                          help=_("add a template (or change the one with this name)"))
    add.add_argument("name")
    add.add_argument("--service", required=True, help=_("service code or name"))
    add.add_argument("--summary", required=True)
    add.add_argument("--impact", type=int, choices=(1, 2, 3))
    add.add_argument("--urgency", type=int, choices=(1, 2, 3))
    add.add_argument("--code", help=_("resolution code: the call is resolved at first line"))
    add.add_argument("--resolution", metavar="NOTE", help=_("resolution note"))
    ls = tsub.add_parser("list", parents=[common], help=_("list templates"))
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rm = tsub.add_parser("remove", parents=[common], help=_("remove a template"))
    rm.add_argument("name")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_json, print_rows
    from pob_tui.services import templates

    out = ctx.stdout
    with ctx.database().session() as session:
        cmd = args.template_command
        if cmd == "list":
            rows = templates.list_templates(session)
            if args.format == "json":
                print_json([r.public() for r in rows], out)
            else:
                print_rows([r.public() for r in rows], COLUMNS, args.format, out=out)
            return 0
        actor = ctx.actor(session)
        if cmd == "add":
            row = templates.add_template(session, actor, args.name, service=args.service,
                                         summary=args.summary, impact=args.impact,
                                         urgency=args.urgency, code=args.code,
                                         resolution=args.resolution)
            out.write(_("Template {name} saved.").format(name=row.name) + "\n")
        else:
            templates.remove_template(session, actor, args.name)
            out.write(_("Template {name} removed.").format(name=args.name) + "\n")
    return 0
