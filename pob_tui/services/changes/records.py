"""Finding change requests and reading what an agent typed for them: the lookups and the
planned window every change use case starts from (the state machine, conflicts and the
read side all share them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.errors import ConflictError, InvalidInput, NotFound
from pob_tui.models import ChangeCi, ChangeRequest, ChangeTemplate

ACTIVE_STATUSES = ("submitted", "assessed", "awaiting_cab", "approved", "scheduled",
                   "in_progress")
"""Live changes: they hold a window in the calendar and can clash with one another."""


def get_change(session: Session, number: str, *, for_update: bool = False) -> ChangeRequest:
    """The change numbered `number` (any case, spaces ignored); NotFound otherwise."""
    stmt = select(ChangeRequest).where(col(ChangeRequest.number) == number.strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    change: ChangeRequest | None = session.execute(stmt).scalars().first()
    if change is None:
        raise NotFound(f"unknown change {number!r}")
    return change


def check_version(change: ChangeRequest, expected_version: int | None) -> None:
    """ConflictError if someone saved `change` since the version the agent saw."""
    if expected_version is not None and change.version != expected_version:
        raise ConflictError(
            f"{change.number} was changed by someone else since you opened it (version "
            f"{expected_version} -> {change.version}); review their change and try again")


def change_ci_ids(session: Session, change_id: int | None) -> list[int]:
    """The ids of the CIs a change affects, in id order."""
    return list(session.execute(select(col(ChangeCi.ci_id))
                                .where(col(ChangeCi.change_id) == change_id)
                                .order_by(col(ChangeCi.ci_id))).scalars())


def find_template(session: Session, ref: str | int) -> ChangeTemplate:
    """An active standard-change template by id or name (any case)."""
    tpl: ChangeTemplate | None = (
        session.get(ChangeTemplate, ref) if isinstance(ref, int) else session.execute(
            select(ChangeTemplate).where(func.lower(col(ChangeTemplate.name))
                                         == str(ref).strip().lower())).scalars().first())
    if tpl is None:
        raise NotFound(f"unknown standard-change template {ref!r}")
    if not tpl.active:
        raise InvalidInput(f"template {tpl.name!r} is no longer approved")
    return tpl


def parse_local(text: str | datetime | None, settings: Settings,
                what: str = "time") -> datetime | None:
    """"2026-12-01 18:00" (local time) -> aware UTC datetime; empty text -> None."""
    if text is None or isinstance(text, datetime):
        if isinstance(text, datetime) and text.tzinfo is None:
            raise InvalidInput(f"{what}: a time zone is needed")
        return text.astimezone(UTC) if text else None
    value = text.strip()
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a time like \"2026-12-01 18:00\"") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=settings.tzinfo)
    return dt.astimezone(UTC)


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Both ends or neither, and the end after the start."""
    if (start is None) != (end is None):
        raise InvalidInput("give both the planned start and the planned end")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("the planned end must be after the planned start")


def local_text(at: datetime, settings: Settings) -> str:
    """A moment as the office reads it in messages: "2026-12-01 10:00"."""
    return at.astimezone(settings.tzinfo).strftime("%Y-%m-%d %H:%M")
