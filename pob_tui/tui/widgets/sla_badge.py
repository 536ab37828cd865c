"""Time left on an SLA clock, as a short coloured cell: ok, at risk, breached, paused.

The colour is a Rich style on the Text (DataTable cells cannot take CSS classes); the styles
come from the theme's semantic colours via `sla_styles`, so light and dark themes both work.
"""

from __future__ import annotations

from datetime import timedelta

from rich.style import Style
from rich.text import Text

from pob_tui.sla.display import STATE_LABELS

_FALLBACK = {"ok": "", "at_risk": "yellow", "breached": "bold red", "paused": "dim",
             "met": "green", "missed": "red", "stopped": "dim"}


def format_left(left: timedelta | None, day: timedelta | None = None) -> str:
    """Business time left in working time ('45 min', '2 wd 3 h'): `sla.display.format_left`,
    the one formatter the CLI and reports use too."""
    from pob_tui.sla.display import format_left as working_time

    return working_time(left, day)


def sla_styles(variables: dict[str, str] | None = None) -> dict[str, Style]:
    """Styles per state from theme variables ($warning, $error), else plain colours."""
    if not variables:
        return {k: Style.parse(v) if v else Style() for k, v in _FALLBACK.items()}
    warning = variables.get("warning", "yellow")
    error = variables.get("error", "red")
    success = variables.get("success", "green")
    return {
        "ok": Style(), "at_risk": Style(color=warning), "breached": Style(color=error, bold=True),
        "paused": Style(dim=True), "met": Style(color=success), "missed": Style(color=error),
        "stopped": Style(dim=True),
    }


def sla_cell(left: timedelta | None, state: str | None,
             styles: dict[str, Style] | None = None, day: timedelta | None = None) -> Text:
    """The queue's SLA cell: time left coloured by state; 'paused' while waiting."""
    styles = styles or sla_styles()
    if state is None:
        return Text("–", justify="right", style="dim")
    label = STATE_LABELS["paused"] if state == "paused" else format_left(left, day)
    return Text(label, justify="right", style=styles.get(state, Style()), no_wrap=True)
