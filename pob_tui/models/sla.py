"""Agreements and their clocks: calendars, agreements, SLA/OLA targets, running clocks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime


class Calendar(SQLModel, table=True):
    """Opening hours as JSON `{"0": [["08:00","15:45"]], ...}` (weekday 0 = Monday)."""

    __tablename__ = "calendar"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    tz: str = Field(default="Europe/Oslo", max_length=64)
    hours: str = Field(sa_column=Column(Text, nullable=False))
    national_holidays: bool = True  # Norwegian public holidays from the holidays package


class CalendarDay(SQLModel, table=True):
    """A local exception: closed all day (no hours) or shortened (`hours` JSON intervals)."""

    __tablename__ = "calendar_day"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    calendar_id: int = Field(foreign_key="calendar.id")
    day: date
    hours: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=200)


class Agreement(SQLModel, table=True):
    """An SLA with a customer (org unit) or the default (no customer); covers the services in
    `agreement_service`, or all when it lists none."""

    __tablename__ = "agreement"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    customer_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    calendar_id: int = Field(foreign_key="calendar.id")
    valid_from: date | None = None
    valid_to: date | None = None
    is_default: bool = False


class AgreementService(SQLModel, table=True):
    __tablename__ = "agreement_service"

    agreement_id: int = Field(foreign_key="agreement.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True)


class SlaTarget(SQLModel, table=True):
    __tablename__ = "sla_target"
    __table_args__ = (UniqueConstraint("agreement_id", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreement.id")
    priority: int
    response_minutes: int
    resolution_minutes: int


class OlaTarget(SQLModel, table=True):
    """A team's own target per priority, measured from when the team got the ticket."""

    __tablename__ = "ola_target"
    __table_args__ = (UniqueConstraint("team_id", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    priority: int
    response_minutes: int
    resolution_minutes: int


class SlaClock(SQLModel, table=True):
    """A clock on an incident: the customer's response/resolution SLA or a team's OLA.

    Due times are recomputed from the incident's history and the calendar; what is stored is
    the result (for indexed queue sorting) and, once stopped, met or missed."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        Index("ix_sla_clock_stopped_at_due_at", "stopped_at", "due_at"),
        Index("ix_sla_clock_incident_id_kind", "incident_id", "kind"),
        Index("ix_sla_clock_started_at", "started_at"),  # compliance for a period
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    kind: str = Field(max_length=16)  # response | resolution | ola
    team_id: int | None = Field(default=None, foreign_key="team.id")
    calendar_id: int | None = Field(default=None, foreign_key="calendar.id")
    target_minutes: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    met: bool | None = None
    breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
