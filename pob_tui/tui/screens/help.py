"""`?`: the keys that work right now, read from the active bindings (keymap applied).

Grouped by where a binding lives (the list, the screen, everywhere), so a rebound key shows
as rebound and a later screen's bindings show without anyone editing a help text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label

from pob_tui.i18n import _
from pob_tui.tui.widgets.text import plain


@dataclass
class HelpGroup:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (keys, description)
    ids: list[str] = field(default_factory=list)  # the binding id of each row, for [keymap]


def _node_title(node: DOMNode) -> str:
    if isinstance(node, App):
        return _("Everywhere")
    title = getattr(node, "help_title", None) or getattr(node, "HELP_TITLE", None)
    if title:
        return str(title)
    # never an internal widget name: say what the agent sees
    from textual.widgets import DataTable, Input, OptionList, TextArea

    if isinstance(node, DataTable | OptionList):
        return _("In the list")
    if isinstance(node, Input | TextArea):
        return _("In the field")
    return _("Here")


# Textual's generic screen keys (focus cycling, copy): true everywhere, noise in a key list.
_GENERIC_ACTIONS = {"app.focus_next", "app.focus_previous", "screen.copy_text"}


def binding_groups(screen: Screen[object]) -> list[HelpGroup]:
    """The active bindings of `screen`, grouped by the node that defines them."""
    app = screen.app
    by_node: dict[int, HelpGroup] = {}
    keys: dict[tuple[int, str], list[str]] = {}
    descriptions: dict[tuple[int, str], str] = {}
    ids: dict[tuple[int, str], str] = {}
    for _key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if binding.system or not binding.description or binding.action in _GENERIC_ACTIONS:
            continue
        node_id = id(active.node)
        if node_id not in by_node:
            by_node[node_id] = HelpGroup(_node_title(active.node))
        slot = (node_id, binding.action)
        keys.setdefault(slot, []).append(app.get_key_display(binding))
        descriptions.setdefault(slot, binding.description)
        ids.setdefault(slot, binding.id or "")
    for (node_id, _action), key_list in keys.items():
        by_node[node_id].rows.append((" ".join(key_list), descriptions[(node_id, _action)]))
        by_node[node_id].ids.append(ids[(node_id, _action)])
    return [group for group in by_node.values() if group.rows]


class HelpScreen(ModalScreen[None]):
    """The key list; escape, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", _("Close"), id="help.close"),
        Binding("j", "scroll('down')", _("Scroll down"), show=False, id="help.down"),
        Binding("k", "scroll('up')", _("Scroll up"), show=False, id="help.up"),
    ]

    def __init__(self, groups: list[HelpGroup]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        body = VerticalScroll(id="help-body")
        body.border_title = _("Keys")
        body.border_subtitle = _("esc closes")
        with body:
            for group in self.groups:
                yield Label(plain(group.title), classes="help-group")
                for (keys, description), binding_id in zip(
                        group.rows, group.ids or [""] * len(group.rows), strict=True):
                    text = plain(description)
                    if binding_id:  # what `[keymap]` in config.toml rebinds
                        text.append(f"  {binding_id}", style="dim")
                    yield Horizontal(
                        Label(plain(keys), classes="help-key"),
                        Label(text, classes="help-description"),
                        classes="help-row",
                    )

    def action_close(self) -> None:
        self.dismiss()

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()
