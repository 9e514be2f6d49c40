"""Twilio Programmable Voice: a TwiML queue (<Enqueue>, <Dial><Queue>), the survey and wrap-up.

For an incoming call Twilio sends the phone number's StatusCallback only ``completed``, which does
not tell a call that waited in a queue from one that ended in the IVR. The queue's own requests do
(www.twilio.com/docs/voice/twiml/enqueue and .../twiml/queue):

- ``enqueue``: the <Enqueue action> URL, requested when the call leaves the queue with
  ``QueueResult`` and ``QueueTime`` (seconds in the queue); right away when it left unanswered,
  when the bridged parties disconnect when an agent took it.
- ``dequeue``: the agent's <Dial><Queue url> URL, requested on the caller's leg just before the
  two are connected, with the caller's ``CallSid`` and ``QueueTime``: the moment of the answer.
- ``gather``: a <Gather> digit (a grade, or with ``?purpose=wrapup`` the agent's wrap-up key);
  ``survey`` answers the TwiML that asks for the grade.
- ``status``: a StatusCallback; only an agent's child leg answering (``ParentCallSid``, a
  <Dial><Number statusCallbackEvent="answered">) says anything the figures need.

Action requests carry no time of their own: the time is when the request arrived (Twilio makes
it as the call leaves the queue or is bridged, and does not queue requests up for later).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from xml.sax.saxutils import escape, quoteattr

from integrations.base import (
    AdapterStorage,
    PayloadError,
    Reply,
    RequestParts,
    SecretKind,
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

#: QueueResult values (www.twilio.com/docs/voice/twiml/enqueue#attributes-action-parameters):
#: the call was taken by an agent ...
BRIDGED = {"bridged", "bridging-in-process", "redirected-from-bridged"}
#: ... or it left the queue unanswered (hung up, <Leave>, moved by the API, refused, failed).
LEFT = {"hangup", "leave", "redirected", "queue-full", "error", "system-error"}
#: CallStatus of a child leg that means its callee (the agent) picked up.
ANSWERED_STATUSES = {"in-progress", "answered"}

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


def _seconds(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise PayloadError(f"{name} is not a number of seconds") from None
    if not 0 <= seconds < 7 * 86400:
        raise PayloadError(f"{name} is out of range")
    return seconds


class TwilioAdapter:
    """Twilio Programmable Voice."""

    name = "twilio"
    kinds = ("enqueue", "dequeue", "gather", "survey", "status")
    secret_kind = SecretKind.HMAC_KEY
    secret_help = "the Auth Token"
    channel = "phone"
    stateful = False
    audit_headers = (SIGNATURE_HEADER.lower(), SETTINGS_HEADER.lower())
    #: Twilio does not retry a webhook that got an answer unless the URL asks it to (connection
    #: overrides), so the usual statuses stand.
    refusal_status = None
    endpoints = (
        "<Enqueue action>: {path}/enqueue?queue=QUEUE; the agents' <Dial><Queue url>: "
        "{path}/dequeue?queue=QUEUE&agent=AGENT; survey TwiML: {path}/survey; <Gather> action: "
        "{path}/gather (wrap-up: {path}/gather?purpose=wrapup&call=CALLSID)"
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> TwilioAdapter:
        return cls(options)

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
        if request.kind == "enqueue":
            return self._left_queue(request, fields, call_sid)
        if request.kind == "dequeue":
            return self._dequeued(request, fields, call_sid)
        return self._status(request, fields, call_sid)

    def _base(self, request: RequestParts, contact: str) -> dict[str, Any]:
        event: dict[str, Any] = {"contact_id": contact}
        queue = self._queue(request)
        if queue:
            event["queue"] = queue
        return event

    def _left_queue(
        self, request: RequestParts, fields: dict[str, list[str]], call_sid: str
    ) -> list[dict[str, Any]]:
        """<Enqueue action>: the call left the queue, answered (at the end of the conversation)
        or not (right away: then it entered the queue QueueTime seconds ago)."""
        result = (first(fields, "QueueResult") or "").lower()
        if result not in BRIDGED | LEFT:
            raise PayloadError(f"QueueResult {result!r} is not a Twilio queue result")
        waited = _seconds(first(fields, "QueueTime"), "QueueTime") or 0.0
        at = request.received_at
        key = (
            "twilio",
            call_sid,
            "enqueue",
            first(fields, "QueueSid") or "",
            result,
            f"{waited:g}",
        )
        base = self._base(request, call_sid)
        caller = bounded(first(fields, "From"), 320)
        ended = {**base, "id": short_id(*key, "ended"), "type": "call.ended"}
        ended["occurred_at"] = rfc3339(at)
        if caller:
            ended["caller"] = caller
        if result in BRIDGED:
            events = [ended]
            if result == "redirected-from-bridged":
                # Taken, then moved on by the agent: a transfer, not a direct answer (KKiK).
                events.append({**ended, "id": short_id(*key, "transfer"), "direct_answer": False})
                events[-1].pop("caller", None)
            return events
        queued = {**base, "id": short_id(*key, "queued"), "type": "call.queued"}
        queued["occurred_at"] = rfc3339(at - timedelta(seconds=waited))
        if caller:
            queued["caller"] = caller
        return [queued, ended]

    def _dequeued(
        self, request: RequestParts, fields: dict[str, list[str]], call_sid: str
    ) -> list[dict[str, Any]]:
        """<Dial><Queue url>: an agent takes the caller now, after QueueTime in the queue."""
        waited = _seconds(first(fields, "QueueTime"), "QueueTime")
        if waited is None:
            raise PayloadError("QueueTime is missing")
        at = request.received_at
        key = ("twilio", call_sid, "dequeue", first(fields, "DequeingCallSid") or "")
        base = self._base(request, call_sid)
        queued = {**base, "id": short_id(*key, "queued"), "type": "call.queued"}
        queued["occurred_at"] = rfc3339(at - timedelta(seconds=waited))
        answered = {**base, "id": short_id(*key, "answered"), "type": "call.answered"}
        answered["occurred_at"] = rfc3339(at)
        agent = bounded(request.query_value("agent"), 128)
        if agent:
            answered["agent"] = agent
        return [queued, answered]

    def _status(
        self, request: RequestParts, fields: dict[str, list[str]], call_sid: str
    ) -> list[dict[str, Any]]:
        status = (first(fields, "CallStatus") or "").lower()
        if not status:
            raise PayloadError("CallStatus is missing")
        parent = first(fields, "ParentCallSid")
        if not parent or status not in ANSWERED_STATUSES:
            # The call's own statuses (for an incoming call only "completed") cannot tell a
            # call that waited for an agent from one that ended in the IVR: kept, not counted.
            return []
        when = rfc3339(_parse_time(first(fields, "Timestamp"), request.received_at))
        event = {
            **self._base(request, parent),
            "id": short_id("twilio", parent, call_sid, status),
            "type": "call.answered",
            "occurred_at": when,
        }
        agent = bounded(request.query_value("agent") or first(fields, "To"), 128)
        if agent:
            event["agent"] = agent
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
        if request.kind == "enqueue":
            follow = request.query_value("next")
            if follow:
                # What follows the queue is the administrator's own TwiML (an overflow queue,
                # voicemail, the survey): Twilio runs what the action URL answers.
                return Reply(
                    '<?xml version="1.0" encoding="UTF-8"?><Response>'
                    f'<Redirect method="POST">{escape(follow)}</Redirect></Response>',
                    "text/xml",
                )
            return Reply(
                EMPTY_TWIML.replace("<Response/>", "<Response><Hangup/></Response>"), "text/xml"
            )
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
