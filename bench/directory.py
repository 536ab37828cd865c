"""Benchmark of `pob directory sync`: a full sync of the municipality's 12,000 people from a
real slapd into an empty database, then a re-sync that changes nothing.

slapd is started from its own slapd.conf in a temporary directory (tests/ldapserver.py; Debian
packages slapd and ldap-utils), loaded offline with slapadd, and serves the sync account 1,000
entries a page like Active Directory. Baseline from the same run: reading every entry with
ldap3 alone (no mapping, no database), so the ratio compares across machines.
Goals: full sync <= 30 s, no-change re-sync <= 10 s, on SQLite and PostgreSQL.

    python bench/directory.py                 # 12,000 people, SQLite and PostgreSQL
    python bench/directory.py --scale small   # 600 people (the CI smoke run)
    python bench/directory.py --no-pg --no-goal
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pob_tui.config import Settings
from pob_tui.db import Database
from pob_tui.directory import run_sync
from pob_tui.directory.read import DirectoryConfig, ReadStats, read_entries
from tests.ldapserver import SUFFIX, SYNC_DN, SYNC_PW, Slapd, make_people, slapd_available

SCALES = {"small": 600, "municipality": 12_000}
GOAL_FULL, GOAL_AGAIN = 30.0, 10.0
PG_ADMIN = os.environ.get("POB_BENCH_PG_URL", os.environ.get(
    "POB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))


def settings_for(url: str, server: Slapd) -> Settings:
    return Settings(database_url=url, directory_url=server.url, directory_bind_dn=SYNC_DN,
                    directory_password=SYNC_PW, directory_base_dn=f"ou=Ansatte,{SUFFIX}",
                    directory_filter="(objectClass=user)", directory_page_size=1000)


def baseline(settings: Settings) -> float:
    t0 = time.perf_counter()
    stats = ReadStats()
    for _ in read_entries(DirectoryConfig.from_settings(settings), stats):
        pass
    return time.perf_counter() - t0


def measure(label: str, url: str, server: Slapd, read_s: float, goal: bool) -> bool:
    settings = settings_for(url, server)
    db = Database.open(settings, create=True)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        first = run_sync(settings, create_units=True, database=db, today=date(2026, 11, 2))
        full, full_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        again = run_sync(settings, create_units=True, database=db, today=date(2026, 11, 3))
        resync, resync_cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        db.dispose()
    changes = sum(again.counts.values())
    ok = full <= GOAL_FULL and resync <= GOAL_AGAIN and changes == 0
    print(f"{label:<10} {first.entries} entries in {first.pages} pages: full sync "
          f"{full:.2f} s (pob's own CPU {full_cpu:.2f} s; {first.counts['added']} added, goal "
          f"<= {GOAL_FULL:.0f} s), no-change re-sync {resync:.2f} s (CPU {resync_cpu:.2f} s; "
          f"{changes} changes, goal <= {GOAL_AGAIN:.0f} s); "
          f"ldap3 read alone {read_s:.2f} s, ratio full/read {full / read_s:.1f}x; "
          f"{'ok' if ok else 'OVER GOAL' if goal else 'over goal (not enforced)'}",
          flush=True)
    return ok or not goal


def pg_database() -> tuple[str, str] | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        name = f"pob_bench_dir_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:
        print(f"postgresql skipped: {str(exc).splitlines()[0]}")
        return None
    return name, make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def drop(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=tuple(SCALES), default="municipality")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-goal", action="store_true", help="report, never fail")
    args = parser.parse_args(argv)
    reason = slapd_available()
    if reason:
        print(f"directory bench skipped: {reason}")
        return 0 if args.no_goal or not os.environ.get("CI") else 1
    n = SCALES[args.scale]
    ok = True
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(f"load average {load:.1f} on {cores} cores"
          + (" (busy machine: wall times are inflated; CPU times are pob's own share)"
             if load > cores else ""), flush=True)
    with tempfile.TemporaryDirectory(prefix="pob-bench-ldap-") as tmp:
        server = Slapd(Path(tmp) / "slapd", page_limit=1000)
        t0 = time.perf_counter()
        server.load([("Ansatte", make_people(n, seed=2026))])
        server.start()
        print(f"slapd loaded with {n} people in {time.perf_counter() - t0:.1f} s", flush=True)
        try:
            read_s = baseline(settings_for("sqlite://", server))
            ok &= measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", server, read_s,
                          not args.no_goal)
            if not args.no_pg:
                made = pg_database()
                if made:
                    name, url = made
                    try:
                        ok &= measure("postgresql", url, server, read_s, not args.no_goal)
                    finally:
                        drop(name)
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
