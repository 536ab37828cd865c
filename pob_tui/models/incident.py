"""Incidents and the follow-ups that low satisfaction scores create."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow

INCIDENT_STATUSES = (
    "new",
    "assigned",
    "in_progress",
    "waiting_caller",
    "waiting_supplier",
    "resolved",
    "closed",
    "cancelled",
)
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_caller", "waiting_supplier")
# ITIL impact x urgency -> priority (DESIGN.md): the one definition; the demo and the
# services derive what they need from it.
PRIORITY_MATRIX: dict[tuple[int, int], int] = {
    (1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3,
    (2, 3): 4, (3, 2): 4, (3, 3): 5,
}
WAITING_STATUSES = ("waiting_caller", "waiting_supplier")
CHANNELS = ("phone", "email", "walk_in", "self_service", "monitoring")


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        # The queue's views: open by team/status ordered by age or due time, mine, unassigned.
        Index("ix_incident_status_team_id_opened_at", "status", "team_id", "opened_at"),
        Index("ix_incident_assignee_id_status", "assignee_id", "status"),
        Index("ix_incident_status_resolution_due_at", "status", "resolution_due_at"),
        Index("ix_incident_status_resolved_at", "status", "resolved_at"),
        Index("ix_incident_caller_id_opened_at", "caller_id", "opened_at"),
        Index("ix_incident_service_id_opened_at", "service_id", "opened_at"),
        Index("ix_incident_updated_at", "updated_at"),  # what changed since (live queues)
        CheckConstraint("impact BETWEEN 1 AND 3", name="ck_incident_impact"),
        CheckConstraint("urgency BETWEEN 1 AND 3", name="ck_incident_urgency"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="ck_incident_priority"),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 6", name="ck_incident_satisfaction"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)
    caller_id: int = Field(foreign_key="person.id")
    service_id: int | None = Field(default=None, foreign_key="service.id")
    ci_id: int | None = Field(default=None, foreign_key="config_item.id", index=True)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    summary: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))
    impact: int = 3
    urgency: int = 3
    priority: int = 5
    status: str = Field(default="new", max_length=20)
    channel: str = Field(default="phone", max_length=16)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    opened_by_id: int | None = Field(default=None, foreign_key="agent.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    response_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalation_level: int = 0
    resolution_code: str | None = Field(default=None, max_length=32)
    resolution_note: str | None = Field(default=None, sa_column=Column(Text))
    first_line: bool = False
    problem_id: int | None = Field(default=None, foreign_key="problem.id", index=True)
    caused_by_change_id: int | None = Field(default=None, foreign_key="change_request.id")
    satisfaction: int | None = None
    satisfaction_comment: str | None = Field(default=None, sa_column=Column(Text))
    satisfaction_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class FollowUp(SQLModel, table=True):
    """A task for the customer manager after a satisfaction score under 4."""

    __tablename__ = "follow_up"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    manager_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    status: str = Field(default="open", max_length=16)  # open | done
    note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
