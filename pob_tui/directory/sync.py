"""One sync run: read the directory, plan, check the safety limit, apply, log the run."""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlmodel import Session, col

from pob_tui.directory import DirectoryUnavailable, SafetyLimitExceeded
from pob_tui.directory.apply import apply_plan, load_catalog, load_known
from pob_tui.directory.diff import Plan, SyncResult, compute_plan, deactivation_share
from pob_tui.directory.map import PersonRecord, map_entry
from pob_tui.directory.read import DirectoryConfig, ReadStats, read_entries
from pob_tui.models import DirectoryRun, utcnow
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import SYSTEM_ACTOR

if TYPE_CHECKING:
    from pob_tui.config import Settings
    from pob_tui.db import Database

LOCK_KEY = 0x706F6264  # "pobd": one sync at a time on PostgreSQL


def read_records(cfg: DirectoryConfig, stats: ReadStats) -> tuple[list[PersonRecord], int]:
    """Mapped records, and how many entries had no id or username."""
    records: list[PersonRecord] = []
    unusable = 0
    for dn, attrs in read_entries(cfg, stats):
        rec = map_entry(dn, attrs, attributes=cfg.attributes, base_dn=cfg.base_dn,
                        org_unit_from=cfg.org_unit_from, ou_level=cfg.ou_level)
        if rec is None:
            unusable += 1
        else:
            records.append(rec)
    return records, unusable


def _log(session: Session, result: SyncResult, started: datetime, message: str | None) -> None:
    c = result.counts
    session.add(DirectoryRun(
        started_at=started, finished_at=utcnow(), dry_run=result.dry_run,
        outcome=result.outcome, entries=result.entries, added=c["added"],
        changed=c["changed"], moved=c["moved"], deactivated=c["deactivated"],
        reactivated=c["reactivated"], unknown_units=c["unknown_units"], message=message))


def _log_alone(database: Database, result: SyncResult, started: datetime,
               message: str | None) -> None:
    """A run that wrote nothing else (dry run, refused, failed) is still logged."""
    with database.session() as session:
        _log(session, result, started, message)


def run_sync(settings: Settings, *, dry_run: bool, force: bool, create_units: bool,
             database: Database | None = None, today: date | None = None) -> SyncResult:
    cfg = DirectoryConfig.from_settings(settings)
    if database is not None:
        return _run(cfg, settings, database, dry_run=dry_run, force=force,
                    create_units=create_units, today=today)
    from pob_tui.db import Database

    own = Database.open(settings)  # a nightly job's own engine: closed when it is done
    try:
        return _run(cfg, settings, own, dry_run=dry_run, force=force,
                    create_units=create_units, today=today)
    finally:
        own.dispose()


def _run(cfg: DirectoryConfig, settings: Settings, database: Database, *, dry_run: bool,
         force: bool, create_units: bool, today: date | None) -> SyncResult:
    day = today or datetime.now(settings.tzinfo).date()
    started = utcnow()
    stats = ReadStats()
    try:
        records, unusable = read_records(cfg, stats)
    except DirectoryUnavailable as exc:
        failed = SyncResult(dry_run=dry_run, outcome="failed", entries=stats.entries,
                            pages=stats.pages)
        with contextlib.suppress(Exception):
            _log_alone(database, failed, started, str(exc))
        raise

    refusal: str | None = None
    try:
        with database.session() as session:
            result, refusal = _plan_and_apply(session, cfg, records, day, started,
                                               dry_run=dry_run, force=force,
                                               create_units=create_units)
    except _Refused as exc:  # rolled back: nothing but the refusal is written
        exc.result.outcome = "refused"
        _log_alone(database, exc.result, started, exc.message)
        raise SafetyLimitExceeded(exc.message) from None
    result.skipped += unusable
    result.pages = stats.pages
    result.refusal = refusal
    if dry_run:
        _log_alone(database, result, started, refusal)
    return result


class _Refused(Exception):
    def __init__(self, message: str, result: SyncResult) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


def _plan_and_apply(session: Session, cfg: DirectoryConfig, records: list[PersonRecord],
                    day: date, started: datetime, *, dry_run: bool, force: bool,
                    create_units: bool) -> tuple[SyncResult, str | None]:
    run: DirectoryRun | None = None
    if not dry_run:
        # Take the write lock first: on SQLite the first write does; on PostgreSQL an
        # advisory lock keeps two syncs (cron and `pob serve`) from interleaving.
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        run = DirectoryRun(started_at=started, dry_run=False, outcome="running")
        session.add(run)
        session.flush()
    first_sync = session.execute(
        select(col(DirectoryRun.id)).where(col(DirectoryRun.outcome) == "done").limit(1)
    ).first() is None
    plan: Plan = compute_plan(records, load_known(session),
                              load_catalog(session, dict(cfg.org_units)),
                              today=day, create_units=create_units)
    result = plan.result
    result.dry_run, result.entries = dry_run, len(records)
    share = deactivation_share(plan)
    refusal = None
    if share > cfg.max_deactivate_share and not force:
        refusal = (f"refused: the run would deactivate {len(plan.deactivate)} of "
                   f"{plan.active_from_directory} active people from the directory "
                   f"({share:.1%}), more than directory.max_deactivate_share "
                   f"({cfg.max_deactivate_share:.1%}); check the filter, or use --force")
    if dry_run:
        result.outcome = "dry_run"
        return result, refusal
    if refusal:
        raise _Refused(refusal, result)
    assert run is not None
    apply_plan(session, plan, today=day, first_sync=first_sync)
    result.outcome = "done"
    c = result.counts
    run.finished_at = utcnow()
    run.outcome = "done"
    run.entries = result.entries
    run.added, run.changed, run.moved = c["added"], c["changed"], c["moved"]
    run.deactivated, run.reactivated = c["deactivated"], c["reactivated"]
    run.unknown_units = c["unknown_units"]
    record_admin_event(session, actor=SYSTEM_ACTOR.username, action="directory.sync",
                       target=cfg.base_dn[:200],
                       detail=json.dumps({**c, "entries": result.entries}, sort_keys=True))
    return result, None
