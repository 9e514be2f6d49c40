"""What every provider adapter shares: the request it sees, the Protocol it follows, its errors.

An adapter turns one provider delivery into canonical event dicts (the generic API's shape, see
``servicedesk.ingest.schemas.EventIn``); everything after that is the core's. Adapters know
nothing of Flask or the database, so they are tested with plain values.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar, Protocol, Self
from urllib.parse import parse_qs


class SignatureError(Exception):
    """The delivery is not provably from the provider (forged, stale, replayed or unsigned)."""


class PayloadError(Exception):
    """The delivery is authentic but cannot be read as the provider's documented payload."""


@dataclass(frozen=True)
class RequestParts:
    """One delivery as the provider made it; ``url`` is the public URL it called (it is signed)."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The endpoint within the integration ("status", "gather", "voice_start", ...), or "".
    kind: str = ""
    #: The integration's secret token from the URL path (the credential of unsigned providers).
    token: str = ""
    remote_addr: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def query(self) -> dict[str, list[str]]:
        _, _, query = self.url.partition("?")
        return parse_qs(query, keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, list[str]]:
        """The body's form fields (url-encoded or multipart), every value of each."""
        if self.content_type == "multipart/form-data":
            return _multipart_fields(self.body, self.header("content-type") or "")
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError("the form body is not UTF-8") from exc
        return parse_qs(text, keep_blank_values=True)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadError("the body is not JSON") from exc


def _multipart_fields(body: bytes, content_type: str) -> dict[str, list[str]]:
    """Text fields of a multipart body (attachments are skipped: nothing here needs them)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, list[str]] = {}
    if not message.is_multipart():
        raise PayloadError("the multipart body has no parts")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or part.get_filename():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # (decode=True gives the part's bytes, or None)
            payload = b""
        charset = part.get_content_charset() or "utf-8"
        fields.setdefault(str(name), []).append(payload.decode(charset, errors="replace"))
    return fields


def first(fields: Mapping[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """What the endpoint answers the provider (TwiML, 46elks call actions, or nothing)."""

    body: str = ""
    content_type: str = "text/plain"
    status: int = 200


class SecretKind(Enum):
    """What an integration's secret is, and so how it is kept."""

    #: A key the provider signs with (Twilio Auth Token, Mailgun signing key): verification
    #: needs the key itself, so it is stored encrypted with a key derived from the app's secret.
    HMAC_KEY = "hmac_key"
    #: A public key (Telnyx): not secret, stored as given after checking it is one.
    PUBLIC_KEY = "public_key"
    #: ``user:password`` the provider sends as basic auth (Postmark): only its hash is kept;
    #: made for the administrator when not given.
    BASIC_AUTH = "basic_auth"
    #: Nothing from the provider (46elks signs nothing): the URL's own token is the credential.
    URL_TOKEN = "url_token"


class AdapterStorage(Protocol):
    """What the core lends a stateful adapter: memory shared by every worker process."""

    def nonces(self) -> NonceStore: ...

    def threads(self) -> ThreadIndex: ...


class Adapter(Protocol):
    """A provider's webhook adapter, and what it declares about its provider.

    The declarations are all the core reads about a provider: adding one is its adapter and a
    line in ``integrations.PROVIDERS``.
    """

    #: The provider's name as the CLI and the URL spell it.
    name: ClassVar[str]
    #: The endpoints (``RequestParts.kind``) the provider calls; "" alone means one endpoint.
    kinds: ClassVar[tuple[str, ...]]
    #: What the integration's secret is (see SecretKind).
    secret_kind: ClassVar[SecretKind]
    #: What to give ``--secret`` ("" when the provider needs none).
    secret_help: ClassVar[str]
    #: The channel its events are about ("phone" or "email").
    channel: ClassVar[str]
    #: Whether verifying or parsing writes (replay nonces, e-mail thread keys): such deliveries
    #: hold the single writer's turn from the start.
    stateful: ClassVar[bool]
    #: Request headers worth keeping with each delivery (the provider's ids and signatures).
    audit_headers: ClassVar[tuple[str, ...]]
    #: The HTTP status that tells the provider to stop retrying a delivery no retry can mend
    #: (the rejection path's final refusals), where its documentation names one; None keeps the
    #: usual 404/413/422.
    refusal_status: ClassVar[int | None]
    #: The URLs to give the provider, below the integration's path (``{path}``), for the CLI.
    endpoints: ClassVar[str]

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> Adapter:
        """The adapter for one integration's options, with the core's storage where it needs it."""
        ...

    def stored_secret(self, secret: str) -> str:
        """What to keep in the database for ``secret`` (a hash where verification allows)."""
        ...

    def verify(self, request: RequestParts, stored: str) -> None:
        """Return if the delivery is authentic, else raise SignatureError saying why."""
        ...

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        """The canonical events in the delivery (possibly none); PayloadError if unreadable."""
        ...

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        """What to answer the provider once the events are stored."""
        ...


