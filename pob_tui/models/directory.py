"""Directory sync: the dated history of a person's org unit, and the log of sync runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow

DIRECTORY_OWNED_FIELDS: tuple[str, ...] = (
    "directory_id", "username", "first_name", "last_name", "email", "phone", "title",
    "org_unit_id", "location_id", "active",
)
"""Person fields a sync writes: the org screens show them read-only for synced people
(`person.directory_id` set), since the next night's sync would undo a hand edit."""


class PersonUnitHistory(SQLModel, table=True):
    """Which org unit a person belonged to, from when to when (both days inclusive).

    `valid_from` NULL: since before pob knew (the first row a sync writes); `valid_to` NULL:
    still there. A move closes the open row the day before and opens one on the move day; a
    deactivation closes it on that day. Cost allocation charges each day to the unit of that
    day; a person with no rows at all is charged to `person.org_unit_id` as before.
    """

    __tablename__ = "person_unit_history"
    __table_args__ = (
        Index("ix_person_unit_history_person_id_valid_from", "person_id", "valid_from"),
        Index("ix_person_unit_history_valid_to", "valid_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    valid_from: date | None = None
    valid_to: date | None = None


class DirectoryRun(SQLModel, table=True):
    """One `pob directory sync`: when, dry run or not, its counts and how it ended."""

    __tablename__ = "directory_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dry_run: bool = False
    outcome: str = Field(max_length=16)  # done | dry_run | refused | failed
    entries: int = 0
    added: int = 0
    changed: int = 0
    moved: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unknown_units: int = 0
    message: str | None = Field(default=None, sa_column=Column(Text))
