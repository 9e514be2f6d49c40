"""Integrations: configure them, find them from a webhook URL, and give adapters their storage.

Domain functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from integrations import PROVIDERS, Adapter
from integrations.base import MemoryStorage, NonceStore, SecretKind, ThreadIndex
from servicedesk.cache import forget_after_commit, remember_row
from servicedesk.db import dialect_of, insert_for, table_of
from servicedesk.orgs.models import Organisation
from servicedesk.privacy import keyed_digest
from servicedesk.sealing import SealError, seal, unseal
from servicedesk.timeutil import utcnow
from servicedesk.webhooks.models import EmailThread, Integration, WebhookNonce

TOKEN_PREFIX = "wh_"


class IntegrationError(Exception):
    """A request to configure an integration that cannot be met; the message says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def webhook_path(provider: str, token: str) -> str:
    return f"/hooks/{provider}/{token}"


def add_integration(
    session: Session,
    org: Organisation,
    provider: str,
    *,
    secret: str | None,
    options: Mapping[str, Any],
    secret_key: str | bytes,
) -> tuple[Integration, str, str | None]:
    """A new integration, its URL token, and a generated secret to show once (or None)."""
    if provider not in PROVIDERS:
        raise IntegrationError(f"--provider: one of {', '.join(PROVIDERS)}")
    exists = session.scalars(
        sa.select(Integration).where(
            col(Integration.organisation_id) == org.id, col(Integration.provider) == provider
        )
    ).first()
    if exists is not None:
        raise IntegrationError(
            f"--provider: {org.slug} already has {provider}; remove it first to replace it"
        )
    cls = PROVIDERS[provider]
    # Built only to put the secret in its stored form: no delivery needs storage here.
    adapter = cls.build(options, MemoryStorage())
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    generated = None
    kind = cls.secret_kind
    if kind is SecretKind.URL_TOKEN:
        if secret:
            raise IntegrationError(
                f"--secret: {provider} signs nothing; the URL's token is the secret"
            )
        stored = adapter.stored_secret(token)
    elif kind is SecretKind.BASIC_AUTH:
        if not secret:
            secret = generated = "servicedesk:" + secrets.token_urlsafe(24)
        user, _, password = secret.partition(":")
        if not user or len(password) < 16:
            raise IntegrationError("--secret: user:password with a password of 16+ characters")
        stored = adapter.stored_secret(secret)
    else:
        if not secret:
            raise IntegrationError(f"--secret: {provider} needs {cls.secret_help}")
        try:
            stored = adapter.stored_secret(secret.strip())
        except ValueError as exc:
            raise IntegrationError(f"--secret: {exc}") from None
        if kind is SecretKind.HMAC_KEY:
            # An HMAC cannot be checked with a hash of its key: kept encrypted instead.
            stored = seal(stored, secret_key)
    row = Integration(
        organisation_id=org.id,
        provider=provider,
        token_hash=hash_token(token),
        token_prefix=token[: len(TOKEN_PREFIX) + 6],
        secret=stored,
        options=dict(options),
    )
    session.add(row)
    session.flush()
    return row, token, generated


def list_integrations(session: Session, org: Organisation) -> list[Integration]:
    return list(
        session.scalars(
            sa.select(Integration)
            .where(col(Integration.organisation_id) == org.id)
            .order_by(col(Integration.provider))
        )
    )


def remove_integration(session: Session, org: Organisation, provider: str) -> bool:
    """Disconnect a provider: its URL is refused by every worker from the commit on."""
    rows = session.scalars(
        sa.select(Integration).where(
            col(Integration.organisation_id) == org.id, col(Integration.provider) == provider
        )
    ).all()
    for row in rows:
        session.delete(row)
    session.flush()
    forget_after_commit(session, *(hook_key(row.provider, row.token_hash) for row in rows))
    return bool(rows)


_HOOKS = table_of(Integration)
_ORGS = table_of(Organisation)
# One statement for the integration and its organisation: this runs on every webhook delivery.
_HOOK_SELECT = (
    sa.select(
        *[c.label(f"i_{c.name}") for c in _HOOKS.c], *[c.label(f"o_{c.name}") for c in _ORGS.c]
    )
    .join(_ORGS, _ORGS.c.id == _HOOKS.c.organisation_id)
    .where(
        _HOOKS.c.token_hash == sa.bindparam("token_hash"),
        _HOOKS.c.provider == sa.bindparam("provider"),
    )
)
#: How long the workers trust an integration they have looked up. A removal drops it at once
#: (``remove_integration``); this bounds only what changes behind the app's back.
HOOK_CACHE_SECONDS = 60


