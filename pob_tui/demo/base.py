"""The demo's scales, row writer and small helpers, and the state every step shares."""

from __future__ import annotations

import bisect
import itertools
import random
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Connection, Table
from sqlmodel import SQLModel

OSLO = ZoneInfo("Europe/Oslo")
DOMAIN = "pob-kommune.no"
CHUNK = 10_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scale:
    """How big the generated municipality is."""

    name: str
    people: int
    services: int
    locations: int
    days: int  # days of ticket history ending today
    calls: tuple[int, int]  # incidents per working day (low, high)
    pupil_devices: int  # pooled pupil devices per school
    phones_per_person: float
    usage_sample: float  # share of a broad service's users that get usage records


SCALES: dict[str, Scale] = {
    "small": Scale("small", 400, 40, 20, 60, (13, 17), 8, 0.3, 0.05),
    "municipality": Scale("municipality", 12_000, 300, 250, 365, (150, 200), 190, 0.8, 0.03),
    "history": Scale("history", 12_000, 300, 250, 3652, (150, 200), 190, 0.8, 0.03),
}


def _ascii(s: str) -> str:
    s = s.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "-" for c in s).strip("-")


def _slug(s: str, n: int = 12) -> str:
    return re.sub("-+", "-", _ascii(s))[:n].strip("-")


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def _utc(d: date, seconds: float) -> datetime:
    """Oslo wall time (seconds after local midnight of `d`) as aware UTC."""
    local = datetime(d.year, d.month, d.day, 12, tzinfo=OSLO)
    offset = local.utcoffset() or timedelta(0)
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(seconds=seconds) - offset


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` by `weights` with largest remainders (deterministic)."""
    s = sum(weights) or 1
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in rest[: total - sum(out)]:
        out[i] += 1
    return out


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


class _Picker:
    """Fast repeated weighted choice (bisect over cumulative weights)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


class _Writer:
    """Chunked Core executemany into one connection, counting rows per table. On
    PostgreSQL rows go through COPY instead (about 3x faster than executemany there)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {}
        self.copy = conn.dialect.name == "postgresql"

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows and self.copy:
            cols = list(rows[0])
            names = ", ".join(f'"{c}"' for c in cols)
            cur = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row([r[c] for c in cols])
            cur.close()
        else:
            for i in range(0, len(rows), CHUNK):
                self.conn.execute(table.insert(), rows[i: i + CHUNK])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def _t(model: type[SQLModel]) -> Table:
    # __table__ is set by SQLModel's metaclass on table=True models; the stubs don't know it
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _domain_tables() -> list[Table]:
    """The tables the demo fills; the counters (numbers, the cost inputs' version) stay."""
    return [t for t in SQLModel.metadata.sorted_tables
            if t.name not in ("ticket_counter", "input_version")]


@dataclass
class _Unit:
    id: int
    name: str
    sector: str
    kind: str
    location_id: int
    weight: int
    manager_id: int | None = None


class GeneratorBase:
    """What every step shares: the scale, the random stream, "now", the holidays and the
    writer; each step's class adds the state the later steps read."""

    def __init__(self, scale: Scale, seed: int, today: date, progress: Progress | None,
                 now: datetime | None = None, *, operator: str | None = None) -> None:
        self.operator = operator
        self.sc = scale
        self.rng = random.Random(seed)
        self.today = today
        noon = datetime.combine(today, dtime(12, 0), OSLO).astimezone(UTC)
        self.now = min(noon, now) if now else noon
        self.start = today - timedelta(days=scale.days)
        self.years = list(range(min(self.start.year, today.year - 1), today.year + 1))
        self.hol = holidays.country_holidays("NO", years=[*self.years, today.year + 1])
        self.progress = progress
        self.steps: dict[str, float] = {}
        self.w: _Writer

    def counts(self) -> dict[str, int]:
        return dict(self.w.counts)

    def _step(self, name: str, fn: Callable[[], None]) -> None:
        """Run one step; progress says (name, 0, 1) before and (name, 1, 1) after, except
        the incident step, which counts months itself."""
        if self.progress and name != "incidents":
            self.progress(name, 0, 1)
        t0 = time.perf_counter()
        fn()
        self.steps[name] = time.perf_counter() - t0
        if self.progress and name != "incidents":
            self.progress(name, 1, 1)

    def working_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.hol

    @staticmethod
    def _event(ttype: str, tid: int, at: datetime, actor: int | None, kind: str,
               fld: str | None = None, old: str | None = None, new: str | None = None,
               comment: str | None = None, minutes: int | None = None) -> dict[str, Any]:
        return {"id": 0, "ticket_type": ttype, "ticket_id": tid, "at": at, "actor_id": actor,
                "kind": kind, "field": fld, "old_value": old, "new_value": new,
                "comment": comment, "minutes": minutes}
