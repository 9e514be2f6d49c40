"""Tables of the webhooks feature: configured integrations and what verification remembers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class Integration(SQLModel, table=True):
    """One provider connected to one organisation, reached at /hooks/<provider>/<token>.

    Only the URL token's SHA-256 is stored (it carries 256 random bits). ``secret`` holds what
    verification needs: a hash where comparing suffices (Postmark, 46elks), the public key
    (Telnyx), or the HMAC key encrypted with a key derived from SERVICEDESK_SECRET_KEY
    (Twilio, Mailgun), because an HMAC cannot be checked without its key.
    """

    __tablename__ = "integrations"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "provider"),)
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    provider: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    #: The first characters of the token, to tell integrations apart in lists.
    token_prefix: str = Field(max_length=16)
    secret: str = Field(default="", max_length=600)
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class WebhookNonce(SQLModel, table=True):
    """A single-use value a provider signed (a Mailgun token), kept until it could not be fresh."""

    __tablename__ = "webhook_nonces"
    key: str = Field(primary_key=True, max_length=200)
    expires_at: datetime = Field(index=True)


class EmailThread(SQLModel, table=True):
    """Which contact a message id, plus-address token or subject key belongs to.

    Keys are stored as keyed hashes (the pseudonymisation key), since a subject key is derived
    from the citizen's address.
    """

    __tablename__ = "email_threads"
    organisation_id: int = Field(
        foreign_key="organisations.id", ondelete="CASCADE", primary_key=True
    )
    key_hash: str = Field(primary_key=True, max_length=64)
    contact_id: str = Field(max_length=256)
    created_at: datetime = Field(default_factory=utcnow)
