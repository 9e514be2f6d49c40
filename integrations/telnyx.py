"""Telnyx Call Control webhooks (API v2), verified with the account's Ed25519 public key.

The signed message is ``{telnyx-timestamp}|{raw body}``; a timestamp more than 300 s from now is
refused, so a captured delivery cannot be replayed later (within the window, a replay only repeats
event ids the core already has).

The figures come from Telnyx's call queue (the ``enqueue`` command and the ``call.enqueued`` /
``call.dequeued`` events, team-telnyx/telnyx-python ``types/call_enqueued.py`` and
``call_left_queue.py``), because only a queue tells a call that waited for an agent from one that
ended in the IVR: ``call.answered`` and ``call.hangup`` carry no direction, and the application
answering the call for its IVR is not an agent answering it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from integrations.base import (
    AdapterStorage,
    PayloadError,
    Reply,
    RequestParts,
    SecretKind,
    SignatureError,
    bounded,
    direct_answer_of,
    question_of,
    rfc3339,
    score_of,
    short_id,
)

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
TOLERANCE_SECONDS = 300


def _client_state(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Our own instructions carried through the call (base64 JSON set when the app commanded)."""
    raw = payload.get("client_state")
    if not raw:
        return {}
    try:
        data = json.loads(base64.b64decode(str(raw), validate=False))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _time(value: Any, fallback: datetime) -> str:
    if not value:
        return rfc3339(fallback)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise PayloadError(f"occurred_at {value!r} is not a date-time") from exc
    return rfc3339(parsed)


#: call.dequeued reasons (telnyx-python types/call_left_queue.py): taken by an agent ...
TAKEN = {"bridged", "bridging-in-process"}
#: ... or left the queue unanswered (hung up, <Leave>/leave, max_wait_time_secs reached).
LEFT = {"hangup", "leave", "timeout"}


class TelnyxAdapter:
    """Telnyx Call Control."""

    name = "telnyx"
    kinds = ("",)
    secret_kind = SecretKind.PUBLIC_KEY
    secret_help = "the account's public key (base64)"
    channel = "phone"
    stateful = False
    audit_headers = (SIGNATURE_HEADER, TIMESTAMP_HEADER)
    #: No status that stops Telnyx's retries is documented (not confirmed): the usual ones.
    refusal_status = None
    endpoints = "Call Control webhook URL: {path}"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> TelnyxAdapter:
        return cls(options)

    def stored_secret(self, secret: str) -> str:
        # A public key: nothing to hide, but it must be a valid one.
        try:
            key = base64.b64decode(secret.strip(), validate=True)
        except (ValueError, binascii.Error) as exc:
            raise ValueError("the Telnyx public key must be base64") from exc
        if len(key) != 32:
            raise ValueError("the Telnyx public key must be 32 bytes (base64 of an Ed25519 key)")
        return secret.strip()

    def verify(self, request: RequestParts, stored: str) -> None:
        signature = request.header(SIGNATURE_HEADER)
        timestamp = request.header(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise SignatureError(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
        try:
            ts = int(timestamp)
        except ValueError:
            raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time") from None
        if abs(request.received_at.timestamp() - ts) > TOLERANCE_SECONDS:
            raise SignatureError(f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s off")
        try:
            sig = base64.b64decode(signature, validate=True)
            key = VerifyKey(base64.b64decode(stored))
            key.verify(timestamp.encode() + b"|" + request.body, sig)
        except (ValueError, binascii.Error, BadSignatureError):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match") from None

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        body = request.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
            raise PayloadError("data.payload is missing")
        event_type = data.get("event_type")
        payload = data["payload"]
        event_id = str(data.get("id") or "")
        state = _client_state(payload)
        # A wrap-up keyed on the agent's own call names the caller's session in client_state.
        contact = str(
            state.get("call")
            or payload.get("call_session_id")
            or payload.get("call_control_id")
            or ""
        )
        if not event_id or not contact:
            raise PayloadError("data.id and data.payload.call_session_id are required")
        when = _time(data.get("occurred_at"), request.received_at)
        queue = bounded(
            str(
                payload.get("queue")
                or state.get("queue")
                or request.query_value("queue")
                or self.options.get("queue")
                or ""
            ),
            128,
        )
        event: dict[str, Any] = {
            "id": short_id("telnyx", event_id),
            "contact_id": contact[:256],
            "occurred_at": when,
        }
        if queue:
            event["queue"] = queue
        if event_type == "call.enqueued":
            event["type"] = "call.queued"
            return [event]
        if event_type == "call.dequeued":
            reason = payload.get("reason")
            if reason in TAKEN:
                event["type"] = "call.answered"
                agent = state.get("agent")
                if agent:
                    event["agent"] = bounded(str(agent), 128)
                return [event]
            if reason in LEFT:
                event["type"] = "call.ended"
                return [event]
            raise PayloadError(f"call.dequeued reason {reason!r} is not a Telnyx reason")
        if event_type == "call.hangup":
            if not state.get("queue"):
                # No queue named in this leg's client_state: an agent's leg, or a call that
                # ended in the IVR before it was enqueued (which is not offered).
                return []
            event["type"] = "call.ended"
            caller = bounded(str(payload.get("from") or ""), 320)
            if caller:
                event["caller"] = caller
            return [event]
        if event_type == "call.gather.ended":
            return self._gathered(event, payload, state)
        # call.initiated, call.answered, call.bridged, playback ... say nothing the figures need
        # (see the module's docstring).
        return []

    def _gathered(
        self, event: dict[str, Any], payload: Mapping[str, Any], state: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        if payload.get("status", "valid") != "valid":
            return []
        digits = payload.get("digits")
        digits = None if digits is None else str(digits)
        if state.get("purpose") == "wrapup":
            verdict = direct_answer_of(digits)
            if verdict is None:
                return []
            event.update(type="call.ended", direct_answer=verdict)
            return [event]
        if "question" not in state and state.get("purpose") != "survey":
            # An IVR menu's digits, not a grade: only a gather our survey started counts.
            return []
        score = score_of(digits)
        if score is None:
            return []
        question = question_of(state.get("question"))
        event.update(type="survey.response", question=question, score=score, channel="phone")
        return [event]

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        return Reply("", "text/plain", 200)
