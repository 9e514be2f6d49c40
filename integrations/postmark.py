"""Postmark inbound webhooks: JSON, authenticated by HTTP basic auth in the webhook URL."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

from integrations.base import (
    PayloadError,
    Reply,
    RequestParts,
    SecretKind,
    SignatureError,
)
from integrations.mail import (
    InboundMessage,
    MailAdapter,
    addresses,
    message_ids,
    parse_date,
)


def _hash(credentials: str) -> str:
    return "sha256:" + hashlib.sha256(credentials.encode()).hexdigest()


def _full(value: Any) -> list[str]:
    """Addresses from Postmark's ToFull/CcFull lists."""
    if not isinstance(value, list):
        return []
    return [str(item.get("Email", "")).lower() for item in value if isinstance(item, dict)]


def _text(value: Any) -> str | None:
    """A JSON field that should be text; anything else counts as absent (fuzzing found these)."""
    return value if isinstance(value, str) else None


class PostmarkAdapter(MailAdapter):
    """Postmark inbound e-mail."""

    name = "postmark"
    kinds = ("",)
    secret_kind = SecretKind.BASIC_AUTH
    secret_help = "user:password for the webhook URL's basic auth (made for you if left out)"
    #: Postmark retries any other answer ten times over about six hours, and stops on a 403
    #: (postmarkapp.com/developer/user-guide/inbound/parse-an-email).
    refusal_status = 403
    endpoints = "inbound webhook URL: https://<user:password>@<host>{path}"

    def stored_secret(self, secret: str) -> str:
        """``user:password``, kept as a hash: basic auth only needs to compare."""
        if ":" not in secret:
            raise ValueError("the Postmark secret is user:password (the URL's basic auth)")
        return _hash(secret)

    def verify(self, request: RequestParts, stored: str) -> None:
        header = request.header("authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value:
            raise SignatureError("basic auth is missing (put user:password in the webhook URL)")
        try:
            credentials = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise SignatureError("basic auth is malformed") from None
        if not hmac.compare_digest(_hash(credentials), stored):
            raise SignatureError("basic auth user or password is wrong")

    def message(self, request: RequestParts) -> InboundMessage:
        data = request.json()
        if not isinstance(data, dict):
            raise PayloadError("the body must be a JSON object")
        headers: dict[str, str] = {}
        for item in data.get("Headers") or []:
            if isinstance(item, dict) and item.get("Name"):
                headers.setdefault(str(item["Name"]).lower(), str(item.get("Value", "")))
        full = data.get("FromFull")
        from_full: dict[str, Any] = full if isinstance(full, dict) else {}
        sender = str(from_full.get("Email") or "").lower() or next(
            iter(addresses(_text(data.get("From")))), None
        )
        recipients = _full(data.get("ToFull")) + _full(data.get("CcFull"))
        recipients += addresses(_text(data.get("OriginalRecipient")))
        ids = message_ids(headers.get("message-id"))
        return InboundMessage(
            message_id=ids[0] if ids else None,
            in_reply_to=message_ids(headers.get("in-reply-to")),
            references=message_ids(headers.get("references")),
            sender=sender,
            recipients=list(dict.fromkeys(a for a in recipients if a)),
            subject=_text(data.get("Subject")),
            date=parse_date(_text(data.get("Date"))),
            arrived_at=request.received_at,
            reply_to=addresses(_text(data.get("ReplyTo"))),
            mailbox_hash=_text(data.get("MailboxHash")) or None,
            provider_id=_text(data.get("MessageID")) or None,
        )

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        return self.threader.events(self.message(request), query_queue=request.query_value("queue"))

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        return Reply("", "text/plain", 200)
