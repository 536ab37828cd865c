"""Audit: every change of a ticket, and every administrative action. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow

EVENT_KINDS = ("created", "comment", "work_note", "field", "status", "assignment", "link",
               "satisfaction", "vote", "notification")


class TicketEvent(SQLModel, table=True):
    __tablename__ = "ticket_event"
    __table_args__ = (
        Index("ix_ticket_event_ticket_type_ticket_id_at", "ticket_type", "ticket_id", "at"),
        Index("ix_ticket_event_actor_id_at", "actor_id", "at"),
        Index("ix_ticket_event_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_type: str = Field(max_length=16)  # incident | problem | change
    ticket_id: int
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="agent.id")
    kind: str = Field(max_length=16)
    field: str | None = Field(default=None, max_length=64)
    old_value: str | None = Field(default=None, sa_column=Column(Text))
    new_value: str | None = Field(default=None, sa_column=Column(Text))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    minutes: int | None = None
    # The client's id for the request that wrote this event. A save retried after a lost
    # connection finds its own earlier event and is not applied twice.
    request_id: str | None = Field(default=None, max_length=40, unique=True)


class AdminEvent(SQLModel, table=True):
    """An administrative action or a denied attempt (imports, agents, demo data)."""

    __tablename__ = "admin_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target: str | None = Field(default=None, max_length=200)
    detail: str | None = Field(default=None, sa_column=Column(Text))
    allowed: bool = True


class TicketCounter(SQLModel, table=True):
    """The last number given per prefix (INC, PRB, CHG). Incremented with an UPDATE inside
    the inserting transaction, so two processes can never get the same number."""

    __tablename__ = "ticket_counter"

    prefix: str = Field(max_length=8, primary_key=True)
    last_value: int = 0


class TicketPresence(SQLModel, table=True):
    """Who has a ticket open for editing, refreshed by a heartbeat; shown to others."""

    __tablename__ = "ticket_presence"

    ticket_type: str = Field(max_length=16, primary_key=True)
    ticket_id: int = Field(primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """An in-app message for an agent (breach warnings to a team lead, follow-ups)."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    text: str = Field(max_length=400)
    ticket_type: str | None = Field(default=None, max_length=16)
    ticket_id: int | None = None
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
