"""Pseudonymisation of personal data (phone numbers, e-mail addresses) on arrival.

A keyed hash (HMAC-SHA256) lets the same caller be recognised across contacts without the number
or address ever being stored. The hash is prefixed with a short id of the key, so that a rotated key
can be told apart from the old one (see docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

#: Country calling codes of the countries the service knows, for numbers given without one.
CALLING_CODES = {"SE": "46", "NO": "47"}

_NOT_DIGITS = re.compile(r"[^\d]")


def normalise_caller(value: str, country: str | None = None) -> str:
    """One canonical form per person: lower-cased addresses, E.164-like numbers."""
    value = value.strip()
    if "@" in value:
        return value.lower()
    if value.lower().startswith(("sip:", "tel:")):
        value = value.split(":", 1)[1].split("@", 1)[0]
    plus = value.startswith("+")
    digits = _NOT_DIGITS.sub("", value)
    if not digits:
        return value.lower()
    if plus:
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    code = CALLING_CODES.get((country or "").upper())
    if code and digits.startswith("0"):
        return "+" + code + digits[1:]
    return digits


@lru_cache(maxsize=16)
def key_id(key: bytes) -> str:
    """A short, non-secret name for a pseudonymisation key."""
    return hashlib.sha256(b"servicedesk-key-id:" + key).hexdigest()[:6]


@lru_cache(maxsize=16)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


@lru_cache(maxsize=8192)
def pseudonymise(value: str, key: bytes, country: str | None = None) -> str:
    """The stored stand-in for a phone number or e-mail address.

    Memoised: a contact's events repeat the same caller, and a keyed hash per event is a
    measurable share of ingest time.
    """
    mac = _keyed(key).copy()
    mac.update(normalise_caller(value, country).encode())
    return f"{key_id(key)}:{mac.hexdigest()[:40]}"


def keyed_digest(key: bytes, value: str) -> str:
    """A keyed hash of an identifier that is kept only to be matched again (an e-mail thread's
    Message-ID, plus token or subject key): the text itself is never stored."""
    mac = _keyed(key).copy()
    mac.update(value.encode())
    return mac.hexdigest()
