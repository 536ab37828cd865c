"""CMDB list, filter keystrokes and impact lists on the demo, `municipality` against `small`.

Builds each demo once (cached under /tmp), then times, per scale:
  - the first CMDB page (101 rows by name, as the screen asks) and one page per filter
    keystroke (typing "pk-", "sw-", "elev", "san" letter by letter, and a serial prefix);
  - the impact lists of the most connected CI (most relations in + out): the analysis
    with its paths, and the first page of people, as the impact screen loads them.
Prints median and p95 milliseconds, the ratio municipality/small, and exits non-zero when
a goal is missed at the largest scale: page and keystroke <= 50 ms, impact <= 300 ms
(medians).

    python bench/cmdb.py                      # municipality and small
    python bench/cmdb.py --scales small       # CI smoke run
    python bench/cmdb.py --no-goal            # explore
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2026, 11, 27)
CACHE = Path("/tmp/pob-cmdb-bench")
PAGE_GOAL_MS = 50.0
IMPACT_GOAL_MS = 300.0
WORDS = ("pk-", "sw-", "elev", "san")


def demo_url(scale: str) -> str:
    from pob_tui.demo import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    from pob_tui.db import SCHEMA_HEAD

    path = CACHE / f"{scale}-seed1-{TODAY}-{SCHEMA_HEAD}.sqlite3"  # a new schema: rebuild
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        t = time.perf_counter()
        generate(f"sqlite:///{tmp}", scale=scale, seed=1, today=TODAY)
        tmp.rename(path)
        print(f"built the {scale} demo in {time.perf_counter() - t:.1f} s: {path}")
    return f"sqlite:///{path}"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm the caches, as a screen that is already open would have them
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def stats(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ms), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def run_scale(scale: str, repeat: int) -> dict[str, float]:
    from sqlalchemy import func, select, union_all

    from pob_tui.config import Settings
    from pob_tui.db import Database
    from pob_tui.models import CiRelation, ConfigItem
    from pob_tui.services.cmdb import list_cis
    from pob_tui.services.impact import impact_report

    db = Database.open(Settings(database_url=demo_url(scale)))
    with db.session() as s:
        total = s.execute(select(func.count()).select_from(ConfigItem)).scalar_one()
        ends = union_all(select(CiRelation.source_id.label("ci")),
                         select(CiRelation.target_id.label("ci"))).subquery()
        top_id, degree = s.execute(select(ends.c.ci, func.count()).group_by(ends.c.ci)
                                   .order_by(func.count().desc()).limit(1)).one()
        top = s.get(ConfigItem, top_id)
        assert top is not None
        serial = (top.serial or "SN0")[:5].lower()
        page = timed(lambda: list_cis(s, limit=101), repeat)
        keys: list[float] = []
        for word in (*WORDS, serial):
            for i in range(1, len(word) + 1):
                keys += timed(lambda w=word[:i]: list_cis(s, search=w, limit=101),
                              max(1, repeat // 4))
        report = impact_report(s, ci=top.name, on=TODAY)
        impact = timed(lambda: impact_report(s, ci=top.name, on=TODAY), max(3, repeat // 4))
    db.dispose()
    imp = report.impact
    p_med, p_95 = stats(page)
    k_med, k_95 = stats(keys)
    i_med, i_95 = stats(impact)
    print(f"[{scale}] {total} CIs; most connected: {top.name} ({degree} relations) reaches "
          f"{len(imp.cis)} CIs, {len(imp.services)} services, {len(imp.org_units)} org units, "
          f"{imp.people} people, {len(imp.locations)} locations")
    print(f"[{scale}] first page: median {p_med:.1f} ms, p95 {p_95:.1f} ms")
    print(f"[{scale}] filter keystroke ({len(keys)} timed): median {k_med:.1f} ms, "
          f"p95 {k_95:.1f} ms")
    print(f"[{scale}] impact lists: median {i_med:.1f} ms, p95 {i_95:.1f} ms")
    return {"page": p_med, "key": k_med, "impact": i_med}


def calibrate() -> float:
    """Milliseconds for a fixed pure-Python loop (about 30 ms on an idle laptop core): how
    busy this machine is, to read the figures by."""
    t = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i & 7
    return (time.perf_counter() - t) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", "--scale", default="municipality,small",
                        help="comma-separated; the first is held to the goals")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-goal", action="store_true")
    args = parser.parse_args(argv)
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    print(f"calibration loop: {calibrate():.0f} ms before")
    results = {scale: run_scale(scale, args.repeat) for scale in scales}
    print(f"calibration loop: {calibrate():.0f} ms after")
    big, small = scales[0], scales[-1]
    if big != small:
        for key in ("page", "key", "impact"):
            ratio = results[big][key] / max(results[small][key], 0.001)
            print(f"ratio {big}/{small} {key}: {ratio:.1f}x")
    r = results[big]
    missed = [f"{name} {r[key]:.1f} ms > {goal:.0f} ms" for key, name, goal in (
        ("page", "first page", PAGE_GOAL_MS), ("key", "filter keystroke", PAGE_GOAL_MS),
        ("impact", "impact", IMPACT_GOAL_MS)) if r[key] > goal]
    if missed and not args.no_goal:
        print("goal missed: " + "; ".join(missed))
        return 1
    print("goals met" if not missed else "goals missed (--no-goal): " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
