"""The SSH front door: agents' public keys and one-use session records of `pob serve`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from pob_tui.models.base import UTCDateTime, utcnow


class AgentKey(SQLModel, table=True):
    """A public key that lets its owner in through `pob serve`. The owner is an agent, or,
    with `agent_id` empty, an integration (the phone system) named by `integration`.
    A removed key keeps its row (and `removed_at`) so the audit trail can still name it."""

    __tablename__ = "agent_key"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    integration: str | None = Field(default=None, max_length=64)
    key_type: str = Field(max_length=64)
    key_data: str = Field(sa_column=Column(Text, nullable=False))  # base64 of the key blob
    # As `ssh-keygen -l` prints it: "SHA256:" and unpadded base64.
    fingerprint: str = Field(max_length=100, unique=True)
    comment: str | None = Field(default=None, max_length=200)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ServeSession(SQLModel, table=True):
    """Written by `pob serve` for each SSH session after the key authenticated; the session's
    program claims it once, within seconds, to learn who it acts for. The token is random:
    knowing a used or expired one gains nothing."""

    __tablename__ = "serve_session"

    token: str = Field(max_length=64, primary_key=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    integration: str | None = Field(default=None, max_length=64)
    fingerprint: str = Field(max_length=100)
    client_address: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
