"""`pob serve`: the SSH front door (see pob_tui/serve/)."""

from __future__ import annotations

import argparse

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("serve", parents=[common],
                            help=_("run the SSH front door (agents connect with ssh)"))
    parser.add_argument("--listen", metavar="HOST:PORT",
                        help=_("address to listen on (default: serve.listen, 127.0.0.1:2222)"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    import asyncio
    import sys

    from pob_tui.errors import InvalidInput
    from pob_tui.serve import server

    if ctx.remote:
        raise InvalidInput(_("pob serve cannot run inside a pob serve session"))
    listen = args.listen or ctx.settings.serve_listen
    database = ctx.database()
    server.check_service_credentials(database)

    def ready(srv: server.PobServer, key: object) -> None:
        fingerprint = key.get_fingerprint("sha256")  # type: ignore[attr-defined]
        ctx.stdout.write(_("pob serve listening on {host}:{port}").format(
            host=srv.host, port=srv.port) + "\n")
        ctx.stdout.write(_("host key {fingerprint} ({path})").format(
            fingerprint=fingerprint, path=server.host_key_path(ctx.settings)) + "\n")
        ctx.stdout.flush()

    asyncio.run(server.serve(ctx.settings, database, listen=listen, ready=ready))
    print(_("pob serve stopped."), file=sys.stderr)
    return 0
