"""Bearer tokens (ingest, reports:read): made once, shown once, stored as a hash."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from servicedesk.cache import forget_after_commit, remember_row
from servicedesk.db import table_of
from servicedesk.ingest.models import INGEST, SCOPES, IngestToken
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import utcnow

TOKEN_PREFIX = "sdk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class TokenError(ValueError):
    """A token that cannot be made as asked; the message names the option at fault."""


def create_token(
    session: Session,
    org: Organisation,
    *,
    signing: bool = False,
    label: str = "",
    scope: str = INGEST,
) -> tuple[IngestToken, str]:
    """A new token row and the token itself (the only time it exists in clear)."""
    if scope not in SCOPES:
        raise TokenError(f"scope: one of {', '.join(SCOPES)}")
    if signing and scope != INGEST:
        raise TokenError("signing: only ingest tokens sign their deliveries")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = IngestToken(
        organisation_id=org.id,
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        label=label,
        signing_secret=new_signing_secret() if signing else None,
        scope=scope,
    )
    session.add(row)
    session.flush()
    return row, token


def token_details(row: IngestToken) -> dict[str, object]:
    """What the audit log keeps of a token (never the token or its secret)."""
    return {"token_id": row.id, "prefix": row.prefix, "scope": row.scope, "label": row.label}


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who a presented token speaks for, what it may do, and the secret its deliveries carry."""

    token_id: int
    organisation: Organisation
    signing_secret: str | None
    scope: str


_TOKENS = table_of(IngestToken)
_ORGS = table_of(Organisation)
# One statement for the token and its organisation: this runs on every ingest request.
_SENDER_SELECT = (
    sa.select(_TOKENS.c.id.label("token_id"), _TOKENS.c.signing_secret, _TOKENS.c.scope, *_ORGS.c)
    .join(_ORGS, _ORGS.c.id == _TOKENS.c.organisation_id)
    .where(_TOKENS.c.token_hash == sa.bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
)


#: How long the workers trust a token they have looked up. A revocation drops it at once
#: (``revoke_token``); this bounds only what changes behind the app's back.
SENDER_CACHE_SECONDS = 60


def sender_key(token_hash: str) -> str:
    return f"sender:{token_hash}"


def find_sender(session: Session, token: str, scope: str | None = INGEST) -> Sender | None:
    """The live token's sender for a presented bearer token, or None.

    None also when the token has another scope than ``scope`` (the default keeps every caller
    that predates scopes an ingest-only caller); ``scope=None`` finds a token of any scope, for
    a caller that answers a wrong scope differently from an unknown token.

    Known senders are kept in the shared cache (``servicedesk.cache``), which spares the
    database a query on every ingest request; unknown tokens are never cached, so a new token
    works at once.
    """
    sender = _lookup(session, token)
    if sender is None or (scope is not None and sender.scope != scope):
        return None
    return sender


#: The senders this worker has built, by token hash, with the row each was built from. The
#: shared cache stays the one source (a revocation or a change drops it there for every worker
#: at once); this only spares building the ``Organisation`` model again from the same row,
#: which was a tenth of a single-event delivery's time (docs/benchmarks.md, issue 17).
_BUILT: dict[str, tuple[dict[str, Any], Sender]] = {}
#: Senders kept built at most (a worker serving more tokens than this builds some again).
BUILT_SENDERS = 1000


def _lookup(session: Session, token: str) -> Sender | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    token_hash = hash_token(token)
    params = {"token_hash": token_hash}
    row = remember_row(
        session, sender_key(token_hash), SENDER_CACHE_SECONDS, _SENDER_SELECT, params
    )
    if row is None:
        _BUILT.pop(token_hash, None)
        return None
    built = _BUILT.get(token_hash)
    if built is not None and built[0] == row:
        return built[1]
    org = Organisation(**{c.name: row[c.name] for c in _ORGS.c})
    sender = Sender(row["token_id"], org, row["signing_secret"], row["scope"])
    if len(_BUILT) >= BUILT_SENDERS:
        _BUILT.clear()
    _BUILT[token_hash] = (dict(row), sender)
    return sender


def revoke_token(session: Session, row: IngestToken) -> None:
    """Revoke a token: refused by every worker from the commit on (flushes, never commits)."""
    row.revoked_at = row.revoked_at or utcnow()
    session.flush()
    forget_after_commit(session, sender_key(row.token_hash))
