"""`pob mail ingest|fetch|watch|send|list`: e-mail intake from files or IMAP, and mail out.

Every message is handled in its own transaction as the system actor `pob`; the exit status is
0 when every message was handled, whatever became of it (new, reply, duplicate, ignored,
held), 2 when a file cannot be read, 3 when the mail server cannot be used.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pob_tui.i18n import _

if TYPE_CHECKING:
    from pob_tui.commands.common import CommandContext
    from pob_tui.services.mail import IngestResult

JSON_KEYS = ("file", "message_id", "from_email", "from_name", "subject", "action", "ticket",
             "reason")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("mail", parents=[common],
                            help=_("e-mail intake (IMAP, files) and mail out"))
    msub = parser.add_subparsers(dest="mail_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    ing = msub.add_parser("ingest", parents=[common],
                          help=_("take messages from .eml files ('-': standard input)"))
    ing.add_argument("files", nargs="+", metavar="FILE")
    ing.add_argument("--dry-run", action="store_true",
                     help=_("show what would happen; write nothing"))
    ing.add_argument("--format", choices=("text", "json"), default="text")
    fetch = msub.add_parser("fetch", parents=[common],
                            help=_("take new messages from the IMAP mailbox once"))
    fetch.add_argument("--format", choices=("text", "json"), default="text")
    msub.add_parser("watch", parents=[common],
                    help=_("keep taking messages (IMAP IDLE, polling fallback) and send mail"))
    msub.add_parser("send", parents=[common], help=_("send the mail that is due"))
    ls = msub.add_parser("list", parents=[common],
                         help=_("ignored or held messages, or incidents that need a caller"))
    ls.add_argument("--view", choices=("ignored", "held", "needs_caller"), default="ignored")
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    cmd = args.mail_command
    if cmd == "ingest":
        return _ingest(args, ctx)
    if cmd == "fetch":
        from pob_tui.channels.mail.imap import fetch_once

        results = fetch_once(ctx.settings, ctx.database())
        _print_results([(r.file, r.result) for r in results], args.format, ctx)
        _send(ctx)
        return 0
    if cmd == "watch":
        import threading

        from pob_tui.channels.mail.imap import run_watch

        stop = threading.Event()
        try:
            run_watch(ctx.settings, stop, database=ctx.database())
        except KeyboardInterrupt:
            stop.set()
        return 0
    if cmd == "send":
        from pob_tui.channels.mail.out import deliver

        report = deliver(ctx.settings, ctx.database())
        print(_("{sent} sent, {failed} failed, {suppressed} suppressed").format(
            sent=report.sent, failed=report.failed, suppressed=report.suppressed),
            file=ctx.stdout)
        return 0
    if cmd == "list":
        from dataclasses import asdict

        from pob_tui.commands.output import print_rows
        from pob_tui.services import mail as svc

        with ctx.database().session() as session:
            rows = [asdict(r) for r in svc.list_mail(session, view=args.view)]
        print_rows(rows, ("at", "address", "subject", "action", "reason", "ticket"),
                   args.format, tz=ctx.settings.tzinfo)
        return 0
    raise AssertionError(cmd)  # pragma: no cover


def _ingest(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.errors import InvalidInput
    from pob_tui.mail.config import mail_config
    from pob_tui.services.mail import ingest_bytes

    messages: list[tuple[str, bytes]] = []
    for name in args.files:
        if name == "-":
            messages.append(("-", ctx.stdin.read()))
            continue
        if ctx.remote:
            raise InvalidInput(_("{name}: only '-' (standard input) is accepted in a pob serve "
                                 "session").format(name=name))
        try:
            with open(name, "rb") as fh:
                messages.append((name, fh.read()))
        except OSError as exc:
            raise InvalidInput(_("{where}: cannot be read: {error}").format(
                where=name, error=exc.strerror or exc)) from None
    cfg = mail_config(ctx.settings)
    database = ctx.database()
    out = []
    for name, raw in messages:
        with database.session() as session:
            out.append((name, ingest_bytes(session, raw, cfg, dry_run=args.dry_run)))
    _print_results(out, args.format, ctx)
    if not args.dry_run:
        _send(ctx)
    return 0


def _send(ctx: CommandContext) -> None:
    """Mail out what the intake caused (acknowledgements), when SMTP is configured."""
    from pob_tui.channels.mail.out import deliver_if_configured

    deliver_if_configured(ctx.settings, ctx.database())


def _print_results(results: list[tuple[str, IngestResult]], fmt: str,
                   ctx: CommandContext) -> None:
    from pob_tui.commands.output import print_json, visible

    rows: list[dict[str, Any]] = [
        {"file": name, "message_id": r.message_id, "from_email": r.from_email,
         "from_name": r.from_name, "subject": r.subject, "action": r.action,
         "ticket": r.ticket, "reason": r.reason} for name, r in results]
    if fmt == "json":
        print_json(rows, ctx.stdout)
        ctx.stdout.write("\n")
        return
    for row in rows:
        parts = [visible(row["file"]), row["action"]]
        if row["ticket"]:
            parts.append(row["ticket"])
        line = " ".join(parts) + f"  {visible(row['from_email'] or '-')}: " \
            f"{visible(row['subject'])}"
        if row["reason"]:
            line += f" ({visible(row['reason'])})"
        print(line, file=ctx.stdout)
