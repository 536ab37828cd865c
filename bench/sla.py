"""Micro-benchmark for pob_tui.sla.BusinessCalendar.add / between.

Prints median and p95 microseconds per call, plus a ratio against a naive baseline measured
in the same run (``(start + duration).astimezone(tz)``), so figures are comparable across
machines. Goals: p95 <= 50 us per `add` and `between` (the queue's SLA column for a page of
100 rows then costs at most 5 ms) and the calendar built and warmed in <= 1 s; exits 1 when
one is missed (`--no-goal`: exit 0).

    python bench/sla.py                 # n = 100000
    python bench/sla.py --scale small   # n = 5000, CI smoke run
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pob_tui.sla import norwegian_office_calendar

TZ = ZoneInfo("Europe/Oslo")


def _stats(ns: list[int]) -> tuple[float, float]:
    ns = sorted(ns)
    median = statistics.median(ns) / 1000
    p95 = ns[min(len(ns) - 1, int(len(ns) * 0.95))] / 1000
    return median, p95


CALL_GOAL_US = 50.0
BUILD_GOAL_MS = 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="calls per operation")
    parser.add_argument(
        "--scale", choices=["full", "small"], default="full", help="small = n 5000 (CI smoke)"
    )
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--no-goal", action="store_true", help="always exit 0")
    args = parser.parse_args(argv)
    n = 5_000 if args.scale == "small" else args.n

    rng = random.Random(args.seed)
    lo = datetime(2025, 1, 1, tzinfo=TZ).timestamp()
    hi = datetime(2029, 1, 1, tzinfo=TZ).timestamp()
    starts = [datetime.fromtimestamp(rng.uniform(lo, hi), TZ) for _ in range(n)]
    durations = [timedelta(seconds=rng.randrange(0, 30 * 86_400)) for _ in range(n)]
    ends = [s + timedelta(seconds=rng.randrange(0, 120 * 86_400)) for s in starts]

    t0 = time.perf_counter()
    cal = norwegian_office_calendar(closing_days=[(12, 24), (12, 31)])
    cal.between(starts[0].replace(year=2024), starts[0].replace(year=2030))  # warm caches
    build_ms = (time.perf_counter() - t0) * 1000

    clock = time.perf_counter_ns
    t_add, t_between, t_base = [], [], []
    for s, d, e in zip(starts, durations, ends, strict=True):
        a = clock()
        cal.add(s, d)
        b = clock()
        cal.between(s, e)
        c = clock()
        (s + d).astimezone(TZ)
        z = clock()
        t_add.append(b - a)
        t_between.append(c - b)
        t_base.append(z - c)

    base_med = _stats(t_base)[0]
    print(f"n={n}  calendar build+warm-up {build_ms:.1f} ms  (python {sys.version.split()[0]})")
    print(f"{'operation':<10} {'median us':>10} {'p95 us':>10} {'x baseline':>11}")
    missed = []
    if build_ms > BUILD_GOAL_MS:
        missed.append(f"calendar build {build_ms:.0f} ms > {BUILD_GOAL_MS:.0f}")
    for name, ns in (("add", t_add), ("between", t_between), ("baseline", t_base)):
        med, p95 = _stats(ns)
        print(f"{name:<10} {med:>10.2f} {p95:>10.2f} {med / base_med:>11.1f}")
        if name != "baseline" and p95 > CALL_GOAL_US:
            missed.append(f"{name} p95 {p95:.1f} us > {CALL_GOAL_US:.0f}")
    if missed:
        print("goal missed: " + "; ".join(missed))
        return 0 if args.no_goal else 1
    print(f"goals met (p95 <= {CALL_GOAL_US:.0f} us per call, build <= {BUILD_GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
