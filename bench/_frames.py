"""Key to frame, shared by the TUI benches: a key is handed to the app as a terminal would
send it, and the sample ends at the first frame rendered after the screen applied the
answer (`App._display` is the hook every frame goes through, headless or not).

Pilot's own `press`/`pause` wait for the process to look idle in 20 ms slices, which puts a
floor of tens of milliseconds under every sample: what a user feels is the frame, not that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from pob_tui.cli import prepare_textual

prepare_textual()  # as `pob` starts the TUI: before Textual is imported

from pob_tui import PobApp  # noqa: E402


class FrameApp(PobApp):
    """PobApp that reports every frame and every loaded-data handler that ran."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("freeze_heap", True)  # as `pob` runs it
        super().__init__(*args, **kwargs)
        self.applied: list[tuple[str, Any, Any]] = []
        self.waiter: tuple[Callable[[], bool], asyncio.Future[float]] | None = None

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is not None and self.waiter is not None:
            predicate, future = self.waiter
            if not future.done() and predicate():
                future.set_result(time.perf_counter())


def instrument(handler_names: Iterable[str]) -> None:
    """Note each run of these screen handlers in `app.applied` (patches Screen once)."""
    from textual.screen import Screen

    names = set(handler_names) | getattr(Screen._on_message, "_bench_names", set())
    original = getattr(Screen._on_message, "_bench_original", Screen._on_message)

    async def on_message(self: Any, message: Any) -> None:
        await original(self, message)
        if message.handler_name in names and isinstance(self.app, FrameApp):
            self.app.applied.append((message.handler_name, self, message))

    on_message._bench_names = names  # type: ignore[attr-defined]
    on_message._bench_original = original  # type: ignore[attr-defined]
    Screen._on_message = on_message  # type: ignore[method-assign]


async def idle(app: FrameApp, quiet: float = 0.03, limit: float = 30.0) -> None:
    """Until no worker runs and the message queue had `quiet` seconds to land messages."""
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        if not any(w.is_running for w in app.workers if w.group not in ("live", "sla")):
            await asyncio.sleep(quiet)
            if not any(w.is_running for w in app.workers
                       if w.group not in ("live", "sla")):
                return
        await asyncio.sleep(0.005)


async def key_to_frame(app: FrameApp, keys: list[str], done: Callable[[], bool],
                       limit: float = 20.0) -> float:
    """Send `keys` as a terminal would; ms until the first frame after `done()` holds
    (`limit` seconds when it never does)."""
    from textual import events
    from textual.keys import _character_to_key

    future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    app.waiter = (done, future)
    started = time.perf_counter()
    for key in keys:
        char = key if len(key) == 1 else None
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, char)
        event.set_sender(app)
        app._driver.send_message(event)  # type: ignore[union-attr]
    try:
        ended = await asyncio.wait_for(future, limit)
    except TimeoutError:
        ended = started + limit
    finally:
        app.waiter = None
    return (ended - started) * 1000
