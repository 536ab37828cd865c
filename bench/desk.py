"""Service-desk latency: the queue's first page, a filter keystroke and a caller-picker
keystroke, on a demo at the given scale and on the `small` demo in the same run.

Prints median and p95 in milliseconds and the scale/small ratio (cost must not grow with
history). Demo databases are cached under /tmp/pob-desk-bench (SQLite files; PostgreSQL
databases `pob_desk_bench_<scale>` on the server given with --pg) and reused.

    python bench/desk.py                       # history and small on SQLite
    python bench/desk.py --scale small         # CI smoke run: small twice, seconds
    python bench/desk.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/desk.py --db URL              # an already filled database for --scale

Goals: queue page and filter <= 100 ms, caller keystroke <= 30 ms, ratio <= 2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pob_tui.db import Database, make_engine

CACHE = Path(os.environ.get("POB_BENCH_CACHE", "/tmp/pob-desk-bench"))
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # noon in Oslo: the demo's "now"
SEED = 1
FILTERS = ("o", "ou", "out", "p", "pr", "pri", "t", "te", "tea", "k", "ka", "inc")
CALLERS = ("a", "an", "ann", "o", "ol", "ola", "h", "ha", "han", "b", "be", "ber")


def sqlite_demo(scale: str) -> str:
    """The cached demo file for `scale`, built on first use."""
    from pob_tui.demo import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{scale}-seed{SEED}.sqlite3"
    if not path.exists():
        building = path.with_suffix(".building")
        for leftover in CACHE.glob(building.name + "*"):
            leftover.unlink()
        print(f"building the {scale} demo in {path} ...", file=sys.stderr, flush=True)
        generate(f"sqlite:///{building}", scale=scale, seed=SEED, today=TODAY)
        building.rename(path)
    return f"sqlite:///{path}"


def pg_demo(base: str, scale: str) -> str:
    """A PostgreSQL database holding the demo for `scale`, built on first use."""
    from pob_tui.demo import generate

    name = f"pob_desk_bench_{scale}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        filled = conn.execute(text("SELECT to_regclass('incident') IS NOT NULL")).scalar() \
            and conn.execute(text("SELECT EXISTS (SELECT 1 FROM incident)")).scalar()
    engine.dispose()
    if not filled:
        print(f"building the {scale} demo in {name} ...", file=sys.stderr, flush=True)
        generate(url, scale=scale, seed=SEED, today=TODAY, replace=True)
    return url


def timed(fn: Callable[[int], object], runs: int) -> tuple[float, float]:
    """Median and p95 in ms of `runs` calls after a few warm-up calls."""
    for i in range(3):
        fn(i)
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * .95))]


def measure(url: str, runs: int) -> dict[str, tuple[float, float]]:
    from pob_tui.services import incidents, pickers, sla
    from pob_tui.services.identity import load_actor

    db = Database(make_engine(url))
    with db.session() as s:
        actor = load_actor(s, "nobody")

    def queue(_i: int) -> None:
        with db.session() as s:
            rows = incidents.list_incidents(s, actor=actor, view="open", limit=100, now=NOW)
            sla.time_left(s, rows, NOW)

    def queue_count(_i: int) -> None:
        from pob_tui.services import desk_views

        with db.session() as s:
            desk_views.queue_page(s, actor=actor, view="open", limit=100, now=NOW, count=True)

    def filter_key(i: int) -> None:
        with db.session() as s:
            rows = incidents.list_incidents(s, actor=actor, view="open",
                                            search=FILTERS[i % len(FILTERS)], limit=100,
                                            now=NOW)
            sla.time_left(s, rows, NOW)

    def caller_key(i: int) -> None:
        with db.session() as s:
            pickers.search_people(s, CALLERS[i % len(CALLERS)], limit=8)

    figures = {
        "queue first page": timed(queue, runs),
        "queue page + count (TUI)": timed(queue_count, runs),
        "filter keystroke": timed(filter_key, runs),
        "caller keystroke": timed(caller_key, runs),
    }
    with db.session() as s:
        counts = s.execute(text("SELECT count(*) FROM incident")).scalar()
    db.dispose()
    figures["_incidents"] = (float(counts or 0), 0.0)
    return figures


GOALS = {"queue first page": 100, "queue page + count (TUI)": 100, "filter keystroke": 100,
         "caller keystroke": 30}


def report(backend: str, scale: str, big: dict, small: dict) -> None:
    print(f"\n{backend}: {scale} ({int(big['_incidents'][0]):,} incidents) vs small "
          f"({int(small['_incidents'][0]):,})")
    print(f"{'measure':28} {'median':>8} {'p95':>8} {'small med':>10} {'ratio':>6} {'goal':>6}")
    for name, goal in GOALS.items():
        med, p95 = big[name]
        small_med = small[name][0]
        ratio = med / small_med if small_med else float("nan")
        flag = "" if med <= goal and (scale == "small" or ratio <= 2) else "  !"
        print(f"{name:28} {med:8.1f} {p95:8.1f} {small_med:10.1f} {ratio:6.2f} "
              f"{goal:6d}{flag}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "municipality", "history"),
                        default="history")
    parser.add_argument("--db", help="an already filled database for --scale (skips SQLite)")
    parser.add_argument("--pg", help="PostgreSQL server URL: also build and measure there")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)
    runs = 15 if args.scale == "small" else args.runs

    targets: list[tuple[str, str, str]] = []  # (backend, big url, small url)
    if args.db:
        backend = make_url(args.db).get_backend_name()
        small = sqlite_demo("small") if backend == "sqlite" else pg_demo(args.db, "small")
        targets.append((backend, args.db, small))
    else:
        targets.append(("sqlite", sqlite_demo(args.scale), sqlite_demo("small")))
    if args.pg:
        targets.append(("postgresql", pg_demo(args.pg, args.scale), pg_demo(args.pg, "small")))
    for backend, big_url, small_url in targets:
        small = measure(small_url, runs)
        big = small if big_url == small_url else measure(big_url, runs)
        report(backend, args.scale, big, small)


if __name__ == "__main__":
    main()
