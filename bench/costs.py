"""Benchmark of one year's cost allocation (pob_tui.reports.costs.allocate).

Builds the demo once and caches it as a SQLite file under /tmp (pinned seed and day, so the
cache stays valid); with --pg also copies it into a throwaway PostgreSQL database (created
with psql -h 127.0.0.1 -U postgres, dropped afterwards). Prints the median seconds of the
allocation and, as a baseline from the same run, a plain SUM over service_cost, so the ratio
compares across machines. Also times a revisit through the cache the TUI keeps
(`AllocationCache`: one read of the inputs version). Goals: the allocation <= 2 s at
municipality scale, a cached revisit <= 50 ms; exits 1 when one is missed (`--no-goal`:
exit 0).

    python bench/costs.py                       # municipality, SQLite
    python bench/costs.py --scale small --pg
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from pob_tui.db import Database, make_engine
from pob_tui.demo import generate
from pob_tui.models import ServiceCost
from pob_tui.reports.costs import AllocationCache, Period, allocate

TODAY = date(2026, 11, 27)
GOAL_S = 2.0
REVISIT_GOAL_MS = 50.0
YEAR = 2026


def cached_sqlite(scale: str) -> str:
    path = Path("/tmp/pob-bench") / f"costs-{scale}-seed1-{TODAY}.sqlite3"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")
        part.unlink(missing_ok=True)
        print(f"building the {scale} demo into {path} ...", flush=True)
        generate(f"sqlite:///{part}", scale=scale, seed=1, today=TODAY)
        part.rename(path)
    return f"sqlite:///{path}"


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-q", "-c",
                    sql], check=True, capture_output=True)


def measure(url: str, repeat: int) -> tuple[float, float, int]:
    """(median allocation seconds, median baseline seconds, services)."""
    db = Database(make_engine(url))
    runs, base, revisits = [], [], []
    services = 0
    try:
        for _ in range(repeat):
            with db.session() as s:
                t0 = time.perf_counter()
                alloc = allocate(s, Period.year(YEAR), hourly_rate=Decimal(950))
                runs.append(time.perf_counter() - t0)
                services = len(alloc.services)
                t0 = time.perf_counter()
                s.execute(select(func.sum(ServiceCost.amount))
                          .where(ServiceCost.year == YEAR)).scalar()
                base.append(time.perf_counter() - t0)
        cache = AllocationCache()
        with db.session() as s:
            allocate(s, Period.year(YEAR), hourly_rate=Decimal(950), cache=cache)
        for _ in range(repeat):
            with db.session() as s:
                t0 = time.perf_counter()
                allocate(s, Period.year(YEAR), hourly_rate=Decimal(950), cache=cache)
                revisits.append(time.perf_counter() - t0)
    finally:
        db.dispose()
    return (statistics.median(runs), statistics.median(base), services,
            statistics.median(revisits))


def report(label: str, url: str, repeat: int) -> list[str]:
    """Print one backend's figures; return the goals it missed."""
    secs, base, services, revisit = measure(url, repeat)
    ratio = secs / base if base else float("inf")
    verdict = "ok" if secs <= GOAL_S else "OVER GOAL"
    print(f"{label:<10} allocation {YEAR}: median {secs:.3f} s over {repeat} runs "
          f"({services} services); baseline SUM(service_cost) {base * 1000:.2f} ms; "
          f"ratio {ratio:.0f}x; goal <= {GOAL_S:.0f} s: {verdict}")
    print(f"{label:<10} cached revisit: median {revisit * 1000:.1f} ms "
          f"(goal <= {REVISIT_GOAL_MS:.0f} ms)")
    missed = []
    if secs > GOAL_S:
        missed.append(f"{label} allocation {secs:.2f} s > {GOAL_S:.0f} s")
    if revisit * 1000 > REVISIT_GOAL_MS:
        missed.append(f"{label} cached revisit {revisit * 1000:.0f} ms > {REVISIT_GOAL_MS:.0f}")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "municipality"), default="municipality")
    parser.add_argument("--pg", action="store_true", help="also on a throwaway PostgreSQL db")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-goal", action="store_true", help="always exit 0")
    args = parser.parse_args(argv)
    url = cached_sqlite(args.scale)
    missed = report("sqlite", url, args.repeat)
    if args.pg:
        name = f"pob_bench_costs_{uuid.uuid4().hex[:8]}"
        psql(f'CREATE DATABASE "{name}"')
        try:
            pg = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            generate(pg, scale=args.scale, seed=1, today=TODAY)
            missed += report("postgresql", pg, args.repeat)
        finally:
            psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if missed:
        print("goal missed: " + "; ".join(missed))
        return 0 if args.no_goal else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
