"""Time left on an SLA clock, as a short coloured cell: ok, at risk, breached, paused.

The colour is a Rich style on the Text (DataTable cells cannot take CSS classes); the styles
come from the theme's semantic colours via `sla_styles`, so light and dark themes both work.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.style import Style
from rich.text import Text

from pob_tui.sla.display import STATE_LABELS

_FALLBACK = {"ok": "", "at_risk": "yellow", "breached": "bold red", "paused": "dim",
             "met": "green", "missed": "red", "stopped": "dim"}


def format_left(left: timedelta | None, day: timedelta | None = None,
                width: int | None = None) -> str:
    """Business time left in working time ('45 min', '2 wd 3 h'): `sla.display.format_left`,
    the one formatter the CLI and reports use too."""
    from pob_tui.sla.display import format_left as working_time

    return working_time(left, day, width)


MIN_CONTRAST = 4.5
"""WCAG AA for normal text: what a state colour needs against the table's background."""


def _luminance(color: Any) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    from textual.color import Color

    a, b = _luminance(Color.parse(foreground)), _luminance(Color.parse(background))
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def readable(foreground: str, background: str) -> str:
    """`foreground`, darkened on a light background until it reads against `background`
    (the light theme's orange "at risk" on grey did not); unchanged on a dark one."""
    from textual.color import Color

    try:
        fg, bg = Color.parse(foreground), Color.parse(background)
    except Exception:  # a named or unknown colour: left to the terminal
        return foreground
    if _luminance(bg) <= 0.18:  # dark themes' state colours read as they are
        return foreground
    for _step in range(20):
        if contrast(fg.hex, bg.hex) >= MIN_CONTRAST:
            break
        fg = fg.darken(0.05)
    return fg.hex


def sla_styles(variables: dict[str, str] | None = None) -> dict[str, Style]:
    """Styles per state from theme variables ($warning, $error), else plain colours."""
    if not variables:
        return {k: Style.parse(v) if v else Style() for k, v in _FALLBACK.items()}
    background = variables.get("surface") or variables.get("background") or ""
    warning = readable(variables.get("warning", "yellow"), background)
    error = readable(variables.get("error", "red"), background)
    success = readable(variables.get("success", "green"), background)
    return {
        "ok": Style(), "at_risk": Style(color=warning), "breached": Style(color=error, bold=True),
        "paused": Style(dim=True), "met": Style(color=success), "missed": Style(color=error),
        "stopped": Style(dim=True),
    }


def sla_cell(left: timedelta | None, state: str | None,
             styles: dict[str, Style] | None = None, day: timedelta | None = None,
             width: int | None = None) -> Text:
    """The queue's SLA cell: time left coloured by state; 'paused' while waiting. With the
    column's `width`, a long time drops its hours rather than being cut."""
    styles = styles or sla_styles()
    if state is None:
        return Text("–", justify="right", style="dim")
    label = STATE_LABELS["paused"] if state == "paused" else format_left(left, day, width)
    return Text(label, justify="right", style=styles.get(state, Style()), no_wrap=True)
