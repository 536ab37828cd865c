"""Usernames that differ only in case are the same user: unique indexes on lower(username)
for person and agent (issue 12). An existing pair such as Kari.N / kari.n stops the upgrade
with the database's one-line error; merge those people first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:00:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("uq_person_username_lower", "person", [text("lower(username)")],
                    unique=True)
    op.create_index("uq_agent_username_lower", "agent", [text("lower(username)")],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_agent_username_lower", table_name="agent")
    op.drop_index("uq_person_username_lower", table_name="person")
