"""What a user sees when the database is not ready: it cannot be opened, or it is empty."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pob_tui.i18n import _
from pob_tui.tui.widgets.footer import PobFooter
from pob_tui.tui.widgets.text import plain

if TYPE_CHECKING:
    from pob_tui.tui.app import PobApp


class DatabaseErrorScreen(ModalScreen[None]):
    """Full screen: the one-line reason and how to fix it. q quits, r tries again."""

    BINDINGS = [
        Binding("q", "app.quit", _("Quit"), id="error.quit"),
        Binding("r", "retry", _("Try again"), id="error.retry"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog"):
            yield Label(_("pob cannot open its database"), id="error-title", markup=False)
            yield Static(plain(self.message), id="error-message")
            yield Static(
                _(
                    "How to fix: check database.url in config.toml or the POB_DATABASE_URL "
                    "environment variable. For PostgreSQL, check that the server runs and "
                    "that your login may connect. If the schema is old, run `pob db upgrade`."
                ),
                id="error-help",
                markup=False,
            )
        yield PobFooter()

    def action_retry(self) -> None:
        self.dismiss()
        cast("PobApp", self.app).open_database()


class WelcomeScreen(ModalScreen[None]):
    """First start on an empty database: offer the demo data."""

    BINDINGS = [
        Binding("d", "load_demo", _("Load demo data"), id="welcome.load_demo"),
        Binding("escape", "close", _("Start empty"), id="welcome.close"),
    ]

    loading = False

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome-dialog"):
            yield Label(_("Welcome to pob"), id="welcome-title", markup=False)
            yield Static(
                _(
                    "The database is empty. To try pob with a small, realistic municipality, "
                    "press d to load the demo data now, or run this in a shell:"
                ),
                classes="welcome-text",
                markup=False,
            )
            yield Label("pob demo --scale small", id="welcome-command", markup=False)
            yield Static(
                _("Press escape to start with an empty database."),
                classes="welcome-text",
                markup=False,
            )
            yield Label(id="welcome-progress", markup=False)
        yield PobFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("load_demo", "close") and self.loading:
            return None  # shown dimmed while the demo loads
        return True

    def action_load_demo(self) -> None:
        self.loading = True
        self.refresh_bindings()
        self.show_progress(_("Loading the demo data…"))
        cast("PobApp", self.app).load_demo()

    def show_progress(self, text: str) -> None:
        self.query_one("#welcome-progress", Label).update(plain(text))

    def action_close(self) -> None:
        self.dismiss()
