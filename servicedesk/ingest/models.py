"""Tables of the ingest feature: who may send, what arrived, and the canonical events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow

#: What a token may do. An ingest token lives in a telephony system's configuration, so it must
#: not read reports; a reports token lives in a BI tool, so it must not send events.
INGEST = "ingest"
REPORTS_READ = "reports:read"
SCOPES = (INGEST, REPORTS_READ)


class IngestToken(SQLModel, table=True):
    """A bearer token of an organisation; only its SHA-256 is stored.

    The token carries 256 random bits, so a fast hash is as safe as a slow one here. The signing
    secret cannot be hashed: verifying an HMAC needs the key itself.

    Every token has exactly one ``scope`` (``SCOPES``). Report-reading tokens are rows of this
    same table rather than of a table of their own: they are made, listed, revoked, hashed and
    looked up (with the same short cache) exactly like ingest tokens, so one column keeps one
    code path for all of that, and one unique hash index means a token can never be found as
    two things. The table keeps its old name, which is merely historical now.
    """

    __tablename__ = "ingest_tokens"
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    #: The first characters of the token, to tell tokens apart in lists.
    prefix: str = Field(max_length=16)
    label: str = Field(default="", max_length=200)
    signing_secret: str | None = Field(default=None, max_length=200)
    #: One of SCOPES; rows made before scopes existed are ingest tokens.
    scope: str = Field(default=INGEST, max_length=32, sa_column_kwargs={"server_default": INGEST})
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Delivery(SQLModel, table=True):
    """One HTTP delivery exactly as it arrived, kept whether it was accepted or not."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_org_received", "organisation_id", "received_at"),)
    id: int = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisations.id", ondelete="SET NULL"
    )
    #: "api" for the generic events API, else the provider's name.
    source: str = Field(max_length=32)
    received_at: datetime = Field(default_factory=utcnow)
    #: "accepted" or "rejected".
    status: str = Field(max_length=16)
    http_status: int
    reason: str | None = Field(default=None, sa_type=sa.Text)
    content_type: str | None = Field(default=None, max_length=200)
    #: The headers that matter for audit (signatures, ids), not cookies or tokens.
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: The whole body; of a delivery refused before its sender proved who it is, only the first
    #: bytes (``body_size`` and ``body_sha256`` describe the whole).
    body: bytes = Field(sa_column=Column(sa.LargeBinary, nullable=False))
    accepted: int = 0
    duplicates: int = 0
    #: The client's address (after the trusted proxies), the path it called, the size of the
    #: body it sent and the SHA-256 of that body (null when it was too large to be read).
    source_address: str | None = Field(default=None, max_length=64)
    path: str | None = Field(default=None, max_length=300)
    body_size: int | None = Field(default=None, sa_type=sa.BigInteger)
    body_sha256: str | None = Field(default=None, max_length=64)


class RefusedDay(SQLModel, table=True):
    """What deliveries refused before authentication stored on one UTC day, against the cap.

    One row per day, raised atomically by every worker, so the cap holds across processes.
    """

    __tablename__ = "refused_days"
    day: date = Field(primary_key=True)
    kept: int = 0
    bytes: int = Field(default=0, sa_type=sa.BigInteger)
    #: When the day's cap was first reached (logged once, by whoever reached it).
    cap_reached_at: datetime | None = None


class Event(SQLModel, table=True):
    """A canonical event; (organisation, event id) is unique, so a repeat is a duplicate."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "event_id"),
        sa.Index("ix_events_contact", "organisation_id", "channel", "contact_id"),
    )
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    delivery_id: int | None = Field(
        default=None, foreign_key="deliveries.id", ondelete="SET NULL", index=True
    )
    event_id: str = Field(max_length=128)
    type: str = Field(max_length=32)
    #: "phone", "email", or for a survey response the channel it names (null: not said).
    channel: str | None = Field(default=None, max_length=8)
    contact_id: str = Field(max_length=256)
    occurred_at: datetime
    queue: str | None = Field(default=None, max_length=128)
    agent: str | None = Field(default=None, max_length=128)
    caller_hash: str | None = Field(default=None, max_length=80)
    direct_answer: bool | None = None
    question: str | None = Field(default=None, max_length=16)
    score: int | None = None
    received_at: datetime = Field(default_factory=utcnow)
