"""Until `CommandContext` lands on main: wrap the old `settings` argument in its shape."""

from __future__ import annotations

import sys
from typing import Any


class _Context:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.stdout = sys.stdout
        self.remote = False
        self._db: Any = None
        self._actor: Any = None

    def database(self) -> Any:
        if self._db is None:
            from pob_tui.commands.common import open_database

            self._db = open_database(self.settings)
        return self._db

    def actor(self, session: Any) -> Any:
        if self._actor is None:
            from pob_tui.services.identity import current_actor

            self._actor = current_actor(session)
        return self._actor


def context(ctx: Any) -> Any:
    return ctx if hasattr(ctx, "database") else _Context(ctx)
