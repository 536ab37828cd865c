"""PobApp: the shell. Areas as modes (digits 1-7), global keys, the command palette.

The first screen shows at once; the database opens afterwards in a thread worker (it may
run migrations or wait for a network), and every query runs in a worker too, so the event
loop never waits on the database. Workers hand results back as messages and their failures
are reported in one place (`report_worker_state`).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.reactive import reactive
from textual.worker import Worker, WorkerState, get_current_worker

from pob_tui.errors import PobError
from pob_tui.i18n import _
from pob_tui.tui.messages import (
    DatabaseFailed,
    DatabaseOpened,
    DemoLoaded,
    DemoProgressed,
    SessionLoaded,
    TicketLoaded,
)
from pob_tui.tui.screens.queue import QueueScreen
from pob_tui.tui.screens.startup import DatabaseErrorScreen, WelcomeScreen
from pob_tui.tui.teamwork import TeamworkMixin
from pob_tui.tui.type_ahead import TypeAhead
from pob_tui.tui.widgets.header import AREAS, AREAS_BY_MODE
from pob_tui.tui.widgets.text import plain

if TYPE_CHECKING:
    from sqlmodel import Session
    from textual.command import Provider
    from textual.screen import Screen

    from pob_tui.config import Settings
    from pob_tui.db import Database
    from pob_tui.reports.costs import AllocationCache
    from pob_tui.services.agents import AgentInfo
    from pob_tui.services.identity import Actor
    from pob_tui.services.tickets import TicketRef

THEMES = ("textual-dark", "textual-light")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _lazy_screen(module: str, name: str) -> Callable[[], Screen[Any]]:
    """A mode's screen, imported when the area is first shown: importing every area's
    screens up front took a quarter of the start-up (python -X importtime)."""

    def make() -> Screen[Any]:
        screen: Screen[Any] = getattr(
            importlib.import_module(f"pob_tui.tui.screens.{module}"), name)()
        _styled_now(screen)
        return screen

    make.__name__ = name
    return make


def _styled_now(screen: Screen[Any]) -> None:
    """Mark a screen made just now as styled by the current style sheet, which its widgets
    get when they mount. Textual starts a new screen's CSS counter at -1, so each area's first
    visit re-parsed every style sheet and restyled the whole app, twice (about a third of
    that visit); a theme change since the last refresh still refreshes as before."""
    app = screen.app
    current = getattr(app, "_css_current", None)
    if current is not None and current == getattr(app, "_css_update_count", None):
        screen._css_update_count = current


def _known_error_commands() -> type[Provider]:
    """The palette's known-error search, imported when the palette opens."""
    from pob_tui.tui.screens.problems import KnownErrorCommands

    return KnownErrorCommands


def _org_commands() -> type[Provider]:
    """The palette's search for units, people and agreements, imported when it opens."""
    from pob_tui.tui.screens.org import OrgCommands

    return OrgCommands


