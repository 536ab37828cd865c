"""Directory sync: person.directory_id, the dated history of a person's org unit, sync runs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pob_tui.models.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_person_directory_id", ["directory_id"], unique=True)

    op.create_table(
        "person_unit_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_unit.id"],
                                name="fk_person_unit_history_org_unit_id_org_unit"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name="fk_person_unit_history_person_id_person"),
        sa.PrimaryKeyConstraint("id", name="pk_person_unit_history"),
    )
    with op.batch_alter_table("person_unit_history", schema=None) as batch_op:
        batch_op.create_index("ix_person_unit_history_org_unit_id", ["org_unit_id"])
        batch_op.create_index("ix_person_unit_history_person_id_valid_from",
                              ["person_id", "valid_from"])
        batch_op.create_index("ix_person_unit_history_valid_to", ["valid_to"])

    op.create_table(
        "directory_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("deactivated", sa.Integer(), nullable=False),
        sa.Column("reactivated", sa.Integer(), nullable=False),
        sa.Column("unknown_units", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_directory_run"),
    )
    with op.batch_alter_table("directory_run", schema=None) as batch_op:
        batch_op.create_index("ix_directory_run_started_at", ["started_at"])


def downgrade() -> None:
    with op.batch_alter_table("directory_run", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_run_started_at")
    op.drop_table("directory_run")
    with op.batch_alter_table("person_unit_history", schema=None) as batch_op:
        batch_op.drop_index("ix_person_unit_history_valid_to")
        batch_op.drop_index("ix_person_unit_history_person_id_valid_from")
        batch_op.drop_index("ix_person_unit_history_org_unit_id")
    op.drop_table("person_unit_history")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_directory_id")
        batch_op.drop_column("directory_id")
