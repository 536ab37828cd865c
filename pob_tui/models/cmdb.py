"""CMDB: configuration items, their relations, and which services rest on them."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

CI_CLASSES = ("client", "printer", "server", "database", "application", "network", "storage",
              "phone")
RELATION_KINDS = ("depends_on", "runs_on", "connects_to")
CI_STATUSES = ("planned", "in_use", "retired")


class ConfigItem(SQLModel, table=True):
    __tablename__ = "config_item"
    __table_args__ = (
        # The CMDB list: pages by name, within a class or a status view.
        Index("ix_config_item_ci_class_name", "ci_class", "name"),
        Index("ix_config_item_status_name", "status", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    ci_class: str = Field(max_length=32, index=True)
    status: str = Field(default="in_use", max_length=16)  # planned|in_use|retired
    location_id: int | None = Field(default=None, foreign_key="location.id", index=True)
    owner_team_id: int | None = Field(default=None, foreign_key="team.id")
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    serial: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, sa_column=Column(Text))


class CiRelation(SQLModel, table=True):
    """`source` depends on / runs on / connects to `target`."""

    __tablename__ = "ci_relation"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        CheckConstraint("source_id <> target_id", name="ck_ci_relation_not_self"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="config_item.id")
    target_id: int = Field(foreign_key="config_item.id", index=True)
    kind: str = Field(max_length=16)


class ServiceCi(SQLModel, table=True):
    __tablename__ = "service_ci"

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    ci_id: int = Field(foreign_key="config_item.id", primary_key=True, index=True)
