"""SSH front door: agents' public keys (agent_key) and one-use session records (serve_session).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pob_tui.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("integration", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("key_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_data", sa.Text(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("added_at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_key_agent_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_key")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_agent_key_fingerprint")),
    )
    with op.batch_alter_table("agent_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_key_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "serve_session",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("integration", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agent.id"], name=op.f("fk_serve_session_agent_id_agent")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_serve_session")),
    )
    with op.batch_alter_table("serve_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_serve_session_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("serve_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_serve_session_expires_at"))
    op.drop_table("serve_session")
    with op.batch_alter_table("agent_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_key_agent_id"))
    op.drop_table("agent_key")
