"""Finding change requests and reading what an agent typed for them: the lookups and the
planned window every change use case starts from (the state machine, conflicts and the
read side all share them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.errors import ConflictError, InvalidInput, NotFound
from pob_tui.i18n import LazyLabels, _
from pob_tui.models import ChangeCi, ChangeRequest, ChangeTemplate

ACTIVE_STATUSES = ("submitted", "assessed", "awaiting_cab", "approved", "scheduled",
                   "in_progress")
"""Live changes: they hold a window in the calendar and can clash with one another."""

_WHAT = LazyLabels(lambda: {"time": _("time"), "planned start": _("planned start"),
                            "planned end": _("planned end"), "meeting": _("meeting")})
"""The names `parse_local` gives the value it could not read, in the current language."""


def get_change(session: Session, number: str, *, for_update: bool = False) -> ChangeRequest:
    """The change numbered `number` (any case, spaces ignored); NotFound otherwise."""
    stmt = select(ChangeRequest).where(col(ChangeRequest.number) == number.strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    change: ChangeRequest | None = session.execute(stmt).scalars().first()
    if change is None:
        raise NotFound(_("unknown change {number}").format(number=repr(number)))
    return change


def check_version(change: ChangeRequest, expected_version: int | None) -> None:
    """ConflictError if someone saved `change` since the version the agent saw."""
    if expected_version is not None and change.version != expected_version:
        raise ConflictError(_(
            "{number} was changed by someone else since you opened it (version {seen} -> "
            "{version}); review their change and try again").format(
                number=change.number, seen=expected_version, version=change.version))


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
        raise NotFound(_("unknown standard-change template {ref}").format(ref=repr(ref)))
    if not tpl.active:
        raise InvalidInput(_("template {name} is no longer approved").format(name=repr(tpl.name)))
    return tpl


def parse_local(text: str | datetime | None, settings: Settings,
                what: str = "time") -> datetime | None:
    """"2026-12-01 18:00" (local time) -> aware UTC datetime; empty text -> None."""
    if text is None or isinstance(text, datetime):
        if isinstance(text, datetime) and text.tzinfo is None:
            raise InvalidInput(_("{what}: a time zone is needed").format(
                what=_WHAT.get(what, what)))
        return text.astimezone(UTC) if text else None
    value = text.strip()
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        raise InvalidInput(_("{what} {text} is not a time like \"2026-12-01 18:00\"").format(
            what=_WHAT.get(what, what), text=repr(text))) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=settings.tzinfo)
    return dt.astimezone(UTC)


def check_window(start: datetime | None, end: datetime | None) -> None:
    """Both ends or neither, and the end after the start."""
    if (start is None) != (end is None):
        raise InvalidInput(_("give both the planned start and the planned end"))
    if start is not None and end is not None and end <= start:
        raise InvalidInput(_("the planned end must be after the planned start"))


def local_text(at: datetime, settings: Settings) -> str:
    """A moment as the office reads it in messages: "2026-12-01 10:00"."""
    return at.astimezone(settings.tzinfo).strftime("%Y-%m-%d %H:%M")
