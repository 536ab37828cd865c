"""The desk's own helpers: quick-call templates and phone rings for a running pob."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow


class CallTemplate(SQLModel, table=True):
    """A common call (password expired, account locked...): what the call form fills in.
    With a resolution code the call can be saved and resolved at first line at once."""

    __tablename__ = "call_template"
    __table_args__ = (
        CheckConstraint("impact IS NULL OR impact BETWEEN 1 AND 3",
                        name="ck_call_template_impact"),
        CheckConstraint("urgency IS NULL OR urgency BETWEEN 1 AND 3",
                        name="ck_call_template_urgency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    summary: str = Field(max_length=200)
    impact: int | None = Field(default=None)
    urgency: int | None = Field(default=None)
    resolution_code: str | None = Field(default=None, max_length=32)
    resolution_note: str | None = Field(default=None, sa_column=Column(Text))


class CallRing(SQLModel, table=True):
    """The phone system says an agent answered a call from `number`: the agent's running
    pob takes it (`taken_at`) and opens the call form with the caller. Polled on SQLite by
    `updated_at`/`version` like the tickets; notified on PostgreSQL."""

    __tablename__ = "call_ring"
    __table_args__ = (Index("ix_call_ring_updated_at", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    number: str = Field(max_length=40)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)
