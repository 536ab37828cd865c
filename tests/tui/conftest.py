"""Fixtures for the TUI tests: a small, fixed data set and a pinned clock.

`shell_url` fills a fresh database (both backends, from `db_url`) through the ORM so these
tests do not depend on the demo generator; tests using `demo_url` cover the real demo.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from rich.cells import cell_len

from pob_tui.db import Database, make_engine
from pob_tui.models import Agent, AgentRole, ConfigItem, Incident, Person, Service, Team

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
LABEL = "sqlite test.sqlite3"
MARKUP_SUMMARIES = ("[@click=app.quit]x[/]", "[/", "[bold", "[0]", "[a[0]]", "\x1b[2J")

STATUSES = ("new", "assigned", "in_progress", "waiting_caller", "waiting_supplier")
FIRST = ("Kari", "Ola", "Ingrid", "Lars", "Sigrid", "Magnus", "Nora", "Henrik", "Astrid", "Jonas")
LAST = ("Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Dahl")
SUMMARIES = (
    "Printer on floor 2 does not print",
    "Cannot log in to Visma after password change",
    "Teams calls drop every few minutes",
    "New employee needs access to Gerica",
    "Laptop will not start after update",
    "Shared drive K: is missing",
    "Outlook asks for password repeatedly",
    "Projector in meeting room Fjell flickers",
)


def clock() -> datetime:
    return NOW


def fill(database: Database, *, incidents: int = 40, with_markup: bool = True) -> None:
    """Teams, people, one first-line agent (username 'agent1'), services, CIs and open
    incidents."""
    with database.session() as s:
        desk = Team(code="SD", name="Service desk", kind="service_desk")
        net = Team(code="NET", name="Network and infrastructure")
        s.add_all([desk, net])
        s.flush()
        people = [
            Person(username=f"u{i:03d}", first_name=FIRST[i % len(FIRST)],
                   last_name=LAST[i % len(LAST)])
            for i in range(12)
        ]
        s.add_all(people)
        s.flush()
        agent = Agent(username="agent1", person_id=people[0].id, team_id=desk.id)
        s.add(agent)
        s.flush()
        s.add(AgentRole(agent_id=agent.id, role="first_line"))
        services = [
            Service(code="PRINT", name="Printing", support_team_id=desk.id),
            Service(code="VISMA", name="Visma HRM and payroll", support_team_id=net.id),
            Service(code="M365", name="Microsoft 365", support_team_id=desk.id),
        ]
        s.add_all(services)
        s.add_all(
            [ConfigItem(name=f"srv-{i:02d}", ci_class="server") for i in range(5)]
            + [ConfigItem(name=f"pc-{i:03d}", ci_class="client") for i in range(9)]
            + [ConfigItem(name="prn-01", ci_class="printer")]
        )
        s.flush()
        for i in range(incidents):
            summary = SUMMARIES[i % len(SUMMARIES)]
            if with_markup and i < len(MARKUP_SUMMARIES):
                summary = MARKUP_SUMMARIES[i]
            s.add(
                Incident(
                    number=f"INC-{i + 1:06d}",
                    caller_id=people[i % len(people)].id,
                    service_id=services[i % len(services)].id,
                    summary=summary,
                    description="Line one\nLine two [bold] \x1b[31m",
                    priority=1 + i % 5,
                    impact=1 + i % 3,
                    urgency=1 + (i // 3) % 3,
                    status=STATUSES[i % len(STATUSES)],
                    team_id=(desk if i % 2 else net).id,
                    opened_at=NOW - timedelta(minutes=7 * (incidents - i) ** 2),
                )
            )


@pytest.fixture
def shell_url(db_url: str) -> Iterator[str]:
    """A fresh database (sqlite and postgresql) holding `fill`'s data."""
    database = Database(make_engine(db_url))
    fill(database)
    database.dispose()
    yield db_url


def record_notifications(app):  # type: ignore[no-untyped-def]
    """Keep every notification the app shows in `app.notes` (the public `notify` is
    wrapped; Textual's own list is private)."""
    app.notes = []
    real = app.notify

    def notify(message, *args, **kwargs):  # type: ignore[no-untyped-def]
        app.notes.append(SimpleNamespace(message=str(message),
                                         severity=kwargs.get("severity", "information")))
        return real(message, *args, **kwargs)

    app.notify = notify
    return app


@pytest.fixture
def make_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., object]:
    """PobApp with a pinned clock, fixed label and default settings (no user config);
    exports go to a fresh folder (`export_dir=` names another), never the user's."""
    from pob_tui import PobApp
    from pob_tui.config import Settings
    from pob_tui.services.identity import Actor

    def make(url: str, **kwargs: object) -> PobApp:
        kwargs.setdefault("actor", Actor("agent1"))
        kwargs.setdefault("database_label", LABEL)
        kwargs.setdefault("clock", clock)
        export_dir = kwargs.pop("export_dir", None) or tmp_path_factory.mktemp("exports")
        settings = kwargs.pop("settings", None) or Settings(database_url=url,
                                                            export_dir=str(export_dir))
        return record_notifications(PobApp(url, settings=settings, **kwargs))  # type: ignore[arg-type]

    return make


