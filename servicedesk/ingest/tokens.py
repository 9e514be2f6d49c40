"""Ingest tokens: made once, shown once, stored as a hash."""

from __future__ import annotations

import base64
import hashlib
import secrets

import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.ingest.models import IngestToken
from servicedesk.orgs.models import Organisation

TOKEN_PREFIX = "sdk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_token(
    session: Session, org: Organisation, *, signing: bool = False, label: str = ""
) -> tuple[IngestToken, str]:
    """A new token row and the token itself (the only time it exists in clear)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = IngestToken(
        organisation_id=org.id,  # type: ignore[arg-type]
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        label=label,
        signing_secret=new_signing_secret() if signing else None,
    )
    session.add(row)
    session.flush()
    return row, token


def find_token(session: Session, token: str) -> IngestToken | None:
    """The live token row for a presented bearer token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return session.scalars(
        sa.select(IngestToken).where(
            IngestToken.token_hash == hash_token(token), IngestToken.revoked_at.is_(None)
        )
    ).first()
