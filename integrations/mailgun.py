"""Mailgun inbound routes (``forward()``): HMAC-SHA256 of timestamp+token, tokens single-use."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from integrations.base import (
    AdapterStorage,
    MemoryNonceStore,
    NonceStore,
    PayloadError,
    Reply,
    RequestParts,
    SecretKind,
    SignatureError,
    first,
)
from integrations.mail import (
    InboundMessage,
    MemoryThreadIndex,
    Threader,
    ThreadIndex,
    addresses,
    message_ids,
    parse_date,
)

TOLERANCE_SECONDS = 300


def sign(key: str, timestamp: str, token: str) -> str:
    """Mailgun's signature: hex HMAC-SHA256 of timestamp followed by token."""
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def _headers(fields: Mapping[str, list[str]]) -> dict[str, str]:
    """The message's headers, lower-case names; ``message-headers`` wins over loose fields."""
    headers: dict[str, str] = {}
    raw = first(fields, "message-headers")
    if raw:
        try:
            pairs = json.loads(raw)
        except ValueError as exc:
            raise PayloadError("message-headers is not JSON") from exc
        for pair in pairs if isinstance(pairs, list) else []:
            if isinstance(pair, list) and len(pair) == 2:
                headers.setdefault(str(pair[0]).lower(), str(pair[1]))
    for name in (
        "Message-Id",
        "In-Reply-To",
        "References",
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Subject",
        "Date",
    ):
        value = first(fields, name)
        if value and name.lower() not in headers:
            headers[name.lower()] = value
    return headers


class MailgunAdapter:
    """Mailgun inbound e-mail."""

    name = "mailgun"
    kinds = ("",)
    secret_kind = SecretKind.HMAC_KEY
    secret_help = "the HTTP webhook signing key"
    channel = "email"
    stateful = True
    audit_headers: tuple[str, ...] = ()
    #: Mailgun retries a route's POST for 8 hours unless it gets a 200 or a 406
    #: (documentation.mailgun.com, "Receiving messages via HTTP through a forward() action").
    refusal_status = 406
    endpoints = 'route action: forward("<public URL>{path}")'

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> MailgunAdapter:
        return cls(options, nonces=storage.nonces(), threads=storage.threads())

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        nonces: NonceStore | None = None,
        threads: ThreadIndex | None = None,
    ) -> None:
        self.options = dict(options or {})
        self.nonces: NonceStore = nonces if nonces is not None else MemoryNonceStore()
        self.threader = Threader(self.name, self.options, threads or MemoryThreadIndex())

    def stored_secret(self, secret: str) -> str:
        # The webhook signing key is the HMAC key itself: it has to be kept, not hashed.
        return secret

    def verify(self, request: RequestParts, stored: str) -> None:
        fields = request.form()
        timestamp = first(fields, "timestamp")
        token = first(fields, "token")
        signature = first(fields, "signature")
        if not timestamp or not token or not signature:
            raise SignatureError("timestamp, token and signature are required")
        try:
            ts = int(timestamp)
        except ValueError:
            raise SignatureError("timestamp is not a Unix time") from None
        expected = sign(stored, timestamp, token)
        if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            raise SignatureError("signature does not match")
        now = request.received_at.timestamp()
        tolerance = int(self.options.get("tolerance_seconds") or TOLERANCE_SECONDS)
        if abs(now - ts) > tolerance:
            raise SignatureError(f"timestamp is more than {tolerance} s off")
        if not self.nonces.add(f"mailgun:{token}", ts + 2 * tolerance):
            raise SignatureError("token was used before (a replay)")

    def message(self, request: RequestParts) -> InboundMessage:
        fields = request.form()
        headers = _headers(fields)
        arrived = request.received_at
        timestamp = first(fields, "timestamp")
        if timestamp and timestamp.isdigit():
            arrived = datetime.fromtimestamp(int(timestamp), UTC)
        sender = addresses(headers.get("from") or first(fields, "sender"))
        recipients = addresses([headers.get("to", ""), headers.get("cc", "")])
        recipients += addresses(first(fields, "recipient"))
        ids = message_ids(headers.get("message-id"))
        return InboundMessage(
            message_id=ids[0] if ids else None,
            in_reply_to=message_ids(headers.get("in-reply-to")),
            references=message_ids(headers.get("references")),
            sender=sender[0] if sender else None,
            recipients=list(dict.fromkeys(recipients)),
            subject=headers.get("subject") or first(fields, "subject"),
            date=parse_date(headers.get("date")),
            arrived_at=arrived,
            reply_to=addresses(headers.get("reply-to")),
        )

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        return self.threader.events(self.message(request), query_queue=request.query_value("queue"))

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        return Reply("", "text/plain", 200)
