"""Showing user text safely: never as markup, never with raw control characters.

Summaries, names and CSV fields may hold `[bold`, `[@click=app.quit]` or an escape sequence
(`\\x1b[2J`). `plain` returns a `rich.text.Text`, which Textual renders verbatim, and swaps
control characters for their visible Unicode pictures (ESC -> ␛) so a terminal never acts on
them. Use it for every value that came from a user or a file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from pob_tui.i18n import _
from pob_tui.textsafe import BIDI_CONTROLS

# C0 controls -> U+2400.., DEL -> ␡, C1 controls -> U+FFFD.
_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_PICTURES[0x7F] = "\u2421"
_PICTURES.update({code: "\ufffd" for code in range(0x80, 0xA0)})
# Bidi overrides could reorder what an agent reads ("Trojan source"): shown as <U+202E>.
_PICTURES.update({ord(c): f"<U+{ord(c):04X}>" for c in BIDI_CONTROLS})
_MULTILINE = dict(_PICTURES)
del _MULTILINE[0x0A]
_MULTILINE[0x09] = "    "


def clean(value: object, *, multiline: bool = False) -> str:
    """The value as a string with control characters made visible."""
    if value is None:
        return ""
    return str(value).translate(_MULTILINE if multiline else _PICTURES)


def plain(value: object, *, multiline: bool = False, justify: str | None = None) -> Text:
    """User text as a renderable that is shown literally (no markup, no escapes).

    Single-line values end in an ellipsis when cut, so a cropped cell reads as cropped.
    """
    text = clean(value, multiline=multiline)
    if multiline:
        return Text(text, end="", justify=justify)  # type: ignore[arg-type]
    return Text(text, end="", justify=justify, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]


def format_age(opened_at: datetime, now: datetime) -> str:
    """Compact age for lists: '45m', '5h', '3d'. Future times (clock skew) show '0m'."""
    seconds = max(0, int((now - opened_at) / timedelta(seconds=1)))
    minutes = seconds // 60
    if minutes < 60:
        return _("{n}m").format(n=minutes)
    hours = minutes // 60
    if hours < 24:
        return _("{n}h").format(n=hours)
    return _("{n}d").format(n=hours // 24)
