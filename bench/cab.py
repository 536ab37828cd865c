"""CAB agenda with impact analysis for a meeting with 15 changes on the demo.

Builds the demo once (cached under /tmp), tops the next meeting up to 15 changes inside a
transaction that is rolled back (the cache stays pristine), then times `services.cab.agenda`
with impact analysis and conflicts, and the same agenda without them as a baseline in the
same run. Prints median and p95 milliseconds and the ratio. Goal: p95 <= 500 ms (the
coordinator's agenda opens within half a second); exits 1 when missed (`--no-goal`: exit 0).

    python bench/cab.py                   # municipality (about 30,000 CIs)
    python bench/cab.py --scale small     # CI smoke run
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2026, 11, 27)  # a Friday: the next meeting is Tuesday 1 December
CACHE = Path("/tmp/pob-cab-bench")
GOAL_MS = 500.0
ITEMS = 15


def demo_url(scale: str) -> str:
    from pob_tui.demo import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{scale}-seed1-{TODAY}.sqlite3"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        t = time.perf_counter()
        generate(f"sqlite:///{tmp}", scale=scale, seed=1, today=TODAY)
        tmp.rename(path)
        print(f"built the {scale} demo in {time.perf_counter() - t:.1f} s: {path}")
    return f"sqlite:///{path}"


def top_up(session, now: datetime) -> int:
    """Add normal changes to the next meeting until it holds ITEMS; returns how many."""
    from sqlalchemy import select

    from pob_tui.models import AgentRole, CabAgendaItem, ServiceCi
    from pob_tui.services import cab
    from pob_tui.services.changes import lifecycle
    from pob_tui.services.identity import load_actor

    ref = cab.next_meeting(session, now)
    have = 0
    if ref.id is not None:
        have = len(session.execute(select(CabAgendaItem.id).where(
            CabAgendaItem.meeting_id == ref.id)).all())
    need = max(0, ITEMS - have)
    if not need:
        return 0
    from pob_tui.models import Agent

    username = session.execute(
        select(Agent.username).join(AgentRole, AgentRole.agent_id == Agent.id)
        .where(AgentRole.role == "change_manager").order_by(Agent.id)).scalars().first()
    actor = load_actor(session, username)
    rng = random.Random(1)
    ci_ids = sorted(session.execute(select(ServiceCi.ci_id)).scalars())
    start = ref.starts_at + timedelta(days=1, hours=8)
    for i in range(need):
        cis = rng.sample(ci_ids, 2)
        s = start + timedelta(hours=rng.randint(0, 72))
        ch = lifecycle.create_change(session, actor, lifecycle.NewChange(
            title=f"Bench change {i + 1}", cis=cis, planned_start=s,
            planned_end=s + timedelta(hours=2), implementation_plan="plan",
            backout_plan="back", answers={"tested": rng.random() < 0.7}), now=now)
        lifecycle.submit_change(session, actor, ch.number, now=now)
    return need


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "municipality"), default="municipality")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--no-goal", action="store_true", help="always exit 0")
    args = parser.parse_args(argv)
    repeat = args.repeat or (5 if args.scale == "small" else 11)

    from pob_tui.db import Database, make_engine, upgrade
    from pob_tui.services import cab

    url = demo_url(args.scale)
    engine = make_engine(url)
    upgrade(engine)  # a cache from before a new migration
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 11, tzinfo=UTC)  # noon in Oslo
    with Database(engine).session() as session:
        added = top_up(session, now)
        ref = cab.next_meeting(session, now)
        full = lambda: cab.agenda(session, ref, now=now)  # noqa: E731
        bare = lambda: cab.agenda(session, ref, now=now, with_impact=False)  # noqa: E731
        data = full()
        n = len(data["items"])
        with_impact = timed(full, repeat)
        baseline = timed(bare, repeat)
        people = sum(i["impact"]["people"] for i in data["items"])
        cis = sum(i["impact"]["cis"] for i in data["items"])
        session.rollback()
    engine.dispose()
    med, base = statistics.median(with_impact), statistics.median(baseline)
    p95 = sorted(with_impact)[max(0, int(len(with_impact) * 0.95) - 1)]
    print(f"scale={args.scale} meeting={ref.starts_at:%Y-%m-%d %H:%M}Z items={n} "
          f"(added {added}) impacted CIs={cis} people={people}")
    print(f"agenda with impact analysis: median {med:.1f} ms, p95 {p95:.1f} ms "
          f"(goal <= {GOAL_MS:.0f} ms)")
    print(f"baseline without impact analysis: median {base:.1f} ms; ratio {med / base:.1f}x")
    if p95 > GOAL_MS:
        print(f"goal missed: agenda p95 {p95:.0f} ms > {GOAL_MS:.0f}")
        return 0 if args.no_goal else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