def hook_key(provider: str, token_hash: str) -> str:
    return f"hook:{provider}:{token_hash}"


def find_integration(
    session: Session, provider: str, token: str
) -> tuple[Integration, Organisation] | None:
    """The integration a webhook URL names and its organisation (detached), or None.

    Known ones are kept in the shared cache (``servicedesk.cache``); unknown URLs never are.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    token_hash = hash_token(token)
    params = {"token_hash": token_hash, "provider": provider}
    key = hook_key(provider, token_hash)
    row = remember_row(session, key, HOOK_CACHE_SECONDS, _HOOK_SELECT, params)
    if row is None:
        return None
    integration = Integration(**{c.name: row[f"i_{c.name}"] for c in _HOOKS.c})
    org = Organisation(**{c.name: row[f"o_{c.name}"] for c in _ORGS.c})
    return integration, org


class DbNonceStore:
    """Single-use values in the database, so every worker process sees every replay."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, expires_at: float) -> bool:
        now = utcnow()
        table = table_of(WebhookNonce)
        self.session.execute(sa.delete(table).where(table.c.expires_at < now))
        stmt = (
            insert_for(dialect_of(self.session), table)
            .values(key=key[:200], expires_at=datetime.fromtimestamp(expires_at, UTC))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key)
        )
        return self.session.execute(stmt).first() is not None


class DbThreadIndex:
    """E-mail thread keys of one organisation, stored as keyed hashes."""

    def __init__(self, session: Session, organisation_id: int, key: bytes) -> None:
        self.session = session
        self.organisation_id = organisation_id
        self.key = key

    def _hash(self, key: str) -> str:
        return keyed_digest(self.key, key)

    def find(self, keys: Sequence[str]) -> str | None:
        if not keys:
            return None
        hashes = [self._hash(k) for k in keys]
        table = table_of(EmailThread)
        found = dict(
            self.session.execute(
                sa.select(table.c.key_hash, table.c.contact_id).where(
                    table.c.organisation_id == self.organisation_id,
                    table.c.key_hash.in_(hashes),
                )
            ).all()
        )
        return next((found[h] for h in hashes if h in found), None)

    def remember(self, keys: Sequence[str], contact_id: str) -> None:
        if not keys:
            return
        table = table_of(EmailThread)
        now = utcnow()
        rows = [
            {
                "organisation_id": self.organisation_id,
                "key_hash": h,
                "contact_id": contact_id,
                "created_at": now,
            }
            for h in dict.fromkeys(self._hash(k) for k in keys)
        ]
        self.session.execute(
            insert_for(dialect_of(self.session), table).on_conflict_do_nothing(
                index_elements=["organisation_id", "key_hash"]
            ),
            rows,
        )


class DbStorage:
    """The database-backed memory an adapter may ask for (AdapterStorage)."""

    def __init__(self, session: Session, organisation_id: int, pseudonym_key: bytes) -> None:
        self.session = session
        self.organisation_id = organisation_id
        self.pseudonym_key = pseudonym_key

    def nonces(self) -> NonceStore:
        return DbNonceStore(self.session)

    def threads(self) -> ThreadIndex:
        return DbThreadIndex(self.session, self.organisation_id, self.pseudonym_key)


def build_adapter(session: Session, integration: Integration, pseudonym_key: bytes) -> Adapter:
    """The provider's adapter with this integration's options and database-backed memory."""
    cls = PROVIDERS[integration.provider]
    storage = DbStorage(session, integration.organisation_id, pseudonym_key)
    return cls.build(integration.options or {}, storage)


def verification_secret(integration: Integration, secret_key: str | bytes) -> str:
    """What the adapter's verify() takes: the stored form, decrypted where it was sealed."""
    try:
        return unseal(integration.secret, secret_key)
    except SealError as exc:
        raise IntegrationError(
            "the integration's secret cannot be decrypted (SERVICEDESK_SECRET_KEY changed?); "
            "remove and add the integration again"
        ) from exc
