"""Benchmark of the demo generator: seconds per step, total, rows per second.

Generates into a fresh temporary SQLite file (or --db URL, which must be empty or is
replaced with --replace) and prints its figures. The baseline is raw sqlite3 executemany of
as many 10-column rows as the generator wrote, measured in the same run, so the ratio compares
across machines. Goal: the generator within 30x the baseline (realistic rows, with their
events and clocks, at no worse than a thirtieth of raw insert speed; about 30 s for
`municipality` here); exits 1 when missed (`--no-goal`: exit 0).

    python bench/demo.py                          # municipality on SQLite
    python bench/demo.py --scale small
    python bench/demo.py --scale history --db postgresql+psycopg://postgres@127.0.0.1/demo_bench
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pob_tui.demo import SCALES, generate


def baseline(rows: int) -> float:
    """Seconds for raw sqlite3 to executemany `rows` 10-column rows into a temp file."""
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(Path(tmp) / "base.sqlite3")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER, "
                    "d INTEGER, e TEXT, f TEXT, g INTEGER, h TEXT, i INTEGER)")
        started = time.perf_counter()
        batch = 10_000
        for lo in range(0, rows, batch):
            con.executemany(
                "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(n, "tekst", "2026-01-01 10:00:00", n % 7, n % 5, "incident", None, n,
                  "en kort kommentar", 1) for n in range(lo, min(rows, lo + batch))],
            )
        con.commit()
        elapsed = time.perf_counter() - started
        con.close()
    return elapsed


RATIO_GOAL = 30.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="municipality")
    parser.add_argument("--db", help="database URL (default: a fresh temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replace", action="store_true", help="wipe a non-empty --db first")
    parser.add_argument("--no-goal", action="store_true", help="always exit 0")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"
        last = [time.perf_counter()]

        def progress(step: str, done: int, total: int) -> None:
            if step == "incidents" and done and done % 12 == 0:
                print(f"  incidents: month {done}/{total} "
                      f"({time.perf_counter() - last[0]:.1f} s)", flush=True)

        summary = generate(url, scale=args.scale, seed=args.seed, replace=args.replace,
                           progress=progress, today=date.today())
        if not args.db:
            size = (Path(tmp) / "demo.sqlite3").stat().st_size
            print(f"database file: {size / 1e6:.0f} MB")

    rows = summary.total_rows
    print(f"scale {args.scale}, backend {url.split(':')[0]}")
    for step, secs in summary.steps.items():
        print(f"  {step:<18} {secs:8.2f} s")
    for table in ("person", "config_item", "usage_record", "incident", "ticket_event",
                  "change_request"):
        print(f"  rows {table:<18} {summary.counts.get(table, 0):>10,}")
    print(f"total {summary.elapsed:.2f} s, {rows:,} rows, {rows / summary.elapsed:,.0f} rows/s")
    base = baseline(rows)
    print(f"baseline raw sqlite3 executemany of {rows:,} 10-column rows: {base:.2f} s "
          f"({rows / base:,.0f} rows/s); ratio generator/baseline = {summary.elapsed / base:.1f}x")
    if summary.elapsed / base > RATIO_GOAL:
        print(f"goal missed: ratio {summary.elapsed / base:.1f}x > {RATIO_GOAL:.0f}x")
        return 0 if args.no_goal else 1
    print(f"goal met: ratio <= {RATIO_GOAL:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
