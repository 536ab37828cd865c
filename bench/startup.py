"""Start-up time: process start to the first interactive screen of PobApp, against a bare
Textual app that imports the same libraries, both measured in the same run.

    python bench/startup.py [--scale small|municipality] [--runs N] [--db URL]

Each run is a fresh `python` process in headless mode that writes a byte to a pipe when the
app is ready for input ("ready"), and, for pob, another when the queue shows its first rows
("data"). Medians over the runs are printed with the pob/baseline ratio.
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

POB_CHILD = r"""
import os, sys
fd = int(sys.argv[1])
from pob_tui.tui.app import PobApp
from pob_tui.tui.widgets.paged_table import PagedTable
from pob_tui.services.identity import Actor

class Bench(PobApp):
    def on_ready(self) -> None:
        os.write(fd, b"R")
        self.set_interval(0.005, self._check)

    def _check(self) -> None:
        for table in self.screen.query(PagedTable):
            if table.row_count:
                os.write(fd, b"D")
                self.exit()
                return

Bench(database_url=sys.argv[2], actor=Actor("bench")).run(headless=True)
"""

BARE_CHILD = r"""
import os, sys
fd = int(sys.argv[1])
import sqlalchemy, sqlmodel, platformdirs, rich  # the libraries pob loads at start
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_ready(self) -> None:
        os.write(fd, b"R")
        self.exit()

Bare().run(headless=True)
"""


def run_once(code: str, *args: str) -> dict[str, float]:
    read, write = os.pipe()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(write), *args], pass_fds=(write,),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    marks: dict[str, float] = {}
    with os.fdopen(read, "rb") as pipe:
        while True:
            byte = pipe.read(1)
            if not byte:
                break
            marks["ready" if byte == b"R" else "data"] = time.perf_counter() - t0
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or "ready" not in marks:
        raise SystemExit(f"child failed: {err.decode()[-2000:]}")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "municipality"), default="municipality")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--db", help="use this database instead of building the demo")
    args = parser.parse_args()
    runs = args.runs or (3 if args.scale == "small" else 9)
    url = args.db
    if url is None:
        path = Path(tempfile.gettempdir()) / f"pob-bench-startup-{args.scale}.sqlite3"
        url = f"sqlite:///{path}"
        if not path.exists():
            from pob_tui.demo import generate

            print(f"building the {args.scale} demo in {path} ...", flush=True)
            generate(url, scale=args.scale, seed=1)
    run_once(BARE_CHILD)  # warm the file cache for both
    run_once(POB_CHILD, url)
    pob_ready, pob_data, bare_ready = [], [], []
    for _ in range(runs):
        bare_ready.append(run_once(BARE_CHILD)["ready"])
        marks = run_once(POB_CHILD, url)
        pob_ready.append(marks["ready"])
        pob_data.append(marks.get("data", float("nan")))
    bare = statistics.median(bare_ready)
    ready = statistics.median(pob_ready)
    data = statistics.median(pob_data)
    print(f"database: {url} ({args.scale}), {runs} runs each")
    print(f"bare Textual app, ready:       {bare * 1000:7.0f} ms")
    print(f"pob, first interactive screen: {ready * 1000:7.0f} ms   ratio {ready / bare:.2f}")
    print(f"pob, queue rows shown:         {data * 1000:7.0f} ms   ratio {data / bare:.2f}")


if __name__ == "__main__":
    main()
