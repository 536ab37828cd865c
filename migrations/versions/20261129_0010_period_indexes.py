"""Indexes that bound the reports by their period (issue 17): calls per day by
incident.opened_at, satisfaction by incident.satisfaction_at, SLA compliance by
sla_clock.started_at. Without them the KPI dashboard reads all of history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        # partial (all rows qualify): only queries comparing opened_at use it, not the
        # queue's newest-first order (see models/incident.py)
        batch_op.create_index("ix_incident_opened_at", ["opened_at"], unique=False,
                              sqlite_where=sa.text("opened_at IS NOT NULL"),
                              postgresql_where=sa.text("opened_at IS NOT NULL"))
        batch_op.create_index("ix_incident_satisfaction_at", ["satisfaction_at"], unique=False)
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clock_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clock_started_at")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_satisfaction_at")
        batch_op.drop_index("ix_incident_opened_at")
