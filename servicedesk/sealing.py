"""Secrets the service must use again (a provider's signing key, a notification URL) kept
encrypted with a key derived from the app's secret key (XSalsa20-Poly1305, PyNaCl)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

_SEALED_PREFIX = "box1:"

#: What a sealed value is for: each purpose gets a key of its own from the app's secret key.
#: (The integrations' label predates the others; changing it would lock out stored values.)
INTEGRATIONS = b"servicedesk integrations v1"


class SealError(ValueError):
    """A sealed value that cannot be opened: the secret key changed, or the value is damaged."""


def _box(secret_key: str | bytes, purpose: bytes) -> SecretBox:
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return SecretBox(hmac.new(key, purpose, hashlib.sha256).digest())


def seal(secret: str, secret_key: str | bytes, purpose: bytes = INTEGRATIONS) -> str:
    """The secret encrypted with a key derived from the app's secret key for ``purpose``."""
    box = _box(secret_key, purpose)
    return _SEALED_PREFIX + base64.b64encode(box.encrypt(secret.encode())).decode()


def unseal(stored: str, secret_key: str | bytes, purpose: bytes = INTEGRATIONS) -> str:
    """The secret again (a value stored before sealing existed is returned as it is)."""
    if not stored.startswith(_SEALED_PREFIX):
        return stored
    try:
        data = base64.b64decode(stored[len(_SEALED_PREFIX) :])
        return _box(secret_key, purpose).decrypt(data).decode()
    except (CryptoError, ValueError) as exc:
        raise SealError(
            "a sealed value cannot be decrypted (SERVICEDESK_SECRET_KEY changed?)"
        ) from exc
