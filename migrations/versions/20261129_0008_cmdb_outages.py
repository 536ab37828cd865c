"""CMDB list indexes; outages: major flag, parent link and impacted services on incidents.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("config_item", schema=None) as batch_op:
        batch_op.create_index("ix_config_item_ci_class_name", ["ci_class", "name"],
                              unique=False)
        batch_op.create_index("ix_config_item_status_name", ["status", "name"], unique=False)
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("major", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_incident_parent_id", ["parent_id"], unique=False)
        batch_op.create_foreign_key("fk_incident_parent_id_incident", "incident",
                                    ["parent_id"], ["id"])
    op.create_table(
        "outage_service",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"],
                                name="fk_outage_service_incident_id_incident"),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"],
                                name="fk_outage_service_service_id_service"),
        sa.PrimaryKeyConstraint("incident_id", "service_id", name="pk_outage_service"),
    )
    with op.batch_alter_table("outage_service", schema=None) as batch_op:
        batch_op.create_index("ix_outage_service_service_id", ["service_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outage_service", schema=None) as batch_op:
        batch_op.drop_index("ix_outage_service_service_id")
    op.drop_table("outage_service")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_constraint("fk_incident_parent_id_incident", type_="foreignkey")
        batch_op.drop_index("ix_incident_parent_id")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("major")
    with op.batch_alter_table("config_item", schema=None) as batch_op:
        batch_op.drop_index("ix_config_item_status_name")
        batch_op.drop_index("ix_config_item_ci_class_name")
