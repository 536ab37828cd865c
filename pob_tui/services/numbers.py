"""Human ticket numbers (INC-000123, PRB-..., CHG-...), unique and never reused.

The counter row is incremented with one UPDATE ... RETURNING inside the transaction that
inserts the ticket. On PostgreSQL the row lock makes a second process wait until the first
commits or rolls back; on SQLite the write lock does the same. A rolled-back insert also
rolls back its increment, so numbers are gapless as well as unique.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

PREFIXES = {"incident": "INC", "problem": "PRB", "change": "CHG"}
WIDTH = 6


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}-{value:0{WIDTH}d}"


def next_number(session: Session, prefix: str) -> str:
    """Take the next number for `prefix` in the session's transaction."""
    value = session.execute(
        text(
            "UPDATE ticket_counter SET last_value = last_value + 1 "
            "WHERE prefix = :p RETURNING last_value"
        ),
        {"p": prefix},
    ).scalar_one()
    return format_number(prefix, value)


def reserve_numbers(session: Session, prefix: str, count: int) -> int:
    """Take `count` numbers at once (bulk loads); returns the first value."""
    last = session.execute(
        text(
            "UPDATE ticket_counter SET last_value = last_value + :n "
            "WHERE prefix = :p RETURNING last_value"
        ),
        {"p": prefix, "n": count},
    ).scalar_one()
    return last - count + 1
