"""Mail in and out: mail_message, mail_attachment, mail_state; person.language.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pob_tui.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False,
                                      server_default="nb"))
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=250), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=400), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("in_reply_to", sa.String(length=250), nullable=True),
        sa.Column("references", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("read_at", pob_tui.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["ticket_event.id"],
                                name=op.f("fk_mail_message_event_id_ticket_event")),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"],
                                name=op.f("fk_mail_message_incident_id_incident")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_mail_message_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.create_index("ix_mail_message_direction_message_id",
                              ["direction", "message_id"], unique=True)
        batch_op.create_index("ix_mail_message_incident_id_at", ["incident_id", "at"])
        batch_op.create_index("ix_mail_message_action_at", ["action", "at"])
        batch_op.create_index("ix_mail_message_address_at", ["address", "at"])
        batch_op.create_index("ix_mail_message_status_id", ["status", "id"])
        batch_op.create_index("ix_mail_message_event_id_address", ["event_id", "address"],
                              unique=True)
    op.create_table(
        "mail_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=250), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["mail_id"], ["mail_message.id"],
                                name=op.f("fk_mail_attachment_mail_id_mail_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attachment")),
    )
    with op.batch_alter_table("mail_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_attachment_mail_id"), ["mail_id"])
    op.create_table(
        "mail_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mail_state")),
    )


def downgrade() -> None:
    op.drop_table("mail_state")
    with op.batch_alter_table("mail_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_attachment_mail_id"))
    op.drop_table("mail_attachment")
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        for name in ("ix_mail_message_event_id_address", "ix_mail_message_status_id",
                     "ix_mail_message_address_at", "ix_mail_message_action_at",
                     "ix_mail_message_incident_id_at", "ix_mail_message_direction_message_id"):
            batch_op.drop_index(name)
    op.drop_table("mail_message")
    if op.get_bind().dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+): a batch rebuild of person would lose the
        # expression index uq_person_username_lower (0006).
        op.execute("ALTER TABLE person DROP COLUMN language")
    else:
        op.drop_column("person", "language")
