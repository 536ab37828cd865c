"""Service catalog: services, what they cost, who has access, and who uses them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pob_tui.models.base import Money

LIFECYCLES = ("planned", "live", "retiring", "retired")
COST_KINDS = ("licence", "infrastructure", "personnel", "external")


class Service(SQLModel, table=True):
    __tablename__ = "service"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200, index=True)
    description: str | None = Field(default=None, sa_column=Column(Text))
    keywords: str | None = Field(default=None, max_length=400)
    category: str | None = Field(default=None, max_length=64, index=True)
    owner_team_id: int | None = Field(default=None, foreign_key="team.id")
    support_team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    owner_person_id: int | None = Field(default=None, foreign_key="person.id")
    lifecycle: str = Field(default="live", max_length=16, index=True)
    default_impact: int = 3
    default_urgency: int = 3
    search: str = Field(default="", max_length=800)


class ServiceCost(SQLModel, table=True):
    __tablename__ = "service_cost"
    __table_args__ = (UniqueConstraint("service_id", "year", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    year: int
    kind: str = Field(max_length=16)
    amount: Decimal = Field(sa_type=Money)
    note: str | None = Field(default=None, max_length=200)


class Subscription(SQLModel, table=True):
    """Access to a service for an org unit (covering its people) or one person."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(
            "(org_unit_id IS NULL) <> (person_id IS NULL)", name="ck_subscription_one_holder"
        ),
        Index("ix_subscription_service_id_valid_from", "service_id", "valid_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    valid_from: date
    valid_to: date | None = None


class UsageRecord(SQLModel, table=True):
    """One person's use of one service in one month (first day of the month)."""

    __tablename__ = "usage_record"
    __table_args__ = (
        UniqueConstraint("service_id", "person_id", "month"),
        Index("ix_usage_record_month_service_id", "month", "service_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    month: date
    uses: int = 0


class Funding(SQLModel, table=True):
    """What an org unit pays IT today for a year; compared with what it uses."""

    __tablename__ = "funding"
    __table_args__ = (UniqueConstraint("org_unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    org_unit_id: int = Field(foreign_key="org_unit.id")
    year: int
    amount: Decimal = Field(sa_type=Money)


class InputVersion(SQLModel, table=True):
    """A counter per derived figure set that database triggers move whenever one of its
    inputs changes (migration 0012), in the writing transaction, whoever writes. A reader
    that reads `n` before the inputs may keep what it computed for as long as `n` stays."""

    __tablename__ = "input_version"

    topic: str = Field(primary_key=True, max_length=32)
    n: int = Field(default=0, sa_type=BigInteger)
