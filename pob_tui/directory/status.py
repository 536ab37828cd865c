"""`pob directory status`: the last sync runs (newest first), as a typed read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.models import DirectoryRun


@dataclass(frozen=True)
class RunRow:
    started_at: datetime
    finished_at: datetime | None
    dry_run: bool
    outcome: str
    entries: int
    counts: dict[str, int]
    message: str | None

    def to_json(self) -> dict[str, Any]:
        return {"time": self.started_at.isoformat(),
                "finished": self.finished_at.isoformat() if self.finished_at else None,
                "dry_run": self.dry_run, "outcome": self.outcome, "entries": self.entries,
                "counts": self.counts, "message": self.message}


def last_runs(session: Session, *, limit: int = 10) -> list[RunRow]:
    rows = session.execute(select(DirectoryRun).order_by(col(DirectoryRun.started_at).desc(),
                                                         col(DirectoryRun.id).desc())
                           .limit(limit)).scalars()
    return [RunRow(r.started_at, r.finished_at, r.dry_run, r.outcome, r.entries,
                   {"added": r.added, "changed": r.changed, "moved": r.moved,
                    "deactivated": r.deactivated, "reactivated": r.reactivated,
                    "unknown_units": r.unknown_units}, r.message) for r in rows]
