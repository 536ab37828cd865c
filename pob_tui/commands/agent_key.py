"""`pob agent key add|list|remove`: the SSH keys that let agents into `pob serve`.

Registered under `pob agent` (see commands/agent.py). Refused over SSH: keys are managed on
the server, by an administrator or the service account.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TextIO, cast

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(asub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    key = asub.add_parser("key", parents=[common], help=_("SSH keys for pob serve"))
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True,
                              parser_class=type(key))
    add = ksub.add_parser("add", parents=[common], help=_("give an agent an SSH public key"))
    add.add_argument("username", nargs="?", help=_("the agent (leave out with --integration)"))
    add.add_argument("file", metavar="FILE", help=_("the public key file (.pub); - reads stdin"))
    add.add_argument("--integration", metavar="NAME",
                     help=_("a key for an integration (may run only `call ringing`)"))
    ls = ksub.add_parser("list", parents=[common], help=_("list keys in use"))
    ls.add_argument("username", nargs="?", help=_("only this agent's keys"))
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rm = ksub.add_parser("remove", parents=[common], help=_("take a key away"))
    rm.add_argument("fingerprint", help=_("SHA256:... as `pob agent key list` shows it"))
    key.set_defaults(handler=run)


def _read_key(path: str, ctx: CommandContext) -> str:
    from pob_tui.errors import InvalidInput

    if path == "-":
        return ctx.stdin.read(64 * 1024).decode("utf-8", errors="replace")
    if ctx.remote:
        raise InvalidInput(_("over ssh only - (standard input) may be given as a file"))
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(64 * 1024)
    except OSError as exc:
        raise InvalidInput(_("cannot read {path}: {error}").format(path=path, error=exc.strerror)
                           ) from None


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_rows
    from pob_tui.errors import InvalidInput
    from pob_tui.services import keys

    if args.key_command == "add":
        if (args.username is None) == (args.integration is None):
            raise InvalidInput(_("give either USERNAME or --integration NAME, and the key FILE"))
        text = _read_key(args.file, ctx)
    with ctx.database().session() as session:
        if args.key_command == "add":
            row = keys.add_key(session, ctx.actor(session), text, username=args.username,
                               integration=args.integration)
            ctx.stdout.write(_("Key {fingerprint} added for {owner}.").format(
                fingerprint=row.fingerprint,
                owner=row.username or f"integration:{row.integration}") + "\n")
        elif args.key_command == "list":
            rows = [dataclasses.asdict(r) for r in keys.list_keys(session, args.username)]
            print_rows(rows, ("username", "integration", "fingerprint", "key_type", "comment",
                              "added_at"), args.format, cast(TextIO, ctx.stdout),
                       tz=ctx.settings.tzinfo)
        else:
            row = keys.remove_key(session, ctx.actor(session), args.fingerprint)
            ctx.stdout.write(_("Key {fingerprint} removed.").format(
                fingerprint=row.fingerprint) + "\n")
    return 0
