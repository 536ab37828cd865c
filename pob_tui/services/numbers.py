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

import re
from typing import cast

from sqlalchemy import Engine, text
from sqlmodel import Session

PREFIXES = {"incident": "INC", "problem": "PRB", "change": "CHG"}
WIDTH = 6
KINDS_BY_PREFIX = {prefix: kind for kind, prefix in PREFIXES.items()}
_NUMBER_RE = re.compile(rf"^\s*(INC|PRB|CHG)-(\d{{1,{WIDTH}}})\s*$", re.IGNORECASE)


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}-{value:0{WIDTH}d}"


def normalize_ticket_number(text: str) -> str | None:
    """'inc-123' -> 'INC-000123'; None unless it is a full number with a known prefix."""
    match = _NUMBER_RE.match(text)
    if not match:
        return None
    return format_number(match.group(1).upper(), int(match.group(2)))


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

