"""Mail in and out: every message pob took in or sent, its attachments, and the outbox cursor.

One table holds both directions because threading looks both up by Message-ID: a reply names
our Message-ID (direction `out`) in `In-Reply-To`; a re-fetched message finds its own earlier
row (direction `in`) and is a duplicate. The raw message is kept for the audit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow

# What became of an incoming message (the `action` in `pob mail ingest --format json`).
MAIL_ACTIONS = ("new", "reply", "duplicate", "ignored", "held")
# Outgoing: pending -> sent | failed | suppressed (loop guard or rate limit said no).
OUT_STATUSES = ("pending", "sent", "failed", "suppressed")


class MailMessage(SQLModel, table=True):
    __tablename__ = "mail_message"
    __table_args__ = (
        # Message-IDs are unique per direction (ours are generated, theirs are deduplicated).
        Index("ix_mail_message_direction_message_id", "direction", "message_id", unique=True),
        Index("ix_mail_message_incident_id_at", "incident_id", "at"),
        # The mail view (ignored, held) and the rate limit (per address, last hour).
        Index("ix_mail_message_action_at", "action", "at"),
        Index("ix_mail_message_address_at", "address", "at"),
        Index("ix_mail_message_status_id", "status", "id"),
        Index("ix_mail_message_event_id_address", "event_id", "address", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)  # in | out
    message_id: str | None = Field(default=None, max_length=250)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # in: the sender; out: the recipient. Lowercased.
    address: str | None = Field(default=None, max_length=250)
    name: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=400)
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    # in: new | reply | ignored | held; out: acknowledgement | comment | resolved | ...
    action: str = Field(max_length=24)
    reason: str | None = Field(default=None, max_length=400)
    # in: the reply text as recorded; out: the body sent.
    body: str | None = Field(default=None, sa_column=Column(Text))
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # out: pending | sent | failed | suppressed, and the event that caused it (once per event
    # and recipient: a rescan of the audit trail never mails twice).
    status: str | None = Field(default=None, max_length=12)
    event_id: int | None = Field(default=None, foreign_key="ticket_event.id")
    in_reply_to: str | None = Field(default=None, max_length=250)
    references: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    # in: when an agent saw the caller's reply (the queue marks unread ones).
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailAttachment(SQLModel, table=True):
    """A file that came with a message, kept up to `[mail] max_attachment_mb`; a larger one is
    listed with its size and `data` empty."""

    __tablename__ = "mail_attachment"

    id: int | None = Field(default=None, primary_key=True)
    mail_id: int = Field(foreign_key="mail_message.id", index=True)
    filename: str = Field(max_length=250)
    content_type: str = Field(max_length=120)
    size: int = 0
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary))


class MailState(SQLModel, table=True):
    """Small named counters: `outbox` is the last audit event the mail-out scan has settled."""

    __tablename__ = "mail_state"

    name: str = Field(max_length=32, primary_key=True)
    value: int = 0