QUIET = 0.02
"""How long nothing may run before `settle` returns: more than a frame at the 60 fps the tests
run at (pytest-textual-snapshot imports Textual before any conftest could ask for pob's 120),
so work that waits for the next refresh (`call_after_refresh`, a dismissed dialog's callback)
has started by then."""


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Let workers finish and their messages land (no sleeps).

    Rounds until no worker has run or waited to start for `QUIET` seconds: a worker's
    message may start another worker (database opened -> session and queue loads), and a
    callback may wait for the next frame, so one idle moment is not enough; a fixed number
    of rounds was idle time the whole suite paid for, and too few as pauses got shorter.
    """
    app = pilot.app
    await pilot.pause()
    quiet_since: float | None = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # A worker replaced by a newer one of its exclusive group ends cancelled: that is
        # the app working, not a failure (failures are checked by the tests themselves).
        await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)
        await pilot.pause()
        busy = any(w.is_running or w.state.name == "PENDING" for w in app.workers)
        now = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= QUIET:
            break


# One <text> element of Rich's SVG export: x in pixels of CHAR_WIDTH, the line in clip-path.
_SVG_TEXT = re.compile(r'<text [^>]*?x="([0-9.e+-]+)"[^>]*?clip-path="url\(#[^)]*-line-(\d+)\)">'
                       r"(.*?)</text>")
_CHAR_WIDTH = 20 * 0.61  # rich.console.Console.export_svg: char_height 20, aspect ratio 0.61


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows, as plain text (for asserting on rendered output): read back
    from the public SVG export (`App.export_screenshot`, as snapshots use), one line per
    terminal row, text at its column."""
    width, height = app.size
    rows: list[list[tuple[int, str]]] = [[] for _ in range(height)]
    for x, line, content in _SVG_TEXT.findall(app.export_screenshot(simplify=True)):
        if int(line) < height:
            text = html.unescape(content).replace("\xa0", " ")
            rows[int(line)].append((round(float(x) / _CHAR_WIDTH), text))
    lines = []
    for parts in rows:
        out, at = [], 0
        for column, text in sorted(parts):
            out.append(" " * max(0, column - at) + text)
            at = max(at, column) + cell_len(text)
        out.append(" " * max(0, width - at))
        lines.append("".join(out))
    return "\n".join(lines)


@pytest.fixture
def demo_app_url(backend: str, request: pytest.FixtureRequest) -> str:
    """`demo_url`, or a skip while pob_tui.demo has not landed yet."""
    pytest.importorskip("pob_tui.demo")
    return request.getfixturevalue("demo_url")


@pytest.fixture(autouse=True)
def quick_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot waits for "idle" twice after every key, in slices of 20 ms (Textual's
    granularity) with under 5 % of a slice's CPU as "idle": at least 40 ms of a machine
    doing nothing per key, most of a Pilot test's time. 1 ms slices decide "idle" on the
    same question (did the app do anything just now?); their threshold is 10 % because the
    event loop's own wake-up is a few percent of a millisecond (at 0.5 ms and 5 % nothing
    was ever idle and every key waited Pilot's full second)."""
    import textual._wait as wait

    monkeypatch.setattr(wait, "SLEEP_GRANULARITY", 0.001)
    monkeypatch.setattr(wait, "SLEEP_IDLE", 0.0001)


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs do not blink in tests: a snapshot taken on a loaded machine must not depend on
    whether the cursor was in its on or off half-second."""
    from textual.reactive import reactive
    from textual.widgets import Input

    steady: reactive[bool] = reactive(False, init=False)
    steady.__set_name__(Input, "cursor_blink")
    monkeypatch.setattr(Input, "cursor_blink", steady)


@pytest.fixture(autouse=True)
def private_state(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                  ) -> None:
    """The TUI remembers the theme in the user's state folder: tests use their own (a
    theme remembered on the machine must not change a snapshot, a test must not change
    the user's)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def quick_live(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """For tests that wait for another agent's change to reach a running pob: the SQLite
    poll every 0.1 s instead of every second, so each wait is for the change, not for the
    next tick of the clock. The same poller, the same path: only the pause between polls is
    shorter. PostgreSQL is left as it is (its notifications come at once, and the interval
    also sets the listener's wait)."""
    from pob_tui.tui import teamwork

    backend = getattr(request.node, "callspec", None)
    if backend is not None and backend.params.get("backend") == "postgresql":
        return
    monkeypatch.setattr(teamwork, "LIVE_INTERVAL", 0.1)
