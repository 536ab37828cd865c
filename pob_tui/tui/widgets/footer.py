"""The footer, recomposed once per burst of binding changes, its keys made ready-styled.

Textual's `Footer` recomposes (every key widget made and styled again) after each
`bindings_updated_signal`; opening an incident sends a dozen of them (mounts, focus, the
loaded record's greyed keys), which cost about a third of the time to its first frame. This
one schedules a single recompose for all the signals that arrive before the next refresh; it
then shows the bindings as they are by that time, the same as the last of Textual's would,
and skips the recompose when what the keys would show has not changed (most signals at
start and on focus moves change nothing a footer shows).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.dom import NoScreen
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widgets import Footer


class PobFooter(Footer):
    """`Footer` with its recompose coalesced (see the module docstring)."""

    _recompose_pending = False
    _shown: object = None
    """What the keys showed when they were last made (see `_showing`)."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        try:
            showing = self._showing()
        except NoScreen:  # its screen went away before this refresh came
            return
        if showing != self._shown:
            await self.recompose()

    def _showing(self) -> object:
        """Everything `Footer.compose` draws from: the shown bindings, enabled or not, with
        their keys as displayed, descriptions, tooltips and groups."""
        if not self._bindings_ready:
            return None
        app = self.app
        return (self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE,
                tuple((binding.key, app.get_key_display(binding), binding.description,
                       binding.action, enabled, tooltip, binding.tooltip,
                       binding.group, binding.show)
                      for _node, binding, enabled, tooltip
                      in self.screen.active_bindings.values()))

    def compose(self) -> ComposeResult:
        self._shown = self._showing()
        # Each key is made with `compact` True (FooterKey's default) and then bound to the
        # footer's False: a watcher per key that restyles it, 2 ms each, about 100 ms per
        # footer drawn at start. Made with the footer's value already, the binding finds
        # nothing to change.
        # (The command palette's key is not bound and keeps its own compact look.)
        for widget in super().compose():
            compact = getattr(type(widget), "compact", None)  # the keys' reactive
            if isinstance(compact, Reactive) and not widget.has_class("-command-palette"):
                widget.set_reactive(compact, self.compact)
            yield widget
