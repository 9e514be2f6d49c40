"""Integrations: configure them, find them from a webhook URL, and give adapters their storage.

Domain functions flush, never commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlmodel import Session

from integrations import PROVIDERS, Adapter
from integrations.base import MemoryStorage, NonceStore, SecretKind, ThreadIndex
from servicedesk.db import dialect_of, insert_for
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import utcnow
from servicedesk.webhooks.models import EmailThread, Integration, WebhookNonce

TOKEN_PREFIX = "wh_"
_SEALED_PREFIX = "box1:"


class IntegrationError(Exception):
    """A request to configure an integration that cannot be met; the message says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: What a sealed value is for: each purpose gets a key of its own from the app's secret key.
INTEGRATIONS = b"servicedesk integrations v1"


def _box(secret_key: str | bytes, purpose: bytes = INTEGRATIONS) -> SecretBox:
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return SecretBox(hmac.new(key, purpose, hashlib.sha256).digest())


def seal(secret: str, secret_key: str | bytes, purpose: bytes = INTEGRATIONS) -> str:
    """The secret encrypted (XSalsa20-Poly1305) with a key derived from the app's secret key."""
    box = _box(secret_key, purpose)
    return _SEALED_PREFIX + base64.b64encode(box.encrypt(secret.encode())).decode()


def unseal(stored: str, secret_key: str | bytes, purpose: bytes = INTEGRATIONS) -> str:
    if not stored.startswith(_SEALED_PREFIX):
        return stored
    try:
        data = base64.b64decode(stored[len(_SEALED_PREFIX) :])
        return _box(secret_key, purpose).decrypt(data).decode()
    except (CryptoError, ValueError) as exc:
        raise IntegrationError(
            "the integration's secret cannot be decrypted (SERVICEDESK_SECRET_KEY changed?); "
            "remove and add the integration again"
        ) from exc


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
            Integration.organisation_id == org.id, Integration.provider == provider
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
        organisation_id=org.id,  # type: ignore[arg-type]
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
            .where(Integration.organisation_id == org.id)
            .order_by(Integration.provider)
        )
    )


def remove_integration(session: Session, org: Organisation, provider: str) -> bool:
    result = session.execute(
        sa.delete(Integration).where(
            Integration.organisation_id == org.id, Integration.provider == provider
        )
    )
    forget_integrations()
    return bool(result.rowcount)  # type: ignore[attr-defined]


_HOOKS = Integration.__table__  # type: ignore[attr-defined]
_ORGS = Organisation.__table__  # type: ignore[attr-defined]
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
#: How long a process trusts an integration it has looked up; a removal (or a changed option)
#: reaches every worker within this many seconds. Unknown URLs are never cached.
HOOK_CACHE_SECONDS = 10.0
_hook_cache: dict[tuple[str, str], tuple[float, Integration, Organisation]] = {}


def find_integration(
    session: Session, provider: str, token: str
) -> tuple[Integration, Organisation] | None:
    """The integration a webhook URL names and its organisation (detached), or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    key = (provider, hash_token(token))
    now = time.monotonic()
    cached = _hook_cache.get(key)
    if cached is not None and now - cached[0] < HOOK_CACHE_SECONDS:
        return cached[1], cached[2]
    row = (
        session.connection()
        .execute(_HOOK_SELECT, {"token_hash": key[1], "provider": provider})
        .mappings()
        .first()
    )
    if row is None:
        _hook_cache.pop(key, None)
        return None
    integration = Integration(**{c.name: row[f"i_{c.name}"] for c in _HOOKS.c})
    org = Organisation(**{c.name: row[f"o_{c.name}"] for c in _ORGS.c})
    if len(_hook_cache) > 10_000:
        _hook_cache.clear()
    _hook_cache[key] = (now, integration, org)
    return integration, org


def forget_integrations() -> None:
    """Drop every cached integration (after a removal in this process, and between tests)."""
    _hook_cache.clear()


class DbNonceStore:
    """Single-use values in the database, so every worker process sees every replay."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, expires_at: float) -> bool:
        now = utcnow()
        table = WebhookNonce.__table__  # type: ignore[attr-defined]
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
        return hmac.new(self.key, key.encode(), hashlib.sha256).hexdigest()

    def find(self, keys: Sequence[str]) -> str | None:
        if not keys:
            return None
        hashes = [self._hash(k) for k in keys]
        table = EmailThread.__table__  # type: ignore[attr-defined]
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
        table = EmailThread.__table__  # type: ignore[attr-defined]
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
    return unseal(integration.secret, secret_key)
