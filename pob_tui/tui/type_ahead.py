"""Keys typed ahead of a change of focus go where the change put the focus.

Textual hands each key to the widget focused when the key arrives, then lets that widget
handle it in its own time. A terminal sends a burst in one packet (an agent typing `n kari`
over a slow SSH link, or faster than a loaded machine draws): every key goes to the queue's
list before `n` has opened the call form, and the letters come back up unhandled, to be
read against the call form's keys, where nothing takes them: the caller's name was lost.

`TypeAhead` notes where each key from the terminal was sent. A key that comes back up
unhandled after the focus moved (another widget, another screen) is held and sent again,
in order, once the screen has refreshed: it then goes to the widget the agent saw focused
when typing it. Keys that arrive while some are held wait behind them, so the order stays
the agent's. Textual has no hook for this; `PobApp.on_event` calls it for every key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from textual import events
from textual.screen import Screen

REMEMBERED = 256
"""Keys whose target is remembered at most: a key a binding took never comes back up, so
the map is bounded instead of emptied."""

RESENDS = 3
"""How often one key is held again (the new screen may take a refresh or two to focus
its first field); after that it is handled where it is, as Textual would."""


class TypeAhead:
    """Where each key was sent, and the keys held until the focus has settled."""

    def __init__(self, post: Callable[[events.Key], object],
                 after_refresh: Callable[[Callable[[], None]], object]) -> None:
        self._post = post
        self._after_refresh = after_refresh
        self._sent: OrderedDict[int, tuple[object, int]] = OrderedDict()
        self._held: list[tuple[events.Key, int]] = []
        self._resends: dict[int, int] = {}

    def hold(self, event: events.Key, focus: object) -> bool:
        """Whether `event` is held (the caller then drops it); `focus` is the widget (or
        screen) that would take a key now."""
        if not event.is_forwarded:  # from the terminal, not yet handed to a widget
            resent = self._resends.pop(id(event), 0)
            if self._held:  # older keys wait: keep the order
                self._held.append((event, resent))
                return True
            self._sent[id(event)] = (focus, resent)
            self._sent.move_to_end(id(event))
            while len(self._sent) > REMEMBERED:
                self._sent.popitem(last=False)
            return False
        sent = self._sent.pop(id(event), None)  # it came back up unhandled
        if sent is None:
            return False
        target, resent = sent
        if resent >= RESENDS:
            return False
        # Sent again to a screen that has fields but none focused yet (it is still
        # mounting): wait for the focus once more.
        mounting = resent > 0 and isinstance(focus, Screen) and bool(focus.focus_chain)
        if target is focus and not mounting:
            return False
        self._held.append((events.Key(event.key, event.character), resent + 1))
        if len(self._held) == 1:
            self._after_refresh(self._release)
        return True

    def _release(self) -> None:
        held, self._held = self._held, []
        for key, resent in held:
            self._resends[id(key)] = resent
            self._post(key)
