"""An Input that stops at its limit and says so.

Textual's `max_length` silently refuses a paste that would go over it (and rings the bell
per key): a 60,000-character paste into a filter was either lost without a word or, without
a limit, made every keystroke filter on huge text. Here the paste is cut to the room left and
a notice (at most one every few seconds) tells the user why.
"""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Input

from pob_tui.i18n import _
from pob_tui.textsafe import MAX_SEARCH_CHARS

NOTICE_EVERY = 3.0  # seconds between two "stops at N characters" notices


class LimitedInput(Input):
    """`Input` with `max_length` (default `MAX_SEARCH_CHARS`) that cuts and tells."""

    def __init__(self, *args: Any, max_length: int = MAX_SEARCH_CHARS, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)
        self._noticed = 0.0

    def replace(self, text: str, start: int, end: int) -> None:
        if self.max_length:
            value = self.value
            lo, hi = sorted((max(0, start), min(len(value), end)))
            room = self.max_length - (len(value) - (hi - lo))
            if len(text) > room:
                text = text[: max(room, 0)]
                self._say_limit()
                if not text:
                    return
        super().replace(text, start, end)

    def restricted(self) -> None:
        if self.max_length and len(self.value) >= self.max_length:
            self._say_limit()
        else:
            super().restricted()

    def _say_limit(self) -> None:
        now = time.monotonic()
        if now - self._noticed < NOTICE_EVERY:
            return
        self._noticed = now
        self.notify(_("This field stops at {n} characters; the rest was left out.").format(
            n=self.max_length), severity="warning", markup=False)
