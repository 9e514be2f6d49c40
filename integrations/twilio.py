"""Twilio Programmable Voice: status callbacks, the <Gather> survey and wrap-up, and signatures.

Endpoints (``RequestParts.kind``): ``status`` takes StatusCallback requests; ``survey`` answers the
TwiML that asks the citizen for a grade; ``gather`` takes the <Gather> digit (a grade, or with
``?purpose=wrapup`` the agent's wrap-up key) and answers TwiML.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from xml.sax.saxutils import escape, quoteattr

from integrations.base import (
    PayloadError,
    Reply,
    RequestParts,
    SignatureError,
    bounded,
    first,
    keypad_events,
    rfc3339,
    short_id,
)

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
_HASHES = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}

#: CallStatus -> canonical type (StatusCallbackEvent "answered" arrives as CallStatus in-progress).
STATUS_TYPES = {
    "queued": "call.queued",
    "initiated": "call.queued",
    "ringing": "call.queued",
    "in-progress": "call.answered",
    "answered": "call.answered",
    "completed": "call.ended",
    "busy": "call.ended",
    "no-answer": "call.ended",
    "failed": "call.ended",
    "canceled": "call.ended",
}

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def signature_algorithm(settings_header: str | None) -> str:
    """The HMAC a request was signed with: SHA-256 for a SharedKey, else the Auth Token's SHA-1."""
    for part in (settings_header or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return "HMAC_SHA1"


def compute_signature(
    secret: str, url: str, params: Mapping[str, list[str]], algorithm: str = "HMAC_SHA1"
) -> str:
    """Twilio's signature: HMAC of the URL followed by every sorted name+value, base64."""
    digestmod = _HASHES.get(algorithm)
    if digestmod is None:
        raise SignatureError(f"unsupported signature algorithm {algorithm}")
    text = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            text += name + value
    mac = hmac.new(secret.encode(), text.encode(), digestmod)
    return base64.b64encode(mac.digest()).decode()


def _url_variants(url: str) -> set[str]:
    """The URL with and without its default port: Twilio signs either, depending on the product."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        bare = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
        return {url, urlunsplit(bare)}
    port = 443 if parts.scheme == "https" else 80
    with_port = parts._replace(netloc=f"{parts.netloc}:{port}" if host else parts.netloc)
    return {url, urlunsplit(with_port)}


def _parse_time(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return fallback
    return parsed if parsed.tzinfo is not None else fallback


def _fields(request: RequestParts) -> dict[str, list[str]]:
    if request.content_type == "application/json":
        data = request.json()
        if not isinstance(data, dict):
            raise PayloadError("the JSON body must be an object")
        return {str(k): [str(v)] for k, v in data.items() if v is not None}
    return request.form()


class TwilioAdapter:
    """Twilio Programmable Voice."""

    name = "twilio"
    kinds = ("status", "gather", "survey")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    def stored_secret(self, secret: str) -> str:
        # The Auth Token is the HMAC key itself: it has to be kept, not hashed.
        return secret

    def verify(self, request: RequestParts, stored: str) -> None:
        signature = request.header(SIGNATURE_HEADER)
        if not signature:
            raise SignatureError(f"{SIGNATURE_HEADER} is missing")
        algorithm = signature_algorithm(request.header(SETTINGS_HEADER))
        body_hash = request.query_value("bodySHA256")
        params: Mapping[str, list[str]]
        if body_hash is not None:
            # JSON bodies: the URL carries the body's SHA-256 and the body is not in the HMAC.
            actual = hashlib.sha256(request.body).hexdigest()
            if not hmac.compare_digest(actual, body_hash.lower()):
                raise SignatureError("bodySHA256 does not match the body")
            params = {}
        elif request.content_type == "application/x-www-form-urlencoded":
            params = request.form()
        else:
            params = {}
        for url in _url_variants(request.url):
            expected = compute_signature(stored, url, params, algorithm)
            if hmac.compare_digest(expected.encode(), signature.strip().encode()):
                return
        raise SignatureError(f"{SIGNATURE_HEADER} does not match (check SERVICEDESK_PUBLIC_URL)")

    def _queue(self, request: RequestParts) -> str | None:
        return bounded(request.query_value("queue") or self.options.get("queue"), 128)

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        if request.kind == "survey":
            return []
        fields = _fields(request)
        call_sid = first(fields, "CallSid")
        if not call_sid:
            raise PayloadError("CallSid is missing")
        if request.kind == "gather":
            return self._gather(request, fields, call_sid)
        return self._status(request, fields, call_sid)

    def _status(
        self, request: RequestParts, fields: dict[str, list[str]], call_sid: str
    ) -> list[dict[str, Any]]:
        status = (first(fields, "CallStatus") or "").lower()
        kind = STATUS_TYPES.get(status)
        if kind is None:
            raise PayloadError(f"CallStatus {status!r} is not a Twilio call status")
        when = rfc3339(_parse_time(first(fields, "Timestamp"), request.received_at))
        parent = first(fields, "ParentCallSid")
        base: dict[str, Any] = {"occurred_at": when}
        queue = self._queue(request)
        if queue:
            base["queue"] = queue
        if parent:
            # A child leg is the call to an agent: its answer is the agent's answer.
            if kind != "call.answered":
                return []
            event = {
                **base,
                "id": short_id("twilio", parent, call_sid, status),
                "type": kind,
                "contact_id": parent,
            }
            agent = bounded(first(fields, "To"), 128)
            if agent:
                event["agent"] = agent
            return [event]
        if kind == "call.answered" and self.options.get("answer_on") == "agent_leg":
            return []
        event = {**base, "id": short_id("twilio", call_sid, status), "type": kind}
        event["contact_id"] = call_sid
        direction = (first(fields, "Direction") or "inbound").lower()
        caller = first(fields, "From" if direction == "inbound" else "To")
        if kind == "call.queued" and caller:
            event["caller"] = bounded(caller, 320)
        return [event]

    def _gather(
        self, request: RequestParts, fields: dict[str, list[str]], call_sid: str
    ) -> list[dict[str, Any]]:
        contact = request.query_value("call") or first(fields, "ParentCallSid") or call_sid
        digits = first(fields, "Digits")
        when = rfc3339(request.received_at)
        queue = self._queue(request)
        return keypad_events(
            "twilio",
            contact,
            digits,
            purpose=request.query_value("purpose"),
            question=request.query_value("question"),
            occurred_at=when,
            extra={"queue": queue} if queue else {},
        )

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        language = quoteattr(str(self.options.get("language", "sv-SE")))
        if request.kind == "survey":
            action = _sibling_url(request.url, "gather")
            prompt = escape(
                str(
                    self.options.get(
                        "survey_prompt",
                        "Hur nöjd är du med bemötandet? Tryck en siffra från 1 till 5.",
                    )
                )
            )
            twiml = (
                '<?xml version="1.0" encoding="UTF-8"?><Response>'
                f'<Gather numDigits="1" timeout="10" action={quoteattr(action)} method="POST">'
                f"<Say language={language}>{prompt}</Say></Gather></Response>"
            )
            return Reply(twiml, "text/xml")
        if request.kind == "gather":
            thanks = escape(str(self.options.get("thanks", "Tack för ditt svar.")))
            if request.query_value("purpose") == "wrapup" or not events:
                return Reply(
                    EMPTY_TWIML.replace("<Response/>", "<Response><Hangup/></Response>"), "text/xml"
                )
            return Reply(
                '<?xml version="1.0" encoding="UTF-8"?><Response>'
                f"<Say language={language}>{thanks}</Say><Hangup/></Response>",
                "text/xml",
            )
        return Reply(EMPTY_TWIML, "text/xml")


def _sibling_url(url: str, kind: str) -> str:
    """The URL of another endpoint of the same integration, with the same query."""
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] + "/" + kind
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "bodySHA256"}
    from urllib.parse import urlencode

    return urlunsplit(parts._replace(path=path, query=urlencode(query, doseq=True)))
