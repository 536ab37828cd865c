"""Problems and known errors: root causes behind incidents, with workarounds to search."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow

PROBLEM_STATUSES = ("new", "investigating", "known_error", "resolved", "closed")


class Problem(SQLModel, table=True):
    __tablename__ = "problem"
    __table_args__ = (Index("ix_problem_known_error_service_id", "known_error", "service_id"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="new", max_length=20, index=True)
    priority: int = 3
    service_id: int | None = Field(default=None, foreign_key="service.id")
    ci_id: int | None = Field(default=None, foreign_key="config_item.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    root_cause: str | None = Field(default=None, sa_column=Column(Text))
    workaround: str | None = Field(default=None, sa_column=Column(Text))
    known_error: bool = False
    symptoms: str | None = Field(default=None, sa_column=Column(Text))
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1
