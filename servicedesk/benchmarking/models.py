"""Tables of benchmarking: who takes part and under what name, what hub members published, and
what this installation sends to its hub."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class BenchmarkMember(SQLModel, table=True):
    """An installation registered with this one as its comparison hub (hub side).

    Its Standard Webhooks secret verifies what it publishes; it is sealed with the secret key,
    since checking an HMAC needs the key itself."""

    __tablename__ = "benchmark_members"
    id: int = Field(default=None, primary_key=True)
    #: The member's name in the publication URL ("region-orebro").
    key: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    name: str = Field(max_length=200)
    secret_sealed: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class BenchmarkParticipant(SQLModel, table=True):
    """One organisation in the comparison: one of this installation's own (``organisation_id``)
    or one a hub member publishes for (``member_id``). Its row is its sharing choice."""

    __tablename__ = "benchmark_participants"
    id: int = Field(default=None, primary_key=True)
    #: The participant's code: an own organisation's slug, or the code a member registered.
    code: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    organisation_id: int | None = Field(
        default=None,
        foreign_key="organisations.id",
        ondelete="CASCADE",
        sa_column_kwargs={"unique": True},
    )
    member_id: int | None = Field(
        default=None, foreign_key="benchmark_members.id", ondelete="CASCADE", index=True
    )
    #: The name it is shown under: its own, unless ``anonymous``.
    name: str = Field(default="", max_length=200)
    anonymous: bool = False
    #: "Kommun A": given once, never reused, what the others see of an anonymous participant.
    alias: str = Field(max_length=32, sa_column_kwargs={"unique": True}, nullable=False)
    #: The municipality group where known (SKR's "B5", a KOSTRA group), else "".
    group: str = Field(default="", max_length=64)
    country: str = Field(default="", max_length=2)
    #: Whether it takes part now; withdrawing sets it false (its figures leave the comparison).
    sharing: bool = False
    #: The figure keys it shares (``benchmarking.figures.FIGURES``).
    figures: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


class BenchmarkPublication(SQLModel, table=True):
    """One version of a participant's month as a hub member published it (hub side); every
    version is kept, the comparison reads the newest."""

    __tablename__ = "benchmark_publications"
    __table_args__ = (
        sa.UniqueConstraint("participant_id", "month", "report_version"),
        sa.UniqueConstraint("member_id", "message_id"),
        sa.Index("ix_benchmark_publications_month", "month", "participant_id"),
    )
    id: int = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="benchmark_participants.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="benchmark_members.id", ondelete="CASCADE")
    month: str = Field(max_length=7)
    report_version: int
    report_sha256: str = Field(max_length=64)
    definitions_version: str = Field(max_length=64)
    generated_at: str = Field(max_length=32)
    #: {figure key: {"value", "numerator", "denominator"}} as published and checked.
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: The Standard Webhooks message id: a second delivery of it is a replay.
    message_id: str = Field(max_length=128)
    received_at: datetime = Field(default_factory=utcnow)


class BenchmarkOutbox(SQLModel, table=True):
    """What this installation sends to its hub (publisher side): one row per message, retried
    with backoff like the report notifications."""

    __tablename__ = "benchmark_outbox"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "fingerprint"),
        sa.Index("ix_benchmark_outbox_due", "status", "next_attempt_at"),
    )
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    #: "published" (a month's figures) or "withdrawn".
    kind: str = Field(max_length=16)
    #: "2026-06"; "" for a withdrawal.
    month: str = Field(default="", max_length=7)
    report_version: int | None = None
    #: sha256 of what is said (hub, kind, body): the same message is queued once.
    fingerprint: str = Field(max_length=64)
    message_id: str = Field(max_length=128, sa_column_kwargs={"unique": True}, nullable=False)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: "pending", "delivered" or "failed" (gave up, or refused by the hub).
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
