"""Changes and the CAB: requests, templates, freeze windows, meetings, agenda, votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow

CHANGE_TYPES = ("standard", "normal", "emergency")
CHANGE_STATUSES = (
    "draft",
    "submitted",
    "assessed",
    "awaiting_cab",
    "approved",
    "rejected",
    "scheduled",
    "in_progress",
    "implemented",
    "failed",
    "backed_out",
    "reviewed",
    "closed",
)
RISKS = ("low", "medium", "high")
VOTES = ("approve", "reject", "defer")


class ChangeTemplate(SQLModel, table=True):
    """A standard change approved in advance: it skips the CAB."""

    __tablename__ = "change_template"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    implementation_plan: str | None = Field(default=None, sa_column=Column(Text))
    test_plan: str | None = Field(default=None, sa_column=Column(Text))
    backout_plan: str | None = Field(default=None, sa_column=Column(Text))
    owner_team_id: int | None = Field(default=None, foreign_key="team.id")
    active: bool = True


class ChangeRequest(SQLModel, table=True):
    __tablename__ = "change_request"
    __table_args__ = (Index("ix_change_request_planned_start_planned_end", "planned_start",
                            "planned_end"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)
    type: str = Field(default="normal", max_length=16)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="draft", max_length=20, index=True)
    requester_id: int | None = Field(default=None, foreign_key="person.id")
    owner_team_id: int | None = Field(default=None, foreign_key="team.id")
    implementer_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    template_id: int | None = Field(default=None, foreign_key="change_template.id")
    risk: str | None = Field(default=None, max_length=8)
    risk_answers: str | None = Field(default=None, sa_column=Column(Text))  # JSON
    risk_reasons: str | None = Field(default=None, sa_column=Column(Text))  # JSON list
    planned_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    planned_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    actual_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    actual_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    implementation_plan: str | None = Field(default=None, sa_column=Column(Text))
    test_plan: str | None = Field(default=None, sa_column=Column(Text))
    backout_plan: str | None = Field(default=None, sa_column=Column(Text))
    emergency_reason: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = Field(default=None, max_length=16)  # successful|failed|backed_out
    review_note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1


class ChangeCi(SQLModel, table=True):
    __tablename__ = "change_ci"

    change_id: int = Field(foreign_key="change_request.id", primary_key=True)
    ci_id: int = Field(foreign_key="config_item.id", primary_key=True, index=True)


class FreezeWindow(SQLModel, table=True):
    """A period when only emergency changes (with a recorded reason) may be scheduled."""

    __tablename__ = "freeze_window"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)


class CabMeeting(SQLModel, table=True):
    __tablename__ = "cab_meeting"

    id: int | None = Field(default=None, primary_key=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, unique=True)
    kind: str = Field(default="regular", max_length=16)  # regular | emergency
    status: str = Field(default="planned", max_length=16)  # planned | held | cancelled
    chair_id: int | None = Field(default=None, foreign_key="agent.id")
    notes: str | None = Field(default=None, sa_column=Column(Text))


class CabMember(SQLModel, table=True):
    __tablename__ = "cab_member"

    meeting_id: int = Field(foreign_key="cab_meeting.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)


class CabAgendaItem(SQLModel, table=True):
    __tablename__ = "cab_agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "change_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="cab_meeting.id")
    change_id: int = Field(foreign_key="change_request.id", index=True)
    position: int = 0
    decision: str | None = Field(default=None, max_length=16)  # approve | reject | defer


class CabDecision(SQLModel, table=True):
    """One member's vote on one change at one meeting; `final` marks the chair's decision."""

    __tablename__ = "cab_decision"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="cab_meeting.id", index=True)
    change_id: int = Field(foreign_key="change_request.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    vote: str = Field(max_length=16)
    conditions: str | None = Field(default=None, sa_column=Column(Text))
    final: bool = False
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
