"""The app's part in team work: live changes, the SLA timer, notifications, reconnecting.

Kept out of `app.py` as a mixin so the shell stays readable. The change watcher is a
daemon thread, not a Textual worker: it runs for the whole session, and a worker that never
ends would make `workers.wait_for_complete()` (tests, shutdown) wait forever. It only
posts messages (`post_message` is thread-safe); all database work it triggers runs in the
screens' own workers. The SLA timer starts short workers every
`settings.sla_check_interval_minutes`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from textual import work

from pob_tui.i18n import _
from pob_tui.tui.messages import (
    ConnectionChanged,
    NotificationsArrived,
    RingTaken,
    TicketsChanged,
)

if TYPE_CHECKING:
    from pob_tui.tui.app import PobApp

LIVE_INTERVAL = 1.0
"""Seconds between SQLite polls (PostgreSQL notifications arrive at once)."""


class TeamworkMixin:
    """Mixed into PobApp: see the module docstring."""

    _live_thread: threading.Thread | None = None
    _live_watcher: Any = None
    _sla_timer: Any = None
    _label_before_reconnect: str | None = None

    # -- live changes -----------------------------------------------------------------------

    def start_live(self: PobApp) -> None:  # type: ignore[misc]
        """Start watching for committed changes (once per opened database)."""
        self.stop_live()
        if self.database is None or not getattr(self, "live_updates", True):
            return
        from pob_tui.services import live

        def state(value: str) -> None:
            self.post_message(ConnectionChanged(value))

        watcher = live.watcher(self.database.engine, interval=LIVE_INTERVAL, on_state=state)
        self._live_watcher = watcher

        def run() -> None:
            try:
                for batch in watcher.batches():
                    if not batch:
                        continue
                    by_kind: dict[str, list[int]] = defaultdict(list)
                    for change in batch:
                        by_kind[change.kind].append(change.id)
                    for kind, ids in by_kind.items():
                        self.post_message(TicketsChanged(kind, tuple(dict.fromkeys(ids))))
            except Exception as exc:  # never take the app down; say so once
                self.log.error(exc)
            finally:
                watcher.close()

        self._live_thread = threading.Thread(target=run, name="pob-live", daemon=True)
        self._live_thread.start()

    def stop_live(self) -> None:
        watcher, self._live_watcher = self._live_watcher, None
        if watcher is not None:
            watcher.stop()

    def on_tickets_changed(self: PobApp, message: TicketsChanged) -> None:  # type: ignore[misc]
        """Hand the change to every screen of every area, shown or not, so a queue in
        another area is current when the agent comes back to it. A phone ring is not a
        ticket: this agent's pob tries to take it (`services.ring.claim`)."""
        if message.kind == "ring":
            self.take_rings(message.ids)
            return
        stacks = getattr(self, "_screen_stacks", {}) or {"": self.screen_stack}
        seen: set[int] = set()
        for stack in stacks.values():
            for screen in stack:
                if id(screen) not in seen:
                    seen.add(id(screen))
                    screen.post_message(TicketsChanged(message.kind, message.ids))

    @work(thread=True, exclusive=False, exit_on_error=False, group="rings")
    def take_rings(self: PobApp, ids: tuple[int, ...]) -> None:  # type: ignore[misc]
        from pob_tui.services import ring

        actor = self.actor
        if self.database is None or actor is None or actor.agent_id is None:
            return
        for ring_id in ids:
            with self.database.session() as session:
                call = ring.claim(session, actor.agent_id, ring_id)
            if call is not None:
                self.post_message(RingTaken(call))

    def on_ring_taken(self: PobApp, message: RingTaken) -> None:  # type: ignore[misc]
        """Open the call form with the caller (a form already open stays underneath)."""
        from pob_tui.tui.screens.log_call import LogCallScreen

        self.push_screen(LogCallScreen(ring=message.call))

    # -- connection state -------------------------------------------------------------------

    def on_connection_changed(self: PobApp, message: ConnectionChanged) -> None:  # type: ignore[misc]
        if message.state == "reconnecting":
            if self._label_before_reconnect is None:
                self._label_before_reconnect = self.database_label
            self.database_label = _("reconnecting…")
        elif self._label_before_reconnect is not None:
            self.database_label = self._label_before_reconnect
            self._label_before_reconnect = None

    def connection_lost(self: PobApp) -> None:  # type: ignore[misc]
        """Callable from any thread: a save is retrying after a dropped connection."""
        self.post_message(ConnectionChanged("reconnecting"))

    def connection_back(self: PobApp) -> None:  # type: ignore[misc]
        self.post_message(ConnectionChanged("connected"))

    # -- SLA timer and notifications --------------------------------------------------------

    def start_sla_timer(self: PobApp) -> None:  # type: ignore[misc]
        """Every `sla_check_interval_minutes`: check breaches (the service acts only while
        the calendar is open) and show this agent's new notifications. The first check
        waits one interval; notifications are fetched at once."""
        minutes = max(1, int(self.settings.sla_check_interval_minutes or 5))
        if self._sla_timer is None:
            self._sla_timer = self.set_interval(minutes * 60, self.check_sla)
        self.fetch_notifications()

    @work(thread=True, exclusive=True, exit_on_error=False, group="sla-check")
    def check_sla(self: PobApp) -> None:  # type: ignore[misc]
        from pob_tui.services import sla

        if self.database is None:
            return
        with self.database.session() as session:
            sla.check_breaches(session, self.now())
        self._take_notifications()

    @work(thread=True, exclusive=True, exit_on_error=False, group="notifications")
    def fetch_notifications(self: PobApp) -> None:  # type: ignore[misc]
        self._take_notifications()

    def _take_notifications(self: PobApp) -> None:  # type: ignore[misc]
        from pob_tui.services import notifications

        actor = self.actor
        if self.database is None or actor is None or actor.agent_id is None:
            return
        with self.database.session() as session:
            notes = notifications.take_unread(session, actor.agent_id, now=self.now())
        if notes:
            self.post_message(NotificationsArrived(notes))

    def on_notifications_arrived(self: PobApp, message: NotificationsArrived) -> None:  # type: ignore[misc]
        for note in message.notes:
            self.notify(str(note["text"]), title=_("Notification"), severity="warning",
                        markup=False, timeout=15)
