"""Issue 17, item 1, "Keystrokes answered, not debounced", checked by behaviour, not by
the clock: which queries run and with what wait (service functions wrapped to record their
calls), which results reach the screen when a query is held on a `threading.Event`, and
what is on screen meanwhile.

- a fast filter keystroke queries at once; only after a slow query does the next one wait
- a keystroke swaps the rows under the same columns (no new layout)
- a stale query (an earlier keystroke's) never reaches the table
- the view is counted once the user pauses, not per keystroke, and not when a page holds it
- back from an incident, the queue shows its rows at once and refreshes behind them
- an incident draws its fields first and the timeline when it arrives
- the call form's caller picker: searches at once unless the last one was slow, and a
  stale search never replaces the matches

Every held query is released in a `finally` and every wait has a timeout, so a broken
behaviour fails the test instead of hanging it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from pob_tui.db import Database, make_engine
from pob_tui.services import incidents as svc
from pob_tui.services.identity import Actor, load_actor
from tests.tui.conftest import NOW, screen_text, settle
from tests.tui.test_desk_flows import build_desk, make, type_text

pytestmark = pytest.mark.sqlite_only

HOLD = 10.0
"""Seconds a held query waits for its release at most (a failing test must not hang)."""


@pytest.fixture
def desk_url(db_url: str) -> str:
    build_desk(db_url)
    return db_url


async def until(pilot, predicate: Callable[[], bool], what: str,  # type: ignore[no-untyped-def]
                timeout: float = HOLD) -> None:
    """Let the app run until `predicate()` holds (a held worker keeps `settle` from
    returning, so this polls instead); fail with `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


def rows_of(table) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(key) for key, _cells in table._rows]


class Recorder:
    """Wraps a service function: records each call's keyword arguments (a picker's
    positional text as "search"), and holds the calls `hold_when` picks until `release`
    is set (or `HOLD` seconds pass)."""

    def __init__(self, real: Callable[..., Any],
                 after: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.real = real
        self.after = after
        self.calls: list[dict[str, Any]] = []
        self.hold_when: Callable[[dict[str, Any]], bool] = lambda _kw: False
        self.held: list[dict[str, Any]] = []
        self.release = threading.Event()
        self.returned: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = dict(kwargs)
        if len(args) > 1:  # after the session: a picker's search text
            call.setdefault("search", args[1])
        with self._lock:
            self.calls.append(call)
        if self.hold_when(call):
            with self._lock:
                self.held.append(call)
            self.release.wait(HOLD)
        result = self.real(*args, **kwargs)
        if self.after is not None:
            self.after(call)
        with self._lock:
            self.returned.append(call)
        return result

    def searches(self) -> list[str | None]:
        return [kw.get("search") for kw in self.calls]


class FakeClock:
    """`time.perf_counter` for the workers that time their query (queue.py reads it at call
    time; Textual imported its own at start): time passes only when a query says it took
    so long, so "fast" and "slow" do not depend on the machine's load."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.took = 0.001

    def __call__(self) -> float:
        return self.now

    def query_ran(self, _kwargs: dict[str, Any]) -> None:
        self.now += self.took


class Debounce:
    """Stands in for `pickers.debounce` in queue.py: records each requested wait and, until
    `release` is set, holds the worker until it is cancelled (what a long pause does when
    the user types on); returns what the real one would (False when cancelled)."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.release = threading.Event()

    def __call__(self, seconds: float) -> bool:
        from textual.worker import get_current_worker

        self.calls.append(seconds)
        worker = get_current_worker()
        end = time.monotonic() + HOLD
        while not self.release.is_set() and not worker.is_cancelled:
            if time.monotonic() > end:
                return False
            time.sleep(0.005)
        return not worker.is_cancelled


@pytest.fixture
def debounce(monkeypatch: pytest.MonkeyPatch) -> Any:
    from pob_tui.tui.screens import queue

    fake = Debounce()
    monkeypatch.setattr(queue, "debounce", fake)
    yield fake
    fake.release.set()


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    return clock


def record(monkeypatch: pytest.MonkeyPatch, name: str,
           after: Callable[[dict[str, Any]], None] | None = None,
           module: Any = None) -> Recorder:
    """Wrap the service function `name` (of `desk_views`, or `module`) in a `Recorder`."""
    if module is None:
        from pob_tui.services import desk_views as module

    recorder = Recorder(getattr(module, name), after)
    monkeypatch.setattr(module, name, recorder)
    return recorder


def record_waits(screen) -> list[float]:  # type: ignore[no-untyped-def]
    """The `wait` each first-page query of the queue is started with."""
    waits: list[float] = []
    real = screen.load_page

    def load_page(offset: int, generation: int, wait: float = 0.0) -> Any:
        if offset == 0:
            waits.append(wait)
        return real(offset, generation, wait)

    screen.load_page = load_page
    return waits


# -- 1. a fast keystroke queries at once; a slow query makes the next one wait ------------


async def test_a_fast_search_queries_at_once_and_only_a_slow_one_makes_the_next_wait(
        desk_url, make_app, monkeypatch, fake_clock, debounce) -> None:
    from pob_tui.tui.screens.queue import MAX_WAIT, SLOW_QUERY, QueueScreen

    debounce.release.set()  # a wait, when asked for, passes at once (it is only recorded)
    pages = record(monkeypatch, "queue_page", after=fake_clock.query_ran)
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        waits = record_waits(screen)
        await pilot.press("slash")
        await type_text(pilot, "o")  # the first page took 1 ms
        await settle(pilot)
        assert waits == [0.0] and debounce.calls == []
        assert pages.searches()[-1] == "o"
        fake_clock.took = SLOW_QUERY + 0.04  # the query for "ou" is slow ...
        await type_text(pilot, "u")
        await settle(pilot)
        assert waits == [0.0, 0.0] and debounce.calls == []
        fake_clock.took = 0.001  # ... so "out" waits as long as it took, then is fast
        await type_text(pilot, "t")
        await settle(pilot)
        assert waits[-1] == pytest.approx(min(MAX_WAIT, SLOW_QUERY + 0.04))
        assert waits[-1] > 0 and debounce.calls == [waits[-1]]
        assert pages.searches()[-1] == "out"
        await type_text(pilot, "l")  # "out" was fast again: no wait
        await settle(pilot)
        assert waits[-1] == 0.0 and len(debounce.calls) == 1
        assert pages.searches()[-1] == "outl"
        assert rows_of(screen.table) == ["INC-000001"]
        fake_clock.took = 5.0  # however slow, the wait stays bounded
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("backspace")
        await settle(pilot)
        assert waits[-1] == MAX_WAIT and pages.searches()[-1] == "ou"


async def test_a_keystroke_swaps_the_rows_under_the_same_columns(desk_url, make_app) -> None:
    """Filtering replaces the rows only: the columns (and their widths) stay as they were
    (DataTable.clear(columns=True) would make new ones and lay the table out again)."""
    from pob_tui.tui.screens.queue import QueueScreen

    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.table
        columns = dict(table.columns)
        await pilot.press("slash")
        for key in "kari":
            await type_text(pilot, key)
            await settle(pilot)
        assert table.row_count == 10
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await type_text(pilot, "outl")
        await settle(pilot)
        assert rows_of(table) == ["INC-000001"]
        assert dict(table.columns).keys() == columns.keys()
        assert all(table.columns[key] is column for key, column in columns.items())


# -- 2. a stale query never reaches the table ---------------------------------------------


async def test_a_stale_search_never_reaches_the_table(desk_url, make_app, monkeypatch
                                                      ) -> None:
    from pob_tui.tui.screens.queue import QueueScreen

    pages = record(monkeypatch, "queue_page")
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.table
        everything = rows_of(table)
        assert len(everything) == 12
        pages.hold_when = lambda kw: kw.get("search") == "o"
        try:
            await pilot.press("slash")
            await type_text(pilot, "o")
            await until(pilot, lambda: len(pages.held) == 1, "the query for 'o' to start")
            await type_text(pilot, "utl")  # "outl": one incident
            await until(pilot, lambda: rows_of(table) == ["INC-000001"],
                        "the rows for 'outl'")
        finally:
            pages.release.set()
        # the held query for "o" now runs and returns its (many) rows: they must not land
        await until(pilot, lambda: any(kw.get("search") == "o" for kw in pages.returned),
                    "the stale query to return")
        await settle(pilot)
        assert rows_of(table) == ["INC-000001"]
        text = screen_text(app)
        assert "INC-000001" in text
        assert not any(number in text for number in everything if number != "INC-000001")
        # "ou" and "out" may never run (a newer keystroke cancels a query not yet started)
        searches = pages.searches()
        assert searches[:2] == [None, "o"] and searches[-1] == "outl"
        assert set(searches[2:-1]) <= {"ou", "out"}


# -- 3. the view is counted once the user pauses, never per keystroke ---------------------


async def test_the_view_is_counted_after_typing_not_per_keystroke(
        desk_url, make_app, monkeypatch, debounce) -> None:
    from pob_tui.tui.screens import queue

    monkeypatch.setattr(queue, "PAGE_SIZE", 3)  # 12 open incidents: the view needs counting
    pages = record(monkeypatch, "queue_page")
    counts = record(monkeypatch, "count_view")
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: len(debounce.calls) + len(counts.calls) >= 1,
                    "the first page's count to wait")
        screen = app.screen
        assert isinstance(screen, queue.QueueScreen)
        assert counts.calls == []
        await pilot.press("slash")
        for n, key in enumerate("markup", start=2):  # "markup": 7 incidents, more than a page
            await type_text(pilot, key)
            await until(pilot, lambda n=n: len(debounce.calls) + len(counts.calls) >= n,  # type: ignore[misc]
                        f"the count after key {n - 1} to wait")
            assert counts.calls == [], "a keystroke counted the view"
        assert "3+ all open" in screen_text(app)  # not counted yet: a page and "more"
        debounce.release.set()  # the user paused
        await settle(pilot)
        assert [kw["search"] for kw in counts.calls] == ["markup"]
        assert not any(kw.get("count") for kw in pages.calls)  # pages never count
        assert "3/7 all open" in screen_text(app)


async def test_a_view_its_first_page_holds_is_never_counted(desk_url, make_app, monkeypatch
                                                             ) -> None:
    counts = record(monkeypatch, "count_view")
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "kari")
        await settle(pilot)
        assert "10 all open" in screen_text(app)
        assert counts.calls == []


# -- 4. back to the queue: its rows at once, the refresh behind them ----------------------


async def test_back_to_the_queue_shows_its_rows_then_refreshes(desk_url, make_app,
                                                                monkeypatch) -> None:
    from pob_tui.tui.screens.incident import IncidentScreen
    from pob_tui.tui.screens.queue import QueueScreen

    pages = record(monkeypatch, "queue_page")
    app = make_app(desk_url, actor=Actor("anne"), live_updates=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        numbers = rows_of(queue.table)
        assert len(numbers) == 12
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        db = Database(make_engine(desk_url))  # another desk logs a call meanwhile
        try:
            with db.session() as s:
                svc.create_incident(s, load_actor(s, "anne"), svc.NewIncident(
                    caller="kari.n", service="PRINT", summary="Ny skanner virker ikke",
                    impact=3, urgency=3), now=NOW)
        finally:
            db.dispose()
        before = len(pages.calls)
        pages.hold_when = lambda _kw: True
        try:
            await pilot.press("escape")
            await until(pilot, lambda: len(pages.held) == 1, "the queue's refresh to start")
            assert app.screen is queue and not queue.table.loading
            text = screen_text(app)
            assert all(number in text for number in numbers), "the queue came back empty"
            assert "INC-000013" not in text  # the refresh has not landed
            assert len(pages.calls) == before + 1
        finally:
            pages.release.set()
        await settle(pilot)
        text = screen_text(app)
        assert "INC-000013" in text and "Ny skanner virker ikke" in text
        assert all(number in text for number in numbers)


# -- 5. an incident: the fields first, the timeline as it arrives -------------------------


async def test_an_incident_shows_its_fields_before_its_timeline(desk_url, make_app,
                                                                 monkeypatch) -> None:
    from pob_tui.tui.screens.incident import IncidentScreen

    timeline = record(monkeypatch, "incident_timeline")
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "INC-000001")
        await settle(pilot)
        timeline.hold_when = lambda _kw: True
        try:
            await pilot.press("enter", "enter")
            await until(pilot, lambda: len(timeline.held) == 1, "the timeline's query")
            screen = app.screen
            assert isinstance(screen, IncidentScreen)
            await until(pilot, lambda: screen.data is not None, "the fields")
            await pilot.pause()
            text = screen_text(app)
            assert "Outlook henger ved oppstart" in text  # the title and the fields
            assert "Ringte fra mobil." in text  # the description
            assert "kari.n" in text
            assert "Sjekket [bold]tillegg[/bold]" not in text  # no timeline yet
            assert not screen.timeline_shown
        finally:
            timeline.release.set()
        await settle(pilot)
        assert screen.timeline_shown
        text = screen_text(app)
        assert "Sjekket [bold]tillegg[/bold]" in text
        assert "Outlook henger ved oppstart" in text
        assert len(timeline.calls) == 1


# -- the call form's pickers: the same contract as the queue filter -----------------------


@pytest.fixture
def picker_debounce(monkeypatch: pytest.MonkeyPatch) -> Any:
    from pob_tui.tui.widgets import pickers

    fake = Debounce()
    monkeypatch.setattr(pickers, "debounce", fake)
    yield fake
    fake.release.set()


async def test_a_fast_caller_search_runs_at_once_and_only_a_slow_one_makes_the_next_wait(
        desk_url, make_app, monkeypatch, fake_clock, picker_debounce) -> None:
    from pob_tui.services import pickers as service
    from pob_tui.tui.widgets.pickers import MAX_WAIT, SLOW_SEARCH, CallerPicker

    picker_debounce.release.set()  # a wait passes at once; it is only recorded
    people = record(monkeypatch, "search_people", after=fake_clock.query_ran,
                    module=service)
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        picker = app.screen.query_one(CallerPicker)
        await type_text(pilot, "k")
        await settle(pilot)
        assert people.searches() == ["k"] and picker_debounce.calls == []
        fake_clock.took = SLOW_SEARCH + 0.03  # "ka" is slow ...
        await type_text(pilot, "a")
        await settle(pilot)
        assert picker_debounce.calls == []
        fake_clock.took = 0.001
        await type_text(pilot, "r")  # ... so "kar" waits, and is fast
        await settle(pilot)
        assert picker_debounce.calls == [pytest.approx(min(MAX_WAIT, SLOW_SEARCH + 0.03))]
        await type_text(pilot, "i")  # after a fast one: at once
        await settle(pilot)
        assert len(picker_debounce.calls) == 1
        assert people.searches() == ["k", "ka", "kar", "kari"]
        assert [row["username"] for row in picker.rows] == ["kari.n"]


async def test_a_stale_caller_search_never_replaces_the_matches(desk_url, make_app,
                                                                monkeypatch) -> None:
    from pob_tui.services import pickers as service
    from pob_tui.tui.widgets.pickers import CallerPicker

    people = record(monkeypatch, "search_people", module=service)
    app = make(make_app, desk_url)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        picker = app.screen.query_one(CallerPicker)
        people.hold_when = lambda kw: kw.get("search") == "k"
        try:
            await type_text(pilot, "k")  # every e-mail address has a k: everyone
            await until(pilot, lambda: len(people.held) == 1, "the search for 'k'")
            await type_text(pilot, "ari")
            await until(pilot, lambda: [r["username"] for r in picker.rows] == ["kari.n"],
                        "the matches for 'kari'")
        finally:
            people.release.set()
        await until(pilot, lambda: any(kw.get("search") == "k" for kw in people.returned),
                    "the stale search to return")
        await settle(pilot)
        assert [row["username"] for row in picker.rows] == ["kari.n"]
        assert picker.results.option_count == 1
