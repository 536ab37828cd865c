"""`pob db upgrade|current|status|grant`."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    db = sub.add_parser("db", parents=[common], help=_("database schema and status"))
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True,
                              parser_class=type(db))
    dbsub.add_parser("upgrade", parents=[common], help=_("bring the schema up to date"))
    dbsub.add_parser("current", parents=[common], help=_("print the schema revision"))
    status = dbsub.add_parser("status", parents=[common],
                              help=_("schema revision and row counts"))
    status.add_argument("--format", choices=("text", "json"), default="text")
    grant = dbsub.add_parser(
        "grant", parents=[common],
        help=_("PostgreSQL: create and grant the roles pob_service and pob_reader"))
    grant.add_argument("--service-login", metavar="LOGIN",
                       help=_("also make this login (created if missing) a member of "
                              "pob_service: the login pob serve uses"))
    db.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.settings
    from sqlmodel import Session

    from pob_tui.commands.output import print_json
    from pob_tui.db import (
        check_connection,
        current_revision,
        head_revision,
        make_engine,
        prepare_sqlite,
        refuse_newer,
        safe_url,
        sqlite_path,
        upgrade,
    )
    from pob_tui.errors import SchemaOutOfDate
    from pob_tui.services.dbinfo import entity_counts

    # Only `upgrade` creates a missing SQLite file (and says where); the others refuse it.
    created = prepare_sqlite(settings.database_url, create=args.db_command == "upgrade")
    if created:
        print(_("Created a new database at {path}.").format(
            path=sqlite_path(settings.database_url)))
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    check_connection(engine)
    if args.db_command == "grant":
        from pob_tui.services import grants

        with ctx.database().session() as session:
            report = grants.grant(session, service_login=args.service_login)
        print(_("Granted pob_service (read and write through pob) and pob_reader (read only)."))
        for role in report.created:
            print(_("  created role {role}").format(role=role))
        for member in report.members_moved:
            print(_("  {login}: pob_agent replaced by pob_reader").format(login=member))
        for role in report.dropped:
            print(_("  dropped role {role}").format(role=role))
        if report.service_login:
            print(_("  {login} is a member of pob_service").format(login=report.service_login))
        return 0
    if args.db_command == "upgrade":
        before = current_revision(engine)
        refuse_newer(engine, before)
        upgrade(engine)
        after = current_revision(engine)
        if before == after:
            print(_("Schema is up to date at {rev}.").format(rev=after))
        else:
            print(_("Upgraded schema from {old} to {new}.").format(old=before or "-", new=after))
        return 0
    if args.db_command == "current":
        print(current_revision(engine) or _("(empty database)"))
        return 0
    revision = current_revision(engine)
    refuse_newer(engine, revision)
    head = head_revision()
    counts: dict[str, int] = {}
    if revision == head:
        with Session(engine) as session:
            counts = entity_counts(session)
    elif revision is not None:
        raise SchemaOutOfDate(
            _("database is at schema {revision}, pob needs {head}; run `pob db upgrade`").format(
                revision=revision, head=head)
        )
    if args.format == "json":
        print_json({"revision": revision, "counts": counts})
        return 0
    print(_("Database: {url}").format(url=safe_url(engine.url)))
    print(_("Revision: {rev} (pob needs {head})").format(rev=revision or "-", head=head))
    width = max((len(k) for k in counts), default=0)
    for name, count in counts.items():
        print(f"  {name:<{width}}  {count:>9,}".replace(",", " "))
    return 0
