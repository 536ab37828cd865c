"""Helpers for issue 13's TUI tests."""

from __future__ import annotations

from typing import Any


def recorded(app: Any) -> list[str]:
    """Every notification the app shows from now on. Textual drops a notification after its
    timeout, which a loaded test machine can outrun; this list keeps them all."""
    seen: list[str] = []
    original = app.notify

    def notify(message: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(str(message))
        original(message, *args, **kwargs)

    app.notify = notify
    return seen
