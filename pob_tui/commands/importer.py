"""`pob import KIND FILE.csv`, `pob import KIND --template` and `pob export KIND`.

Import needs the administrator role; the whole file lands in one transaction or not at all.
Export writes the same columns as the template, so a file exported from one database can be
imported into another (the CSV round trip).
"""

from __future__ import annotations

import argparse
import sys
from typing import cast

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _

KIND_NAMES = ("people", "org-units", "locations", "teams", "services", "cis", "ci-relations",
              "costs", "subscriptions", "usage", "funding")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    imp = sub.add_parser("import", parents=[common],
                         help=_("import master data from CSV (checked first, all or nothing)"))
    imp.add_argument("kind", choices=KIND_NAMES, metavar="KIND",
                     help=", ".join(KIND_NAMES))
    imp.add_argument("file", nargs="?", metavar="FILE.csv", help=_("- reads standard input"))
    imp.add_argument("--template", action="store_true",
                     help=_("print an empty CSV with the columns and exit"))
    imp.add_argument("--format", choices=("text", "json"), default="text")
    imp.set_defaults(handler=run_import)
    exp = sub.add_parser("export", parents=[common],
                         help=_("export master data as CSV in the import layout"))
    exp.add_argument("kind", choices=KIND_NAMES, metavar="KIND", help=", ".join(KIND_NAMES))
    exp.add_argument("-o", "--output", metavar="FILE.csv", help=_("file (default: stdout)"))
    exp.set_defaults(handler=run_export)


def run_import(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.errors import InvalidInput
    from pob_tui.importers import csvio

    if args.template:
        sys.stdout.write(csvio.template(args.kind))
        return 0
    if not args.file:
        raise InvalidInput(_("give the CSV file to import, or --template"))
    if args.file == "-":  # standard input: how a CSV reaches pob over ssh
        limit = ctx.settings.import_max_file_mb * 1024 * 1024
        data = ctx.stdin.read(limit + 1)
        if len(data) > limit:
            raise InvalidInput(_("standard input: larger than {mb} MiB; raise [import] "
                                 "max_file_mb or split the file").format(
                mb=ctx.settings.import_max_file_mb))
    elif ctx.remote:
        raise InvalidInput(_("over ssh the CSV comes on standard input: give - as the file"))
    else:
        data = csvio.read_file(args.file, max_line_bytes=ctx.settings.import_max_line_bytes,
                               max_file_mb=ctx.settings.import_max_file_mb)
    from pob_tui.commands.output import print_json
    from pob_tui.services.audit import record_admin_event
    from pob_tui.services.permissions import require

    database = ctx.database()
    with database.session() as session:
        actor = ctx.actor(session)
        require(session, actor, "import", target=f"{args.kind} {args.file}")
        result = csvio.import_csv(session, args.kind, data, name=args.file)
        record_admin_event(session, actor=actor.username, action="import",
                           target=f"{args.kind} {args.file}",
                           detail=f"created {result.created}, updated {result.updated}, "
                                  f"unchanged {result.unchanged}")
    if result.created or result.updated:
        from pob_tui.db import gather_statistics

        # a table model's __tablename__ is a str (the stubs also allow a declared_attr)
        table_name = cast(str, csvio.KINDS[args.kind].model.__tablename__)
        gather_statistics(database.engine, [table_name])
    if args.format == "json":
        print_json(result.as_dict())
    else:
        print(_("{kind}: {rows} rows; {created} created, {updated} updated, {unchanged} "
                "unchanged.").format(**result.as_dict()))
        print(_("Read the file as {encoding}.").format(encoding=result.encoding))
    return 0


def run_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.errors import InvalidInput
    from pob_tui.files import open_export
    from pob_tui.importers import csvio
    from pob_tui.services.permissions import require

    database = ctx.database()
    with database.session() as session:
        if args.kind in ("costs", "funding"):
            require(session, ctx.actor(session), "costs.read", target=f"export {args.kind}")
        if args.output and ctx.remote:
            raise InvalidInput(_("over ssh -o is refused: the CSV comes on standard output"))
        if args.output:
            with open_export(args.output) as out:
                csvio.export_csv(session, args.kind, out)
        else:
            csvio.export_csv(session, args.kind, sys.stdout)
    return 0
