"""Organisation: the customers of IT (org units), sites, people, teams and agents."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, func, text
from sqlmodel import Field, SQLModel


class OrgUnit(SQLModel, table=True):
    """A sector or unit: the customer of IT, with a cost centre and a customer manager."""

    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200, index=True)
    kind: str = Field(default="unit", max_length=16)  # sector | unit
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    cost_centre: str | None = Field(default=None, max_length=32)
    # A person; use_alter breaks the org_unit <-> person cycle when creating tables.
    customer_manager_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("person.id", use_alter=True, name="fk_org_unit_customer_manager_id_person"),
            nullable=True,
        ),
    )
    active: bool = True


class Location(SQLModel, table=True):
    """One of the municipality's sites, on one of three fibre rings."""

    __tablename__ = "location"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200, index=True)
    kind: str = Field(default="office", max_length=32)  # school, kindergarten, nursing_home...
    address: str | None = Field(default=None, max_length=200)
    ring: int | None = None
    active: bool = True


class Person(SQLModel, table=True):
    """A caller or end user. `search` holds lowercased name, username, phone and e-mail so
    the caller picker can match them with one indexed-friendly expression."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_last_name_first_name", "last_name", "first_name"),
        # The caller picker's LIKE '%word%': a trigram index on PostgreSQL keeps a keystroke
        # cheap however many people there are (a plain index elsewhere, unused but harmless).
        Index("ix_person_search_trgm", "search", postgresql_using="gin",
              postgresql_ops={"search": "gin_trgm_ops"}),
        Index("ix_person_directory_id", "directory_id", unique=True),
        # Kari.N and kari.n are one person (issue 12): unique whatever the case.
        Index("uq_person_username_lower", func.lower(text("username")), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    title: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32, index=True)
    email: str | None = Field(default=None, max_length=200, index=True)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    location_id: int | None = Field(default=None, foreign_key="location.id", index=True)
    vip: bool = False
    active: bool = True
    search: str = Field(default="", sa_column=Column(String(400), nullable=False, default=""))
    # The language pob writes to this person in (mail templates): nb or en.
    language: str = Field(default="nb", max_length=8)
    # The directory's stable id (objectGUID as its canonical GUID string, entryUUID as is)
    # for people who came from a directory sync; NULL for people kept by hand. A UNIQUE
    # index allows any number of NULLs on both backends (an index, not a constraint, so
    # SQLite can add it without rebuilding the person table).
    directory_id: str | None = Field(default=None, max_length=64)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Team(SQLModel, table=True):
    """An assignment group: the service desk, a second-line team or a supplier."""

    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="second_line", max_length=16)  # service_desk|second_line|supplier
    email: str | None = Field(default=None, max_length=200)
    calendar_id: int | None = Field(default=None, foreign_key="calendar.id")
    lead_agent_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("agent.id", use_alter=True, name="fk_team_lead_agent_id_agent"),
            nullable=True,
        ),
    )
    active: bool = True


class Agent(SQLModel, table=True):
    """A person who works tickets. `username` is the OS user (SQLite) or the database login
    role (PostgreSQL) that identifies the agent."""

    __tablename__ = "agent"
    __table_args__ = (
        Index("uq_agent_username_lower", func.lower(text("username")), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    active: bool = True


class AgentRole(SQLModel, table=True):
    """Roles: first_line, second_line, change_manager, cab_member, service_owner,
    customer_manager, administrator."""

    __tablename__ = "agent_role"

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    role: str = Field(max_length=32, primary_key=True)


ROLES = (
    "first_line",
    "second_line",
    "change_manager",
    "cab_member",
    "service_owner",
    "customer_manager",
    "administrator",
    "integration",
)
