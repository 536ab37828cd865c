"""Human ticket numbers (INC-000123, PRB-..., CHG-...), unique and never reused.

A counter row per prefix is incremented with one UPDATE ... RETURNING.
- SQLite: inside the transaction that inserts the ticket. Writers are serialised by the
  database lock anyway, and a rolled-back insert rolls its number back: no gaps.
- PostgreSQL: in a short transaction of its own, committed at once. The row lock lasts
  microseconds instead of the whole save, so twenty agents logging calls do not queue
  behind each other. A save that fails afterwards leaves a gap; a number is still never
  given twice or reused.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Engine, text
from sqlmodel import Session

PREFIXES = {"incident": "INC", "problem": "PRB", "change": "CHG"}
WIDTH = 6


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}-{value:0{WIDTH}d}"


def next_number(session: Session, prefix: str) -> str:
    """Take the next number for `prefix` (see the module docstring for the transaction)."""
    stmt = text("UPDATE ticket_counter SET last_value = last_value + 1 "
                "WHERE prefix = :p RETURNING last_value")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        engine = cast("Engine", getattr(bind, "engine", bind))
        with engine.connect() as conn:
            value = conn.execute(stmt, {"p": prefix}).scalar_one()
            conn.commit()
    else:
        value = session.execute(stmt, {"p": prefix}).scalar_one()
    return format_number(prefix, value)


def reserve_numbers(session: Session, prefix: str, count: int) -> int:
    """Take `count` numbers at once (bulk loads); returns the first value."""
    last: int = session.execute(
        text(
            "UPDATE ticket_counter SET last_value = last_value + :n "
            "WHERE prefix = :p RETURNING last_value"
        ),
        {"p": prefix, "n": count},
    ).scalar_one()
    return last - count + 1