class OptionsAdapter:
    """What every adapter's construction shares: the integration's options as given.

    An adapter that needs none of the core's storage is built from its options alone; one that
    does overrides ``build`` to take what it needs from the storage. The declarations default
    to a stateless provider with no headers of its own and the usual refusal statuses.
    """

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    secret_kind: ClassVar[SecretKind]
    secret_help: ClassVar[str]
    channel: ClassVar[str]
    endpoints: ClassVar[str]
    stateful: ClassVar[bool] = False
    audit_headers: ClassVar[tuple[str, ...]] = ()
    refusal_status: ClassVar[int | None] = None

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> Self:
        """The adapter for one integration's options (the storage is not needed)."""
        return cls(options)

    def stored_secret(self, secret: str) -> str:
        raise NotImplementedError

    def verify(self, request: RequestParts, stored: str) -> None:
        raise NotImplementedError

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        raise NotImplementedError

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        raise NotImplementedError


class ThreadIndex(Protocol):
    """Remembers which contact a message id, plus token or subject key belongs to."""

    def find(self, keys: Sequence[str]) -> str | None:
        """The contact of the first known key."""
        ...

    def remember(self, keys: Sequence[str], contact_id: str) -> None: ...


class NonceStore(Protocol):
    """Remembers single-use values (Mailgun tokens) long enough to refuse a replay."""

    def add(self, key: str, expires_at: float) -> bool:
        """Remember ``key``; False if it was already there (a replay)."""
        ...


class MemoryNonceStore:
    """A process-local NonceStore, for tests and single-process use."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            for old in [k for k, exp in self._seen.items() if exp < now]:
                del self._seen[old]
            if key in self._seen:
                return False
            self._seen[key] = expires_at
            return True


class MemoryThreadIndex:
    """A process-local ThreadIndex, for tests and one-off use."""

    def __init__(self) -> None:
        self._contacts: dict[str, str] = {}
        self._lock = threading.Lock()

    def find(self, keys: Sequence[str]) -> str | None:
        with self._lock:
            for key in keys:
                if key in self._contacts:
                    return self._contacts[key]
        return None

    def remember(self, keys: Sequence[str], contact_id: str) -> None:
        with self._lock:
            for key in keys:
                self._contacts.setdefault(key, contact_id)


class MemoryStorage:
    """AdapterStorage in this process's memory, for tests and one-off use."""

    def __init__(self) -> None:
        self._nonces = MemoryNonceStore()
        self._threads = MemoryThreadIndex()

    def nonces(self) -> NonceStore:
        return self._nonces

    def threads(self) -> ThreadIndex:
        return self._threads


def rfc3339(value: datetime) -> str:
    """An aware instant as RFC 3339 text in UTC (naive input is taken to be UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def short_id(*parts: str, limit: int = 128) -> str:
    """An event id from provider identifiers; hashed only when too long for the contract."""
    text = ":".join(parts)
    if len(text) <= limit:
        return text
    return parts[0] + ":" + hashlib.sha256(text.encode()).hexdigest()


def bounded(value: str | None, limit: int) -> str | None:
    """A text field cut to the contract's length (None or blank stays None)."""
    if value is None:
        return None
    value = value.strip()
    return value[:limit] or None


def score_of(digits: str | None) -> int | None:
    """A survey grade from keypad digits: one digit 1-5, else nothing."""
    if digits is None:
        return None
    digits = digits.strip().rstrip("#")
    if len(digits) == 1 and digits in "12345":
        return int(digits)
    return None


#: Wrap-up keys (digit or word) that mean "answered directly"; any other key means "not directly".
DIRECT_KEYS = frozenset({"1", "direct", "yes", "ja"})


def direct_answer_of(code: str | None) -> bool | None:
    """The verdict of an agent's wrap-up code; None when no code was given."""
    if code is None or not code.strip():
        return None
    return code.strip().rstrip("#").lower() in DIRECT_KEYS


QUESTIONS = ("treatment", "ease", "clarity")


def question_of(value: str | None) -> str:
    """The survey question a prompt asks; treatment ("bemötande") unless the URL names another."""
    if value is None or value == "":
        return "treatment"
    if value not in QUESTIONS:
        raise PayloadError(f"question must be one of {', '.join(QUESTIONS)}")
    return value


def keypad_events(
    provider: str,
    contact: str,
    digits: str | None,
    *,
    purpose: str | None,
    question: str | None,
    occurred_at: str,
    extra: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """A keypad answer: the citizen's grade, or (purpose "wrapup") the agent's verdict."""
    if purpose == "wrapup":
        verdict = direct_answer_of(digits)
        if verdict is None:
            return []
        return [
            {
                "id": short_id(provider, contact, "wrapup"),
                "type": "call.ended",
                "contact_id": contact,
                "occurred_at": occurred_at,
                "direct_answer": verdict,
                **extra,
            }
        ]
    score = score_of(digits)
    if score is None:
        return []
    asked = question_of(question)
    return [
        {
            "id": short_id(provider, contact, "survey", asked),
            "type": "survey.response",
            "contact_id": contact,
            "occurred_at": occurred_at,
            "question": asked,
            "score": score,
            "channel": "phone",
            **extra,
        }
    ]
