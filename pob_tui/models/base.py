"""Shared column types and the metadata naming convention.

The naming convention gives every constraint and index a stable name, which Alembic needs to
alter them later (and SQLite batch mode needs to recreate tables). The `ck` pattern uses
`column_0_name` rather than `constraint_name` (sqlalchemy issue 4784).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns aware UTC datetimes, on SQLite too.

    SQLite has no time zone type, so values are stored as naive UTC and made aware on the
    way out. A naive datetime going in is refused: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Money = Numeric(14, 2)
"""NOK amounts to the øre; read back as Decimal."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def pk(row: SQLModel) -> int:
    """A stored row's id. Models type `id` as `int | None` (None until the row is flushed);
    code that works with stored rows takes the id through this, so the type checker knows
    it is there and a row not yet flushed fails loudly here rather than as a NULL later."""
    ident = getattr(row, "id", None)
    if ident is None:
        raise ValueError(f"{type(row).__name__} has no id: it is not stored yet")
    return int(ident)


ZERO = Decimal("0.00")