class PobCommands(Provider):
    """ctrl+p: every area, the current screen's actions, and tickets by number."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: PobApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, Callable[[], Any], str]] = [
            (
                _("Go to {area}").format(area=area.title),
                partial(app.action_switch_area, area.mode),
                area.help,
            )
            for area in AREAS
        ]
        commands.append((_("Show keys"), app.action_help, _("All keys on this screen")))
        commands.append((_("Follow-ups"), app.action_follow_ups,
                         _("Open follow-ups after low satisfaction scores")))
        commands.append((_("Log a call"), app.action_log_call, _("A new incident")))
        commands.append((_("Mail"), app.action_mail,
                         _("Needs caller, ignored and held mail")))
        commands.append((_("Declare an outage"), app.action_declare_outage,
                         _("A major incident on a CI, a service or the open incident")))
        commands.append((_("Resolve an outage"), app.action_resolve_outage,
                         _("The outage and its linked calls, with one note")))
        commands.append((_("Audit log"), app.action_audit_log,
                         _("Every ticket event and administrative action")))
        commands.append((_("Quick-call templates"), app.action_templates,
                         _("The call form's templates (administrators edit them)")))
        commands.append((_("Toggle light/dark theme"), app.action_toggle_theme, ""))
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if active.node is app or not binding.description or binding.system:
                continue
            if binding.id is None:  # Textual's generic widget keys (cursor up, page left)
                continue
            if binding.action in seen:
                continue
            seen.add(binding.action)
            key = app.get_key_display(binding)
            commands.append(
                (
                    binding.description,
                    partial(app.run_action_later, binding.action, active.node),
                    _("Key: {key}").format(key=key),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        app: PobApp = self.app  # type: ignore[assignment]
        number = None
        if app.database is not None:  # services are imported by then; no import stall here
            from pob_tui.services.numbers import normalize_ticket_number

            number = normalize_ticket_number(query)
            digits = query.strip().lstrip("#")
            if number is None and digits.isdigit() and len(digits) <= 9:
                # plain digits: 654 finds INC-000654 (and a problem or change with it)
                candidates = [normalize_ticket_number(f"{prefix}-{digits}")
                              for prefix in ("INC", "PRB", "CHG")]
            else:
                candidates = [number]
        else:
            candidates = []
        for number in candidates:
            if number is None:
                continue
            try:
                ticket = await asyncio.to_thread(app.find_ticket_blocking, number)
            except Exception as exc:  # reported like a worker failure, once
                app.report_error(exc)
                ticket = None
            if ticket is not None:
                yield Hit(
                    1.0,
                    plain(f"{ticket.number}  {ticket.summary}"),
                    partial(app.show_ticket, ticket),
                    text=ticket.number,
                    help=_("Open {number} ({status})").format(
                        number=ticket.number, status=ticket.status.replace("_", " ")
                    ),
                )
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class PobApp(TeamworkMixin, App[None]):
    """pob's terminal UI."""

    # Absolute, so subclasses defined elsewhere (embedding, benchmarks) find the styles.
    CSS_PATH = Path(__file__).resolve().parent / "pob.tcss"
    TITLE = "pob"
    MODES: ClassVar[dict[str, Any]] = {
        "queue": QueueScreen,
        "problems": _lazy_screen("problems", "ProblemsScreen"),
        "changes": _lazy_screen("changes", "ChangesScreen"),
        "cab": _lazy_screen("cab", "CabScreen"),
        "catalog": _lazy_screen("catalog", "CatalogScreen"),
        "cmdb": _lazy_screen("cmdb", "CmdbScreen"),
        "reports": _lazy_screen("reports", "ReportsScreen"),
        "org": _lazy_screen("org", "OrgScreen"),
    }
    DEFAULT_MODE = "queue"
    COMMANDS = App.COMMANDS | {PobCommands, _known_error_commands, _org_commands}
    HELP_TITLE = _("Everywhere")

    BINDINGS: ClassVar[list[Any]] = [
        Binding("q", "quit", _("Quit"), id="pob.quit"),
        Binding("question_mark", "help", _("Help"), id="pob.help"),
        Binding("escape", "back", _("Back"), show=False, id="pob.back"),
        Binding("ctrl+t", "toggle_theme", _("Theme"), id="pob.toggle_theme"),
        *(
            Binding(area.key, f"switch_area('{area.mode}')", area.title, show=False,
                    id=f"pob.area.{area.mode}")
            for area in AREAS
        ),
    ]

    data_version: reactive[int] = reactive(0)
    """Bumped when the data changed wholesale (database opened, demo loaded): screens reload."""
    agent_label: reactive[str] = reactive("")
    database_label: reactive[str] = reactive("")

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        database: Database | None = None,
        actor: Actor | None = None,
        serve_record: str | None = None,
        database_label: str | None = None,
        clock: Callable[[], datetime] | None = None,
        exit_on_database_error: bool = False,
        live_updates: bool = True,
        freeze_heap: bool = False,
    ) -> None:
        super().__init__()
        self.live_updates = live_updates
        """Watch for other sessions' changes (LISTEN on PostgreSQL, polling on SQLite)."""
        self.freeze_heap = freeze_heap
        """Whether `settle_heap` freezes: the process owner's choice (`pob` says yes)."""
        self.exit_on_database_error = exit_on_database_error
        self.failure: str | None = None
        """The one line to print after exit when the database could not be opened."""
        if settings is None:
            from pob_tui.config import load_settings

            settings = load_settings(database_url=database_url)
        elif database_url:
            from dataclasses import replace

            settings = replace(settings, database_url=database_url)
        self.settings = settings
        self.database: Database | None = None
        self.allocations: AllocationCache | None = None
        self._given_database = database
        self._label_override = database_label
        self._injected_actor = actor
        """Who acts, when a test or an in-process caller says so (a Python argument only)."""
        self._serve_record = serve_record
        self._actor_lock = threading.Lock()
        self.agent_username = actor.username if actor is not None else ""
        """Resolved once with the session (identity.resolve_actor); empty until then."""
        self.call_draft: dict[str, Any] | None = None
        """A call form left with data in it (escape, then "keep"): `n` offers it back."""
        self.agent: AgentInfo | None = None
        self.actor: Actor | None = None
        """The acting agent for services (roles, team); loaded with the session."""
        self.clock = clock or _utcnow
        self._warned_clashes: set[str] = set()
        self.set_reactive(PobApp.agent_label, self.agent_username)
        self.set_reactive(PobApp.database_label, database_label or _("opening database…"))
        self._type_ahead = TypeAhead(self.post_message, self.call_after_refresh)

    async def on_event(self, event: events.Event) -> None:
        """Keys typed ahead of a change of focus go to the new focus (tui/type_ahead.py)."""
        if isinstance(event, events.Key) and self.screen_stack and \
                self._type_ahead.hold(event, self.focused or self.screen):
            return
        await super().on_event(event)

    # -- start ------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(dict(self.settings.keymap))
        from pob_tui.config import load_ui_state

        # A `pob serve` session shares the server's state folder with every agent: it
        # neither reads nor writes the remembered theme.
        remembered = None if self.remote else load_ui_state().get("theme")
        theme = (remembered if remembered in self.available_themes
                 else self.settings.theme or THEMES[0])
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(
                _("Unknown theme {theme}; using textual-dark").format(theme=theme),
                severity="warning",
                markup=False,
            )
        if not self.remote:  # after the start's own theme-changed signal has gone out
            self.call_next(self.theme_changed_signal.subscribe, self, self._remember_theme)
        # Open the database once the first frame is on screen.
        self.call_after_refresh(self.open_database)

    @property
    def remote(self) -> bool:
        """True in a `pob serve` session: the app runs on the server, files it writes land
        there, not on the agent's machine."""
        return self._serve_record is not None

    def now(self) -> datetime:
        """'Now' for ages and due times; tests pin it through `clock`."""
        return self.clock()

    @work(thread=True, exclusive=True, exit_on_error=False, group="database")
    def open_database(self) -> None:
        """Connect and bring the schema up to date (migrations may run here)."""
        from pob_tui.services import live
        from pob_tui.services.dbinfo import database_label

        live.install()
        url = self.settings.database_url
        label = self._label_override or database_label(url)
        if self._given_database is not None:
            self.post_message(DatabaseOpened(self._given_database, label))
            return
        from pob_tui.db import Database, safe_url

        try:
            # the first run creates the database (private) and says where
            database = Database.open(self.settings, create=True)
        except PobError as exc:
            self.post_message(DatabaseFailed(str(exc)))
            return
        except Exception as exc:
            self.log.error(exc)
            self.post_message(
                DatabaseFailed(
                    _("cannot open database {url}: unexpected {error}").format(
                        url=safe_url(url), error=type(exc).__name__
                    )
                )
            )
            return
        self.post_message(DatabaseOpened(database, label))

    def refresh_css(self, animate: bool = True) -> None:
        """Textual's refresh, remembering which CSS version the style sheet now has (see
        `_styled_now`)."""
        super().refresh_css(animate)
        self._css_current = self._css_update_count

    def on_database_opened(self, message: DatabaseOpened) -> None:
        from pob_tui.reports.costs import AllocationCache

        self.database = message.database
        self.allocations = AllocationCache()  # per database: its versions are its own
        if message.database.created:
            from pob_tui.db import sqlite_path

            self.notify(_("Created a new database at {path}.").format(
                path=sqlite_path(message.database.engine.url)), markup=False)
        self.database_label = message.label
        self.load_session()
        self.data_version += 1
        self.start_live()

    def on_database_failed(self, message: DatabaseFailed) -> None:
        if self.exit_on_database_error:
            self.failure = message.message
            self.exit(return_code=message.exit_code)
            return
        self.database_label = _("no database")
        self.push_screen(DatabaseErrorScreen(message.message))

    @work(thread=True, exclusive=True, exit_on_error=False, group="session")
    def load_session(self) -> None:
        """Who the agent is, and whether this is a first start on an empty database."""
        from pob_tui.services import agents, dbinfo, grants, identity

        assert self.database is not None
        with self.database.session() as session:
            if not grants.can_write(session):
                login = identity.login_name(session)
                self.post_message(DatabaseFailed(_(
                    "the database login {login} may only read; agents work in pob through "
                    "its SSH front door: ssh -p 2222 <pob server> (see the README)"
                ).format(login=login), exit_code=5))
                return
            if self.actor is None:  # resolved once per app, however the app was started
                self.resolve_actor_once(session)
            elif not self.actor.system:  # a reload (roles may have changed): fresh roles
                self.actor = identity.load_actor(session, self.agent_username)
            agent = agents.agent_info(session, self.agent_username)
            empty = dbinfo.is_empty(session)
        self.post_message(SessionLoaded(agent, empty))

    def settle_heap(self) -> None:
        """Take what exists now (modules, styles, the app, an area's screen: objects that
        live as long as the app) out of the garbage collector's full passes.

        A full collection walks every tracked object; with pob's ~200,000 it stopped the
        app for 150-250 ms every few seconds of typing (bench/people.py's p95). `gc.freeze`
        is the standard library's answer: frozen objects are still freed by reference
        counting, only cycles among them are never collected, and called when the
        session is loaded and when an area is first shown, those are long-lived ones.
        `pob serve` runs each session in its own process, so nothing is frozen across
        sessions; only the process's owner turns it on (`freeze_heap`, given by `pob`'s
        entry point), since a process that runs many apps (the tests) would freeze the
        earlier ones' garbage."""
        if self.freeze_heap:
            gc.freeze()

    def on_session_loaded(self, message: SessionLoaded) -> None:
        if not self.screen_stack:  # the app is closing: its screens are gone already
            return
        agent = message.agent
        self.agent = agent
        if agent.known:
            label = f"{agent.name} ({agent.username})"
            if agent.team:
                label += f" · {agent.team}"
        else:
            label = _("unknown agent {username}").format(username=agent.username)
        self.agent_label = label
        self.screen.refresh_bindings()  # roles are known now: grey what they cannot do
        self.start_sla_timer()
        self.call_after_refresh(self.settle_heap)
        if message.empty and not isinstance(self.screen, WelcomeScreen):
            self.push_screen(WelcomeScreen())

    # -- demo data --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo")
    def load_demo(self) -> None:
        """Fill the database with the small demo (seed 1), then everything reloads."""
        import inspect

        demo = importlib.import_module("pob_tui.demo")  # via sys.modules: tests swap it

        self.call_from_thread(
            self.notify, _("Loading the demo data; this takes a moment…"), markup=False
        )
        kwargs: dict[str, Any] = {"scale": "small", "seed": 1}
        if "progress" in inspect.signature(demo.generate).parameters:

            def progress(step: object = "", done: object = 0, total: object = 0) -> None:
                # demo.Progress is (step, done, total)
                text = _("Loading the demo data: {step} ({done}/{total})").format(
                    step=step, done=done, total=total
                )
                self.post_message(DemoProgressed(text))

            kwargs["progress"] = progress
        kwargs["operator"] = self.agent_username or None  # whoever opened the app
        demo.generate(self.settings.database_url, **kwargs)
        self.post_message(DemoLoaded())

    def on_demo_progressed(self, message: DemoProgressed) -> None:
        if isinstance(self.screen, WelcomeScreen):
            self.screen.show_progress(message.text)

    def on_demo_loaded(self, _message: DemoLoaded) -> None:
        if isinstance(self.screen, WelcomeScreen):
            self.screen.dismiss()
        self.notify(_("Demo data loaded"), markup=False)
        self.load_session()
        self.data_version += 1

    # -- tickets ----------------------------------------------------------------------------

    def find_ticket_blocking(self, number: str) -> TicketRef | None:
        """Look a ticket up; blocks, so call it from a thread (worker or to_thread)."""
        from pob_tui.services.tickets import find_ticket

        assert self.database is not None
        with self.database.session() as session:
            return find_ticket(session, number)

    def open_ticket(self, number: str) -> None:
        """Show a ticket by number (looked up in a worker)."""
        if self.database is not None:
            self._load_ticket(number)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ticket")
    def _load_ticket(self, number: str) -> None:
        ticket = self.find_ticket_blocking(number)
        if not get_current_worker().is_cancelled:
            self.post_message(TicketLoaded(number, ticket))

    def on_ticket_loaded(self, message: TicketLoaded) -> None:
        if message.ticket is None:
            self.notify(
                _("No ticket {number}").format(number=message.number),
                severity="warning",
                markup=False,
            )
            return
        self.show_ticket(message.ticket)

    def show_ticket(self, ticket: TicketRef) -> None:
        if ticket.kind == "incident":
            from pob_tui.tui.screens.incident import IncidentScreen

            self.push_screen(IncidentScreen(ticket.number))
        elif ticket.kind == "problem":
            from pob_tui.tui.screens.problems import ProblemScreen

            self.push_screen(ProblemScreen(ticket.number))
        else:
            from pob_tui.tui.screens.changes import ChangeDetailScreen

            self.push_screen(ChangeDetailScreen(ticket.number))

    def actor_in(self, session: Session) -> Actor:
        """The acting agent; loads it in `session` when the session worker has not yet.
        Blocks: call from a worker."""
        return self.resolve_actor_once(session)

    def resolve_actor_once(self, session: Session) -> Actor:
        """Who acts, decided once for the life of the app (a serve record is one-use)."""
        with self._actor_lock:
            if self.actor is None:
                from pob_tui.services import identity

                self.actor = identity.resolve_actor(
                    session, injected=self._injected_actor, serve_record=self._serve_record)
                self.agent_username = self.actor.username
            return self.actor

    # -- actions ----------------------------------------------------------------------------

    def action_switch_area(self, mode: str) -> None:
        if mode in AREAS_BY_MODE:
            self.switch_mode(mode)

    def action_back(self) -> None:  # type: ignore[override]  # sync: screens call it too
        """escape: close the top screen, or from an area's root go back to the queue."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "queue":
            self.switch_mode("queue")

    def action_follow_ups(self) -> None:
        from pob_tui.tui.screens.follow_ups import FollowUpsScreen

        self.push_screen(FollowUpsScreen())

    def action_mail(self) -> None:
        from pob_tui.tui.screens.mail import MailScreen

        self.push_screen(MailScreen())
    def not_an_agent(self) -> bool:
        """True (and say how to become one) when the user is no registered agent."""
        if self.actor is None or self.actor.registered:
            return False
        name = self.actor.username
        if self.agent is not None and self.agent.no_administrator:
            # a fresh database: no one could add them, and pob accepts only an administrator
            self.notify(_("pob has no administrator yet, so you can add yourself as one: "
                          "pob agent add {name} --name \"First Last\" --role administrator"
                          ).format(name=name),
                        severity="warning", markup=False, timeout=15)
            return True
        self.notify(_("You are not an agent in pob yet. An administrator adds you with: "
                      "pob agent add {name} --name \"First Last\" --role first_line").format(
                          name=name), severity="warning", markup=False, timeout=15)
        return True

    def action_log_call(self) -> None:
        from pob_tui.tui.screens.log_call import LogCallScreen

        if self.not_an_agent():
            return
        self.push_screen(LogCallScreen())

    def action_declare_outage(self) -> None:
        """The outage dialog (palette); from an incident's screen it starts from that one."""
        from pob_tui.tui.screens.cmdb import outage_dialog
        from pob_tui.tui.screens.incident import IncidentScreen

        origin = self.screen.number if isinstance(self.screen, IncidentScreen) else None

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self._declare_outage({**values, "incident": origin})

        self.push_screen(outage_dialog(incident=origin), chosen)

    def action_resolve_outage(self) -> None:
        from pob_tui.tui.screens.cmdb import resolve_outage_dialog
        from pob_tui.tui.screens.incident import IncidentScreen

        origin = self.screen.number if isinstance(self.screen, IncidentScreen) else None

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self._declare_outage({**values, "resolve": True})

        self.push_screen(resolve_outage_dialog(origin), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="outage")
    def _declare_outage(self, values: dict[str, Any]) -> None:
        """Declare (or, with "resolve", resolve) an outage; one line back to the agent."""
        from pob_tui.tui.screens.cmdb import declare_outage_blocking, resolve_outage_blocking

        try:
            text = (resolve_outage_blocking(self, values) if values.get("resolve")
                    else declare_outage_blocking(self, values))
        except PobError as exc:
            self.call_from_thread(self.notify, str(exc), severity="warning", markup=False)
            return
        self.call_from_thread(self.notify, text, markup=False)
    def action_templates(self) -> None:
        from pob_tui.tui.screens.templates import TemplatesScreen

        self.push_screen(TemplatesScreen())

    def action_audit_log(self) -> None:
        from pob_tui.tui.screens.audit import AuditScreen

        self.push_screen(AuditScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey what the agent's roles do not allow (see `permission_state`)."""
        if action == "log_call":
            return self.permission_state("incident.work")
        if action == "audit_log":
            return self.permission_state("audit.read")
        if action in ("declare_outage", "resolve_outage"):
            return self.permission_state("outage.declare")
        return True

    def permission_state(self, permission: str) -> bool | None:
        """True when allowed (or not yet known: the services decide anyway), None (shown
        greyed) when the agent's roles do not allow it."""
        if self.actor is None:  # before the session loads; importing the rules now would
            return True  # load the ORM on the event loop before the first screen
        if not self.actor.registered:  # the key works and says how to become an agent
            return True
        from pob_tui.services.permissions import allowed

        return True if allowed(self.actor, permission) else None

    def on_unmount(self) -> None:
        self.stop_live()
        if self.database is not None and self._given_database is None:
            # closing the connections runs SQLite's `PRAGMA optimize` (db.make_engine)
            self.database.dispose()

    def action_help(self) -> None:
        from pob_tui.tui.screens.help import HelpScreen, binding_groups

        self.push_screen(HelpScreen(binding_groups(self.screen)))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.current_theme.dark else THEMES[0]

    def _remember_theme(self, theme: Any) -> None:
        """A theme chosen in the app (ctrl+t or the palette) is the next run's theme,
        kept in the user's state folder (`config.save_ui_state`), not in the config file."""
        from pob_tui.config import save_ui_state

        save_ui_state(theme=theme.name)

    def run_action_later(self, action: str, node: Any) -> None:
        """Run a binding's action in its own namespace (for palette commands)."""
        self.call_later(self.run_action, action, node)

    # -- errors -----------------------------------------------------------------------------

    def report_error(self, error: BaseException) -> None:
        """One line for the user: a PobError's message, else a short generic line."""
        if isinstance(error, PobError):
            text = str(error)
        else:
            self.log.error(error)
            text = _("Something went wrong ({error}); try again or restart pob").format(
                error=type(error).__name__
            )
        self.notify(text, severity="error", markup=False)

    def report_worker_state(self, event: Worker.StateChanged) -> None:
        """The one place worker failures end up (app and screen workers alike)."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        if event.worker.group == "demo" and isinstance(self.screen, WelcomeScreen):
            self.screen.loading = False
            self.screen.refresh_bindings()
            self.screen.show_progress("")
        self.report_error(event.worker.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_state(event)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: Any) -> None:
        """A [keymap] entry took a key that another binding uses: say so once."""
        for binding in clashed_bindings:
            name = binding.id or binding.action
            if name not in self._warned_clashes:
                self._warned_clashes.add(name)
                self.notify(
                    _("keymap: key {key} of {name} is also used by another binding").format(
                        key=binding.key, name=name
                    ),
                    severity="warning",
                    markup=False,
                )


__all__ = ["PobApp", "PobCommands"]
