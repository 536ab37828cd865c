"""Start-up: process start to the queue's rows on screen, against a bare Textual app that
does the same work (imports SQLModel, opens the same database, queries the same 100 open
incidents with caller and service, shows them in a DataTable), measured in the same run.

    python bench/startup.py [--scale small|municipality|history] [--db URL] [--runs N]
                            [--no-goal]

Each run is a fresh `python` process in headless mode that writes a byte to a pipe at the
first frame showing rows; runs alternate between pob and the baseline. Medians are printed
with the pob/baseline ratio. Goal (issue 17): ratio <= 1.3; exits 1 when missed
(`--no-goal`: exit 0).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 1.3

POB_CHILD = r"""
import os, sys
fd = int(sys.argv[1])
from pob_tui.tui.app import PobApp
from pob_tui.tui.widgets.paged_table import PagedTable

class Bench(PobApp):
    def _display(self, screen, renderable):
        super()._display(screen, renderable)
        if renderable is None or getattr(self, "_done", False):
            return
        for table in self.screen.query(PagedTable):
            if table.row_count:
                self._done = True
                os.write(fd, b"D")
                self.exit()
                return

Bench(database_url=sys.argv[2], live_updates=False).run(headless=True, size=(80, 24))
"""

BARE_CHILD = r"""
import os, sys
fd = int(sys.argv[1])
from textual import work
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        self.load()

    @work(thread=True)
    def load(self):
        from sqlalchemy import text
        from sqlmodel import Session, create_engine

        engine = create_engine(sys.argv[2])
        with Session(engine) as session:
            rows = session.execute(text(
                "SELECT i.number, i.priority, i.status, p.first_name || ' ' || p.last_name, "
                "s.name, i.summary, i.opened_at FROM incident i "
                "JOIN person p ON p.id = i.caller_id LEFT JOIN service s ON s.id = i.service_id "
                "WHERE i.status IN ('new', 'assigned', 'in_progress', 'waiting_caller', "
                "'waiting_supplier') ORDER BY i.opened_at DESC LIMIT 100")).all()
        self.call_from_thread(self.show, rows)

    def show(self, rows):
        table = self.query_one(DataTable)
        table.add_columns("Number", "P", "Status", "Caller", "Service", "Summary", "Opened")
        table.add_rows([tuple(str(v) for v in row) for row in rows])

    def _display(self, screen, renderable):
        super()._display(screen, renderable)
        if renderable is not None and self.query_one(DataTable).row_count \
                and not getattr(self, "_done", False):
            self._done = True
            os.write(fd, b"D")
            self.exit()

Bare().run(headless=True, size=(80, 24))
"""


def run_once(code: str, url: str) -> float:
    """Seconds from process start to the first frame with rows."""
    read, write = os.pipe()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(write), url], pass_fds=(write,),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    shown = None
    with os.fdopen(read, "rb") as pipe:
        while byte := pipe.read(1):
            if byte == b"D" and shown is None:
                shown = time.perf_counter() - t0
    _, err = proc.communicate(timeout=300)
    if proc.returncode != 0 or shown is None:
        raise SystemExit(f"child failed: {err.decode()[-2000:]}")
    return shown


def _demo(scale: str) -> str:
    path = Path(tempfile.gettempdir()) / "pob-desk-bench" / f"{scale}-seed1.sqlite3"
    if not path.exists():
        from pob_tui.demo import generate

        path.parent.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        print(f"building the {scale} demo in {path} ...", file=sys.stderr, flush=True)
        generate(f"sqlite:///{building}", scale=scale, seed=1)
        building.rename(path)
    return f"sqlite:///{path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "municipality", "history"),
                        default="history")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--db", help="use this database instead of the cached demo")
    parser.add_argument("--no-goal", action="store_true", help="always exit 0")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.scale == "small" else 9)
    url = args.db or _demo(args.scale)
    run_once(BARE_CHILD, url)  # warm the file cache and the schema check for both
    run_once(POB_CHILD, url)
    pob, bare = [], []
    for _ in range(runs):
        bare.append(run_once(BARE_CHILD, url))
        pob.append(run_once(POB_CHILD, url))
    b, p = statistics.median(bare), statistics.median(pob)
    ratio = p / b
    print(f"database: {url}, {runs} runs each, 80x24, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"bare Textual + SQLModel, rows shown: {b * 1000:7.0f} ms "
          f"(min {min(bare) * 1000:.0f})")
    print(f"pob, queue rows shown:               {p * 1000:7.0f} ms "
          f"(min {min(pob) * 1000:.0f})   ratio {ratio:.2f} (goal <= {GOAL})")
    if ratio > GOAL:
        print(f"goal missed: ratio {ratio:.2f} > {GOAL}")
        return 0 if args.no_goal else 1
    print("goal met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
