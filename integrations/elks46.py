"""46elks voice: voice_start, whenhangup and the IVR ``next`` callback.

46elks signs nothing. Each integration's URL carries a long random secret (stored hashed, checked
before the adapter runs) and may name the source addresses 46elks calls from (``allow_from``).

46elks has no queue: a ``connect`` action rings the agents' line. So a call is offered when it
reaches a connect (``actions`` of its whenhangup), and answered when a connect leg succeeds: at the
call's end (``start`` + ``duration``) less the successful legs' durations, since ``start`` is when
46elks itself picked the call up (about ``created`` for an incoming call), not when an agent did.
A call whose actions never reached a connect ended in the IVR and is not offered.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

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


def _parse_time(value: Any) -> datetime | None:
    """46elks times are UTC without an offset ("2018-07-13T13:57:23.741000")."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace(" ", "T"))
    except ValueError as exc:
        raise PayloadError(f"{value!r} is not a 46elks time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _fields(request: RequestParts) -> dict[str, Any]:
    """The callback's fields: form-encoded as documented, or JSON (the whenhangup sample)."""
    if request.content_type == "application/json" or request.body.lstrip().startswith(b"{"):
        data = request.json()
        if not isinstance(data, dict):
            raise PayloadError("the JSON body must be an object")
        return data
    fields: dict[str, Any] = {k: first(request.form(), k) for k in request.form()}
    for name in ("legs", "actions"):
        if isinstance(fields.get(name), str):
            try:
                fields[name] = json.loads(fields[name])
            except ValueError:
                fields[name] = []
    return fields


def source_allowed(remote_addr: str | None, allow_from: list[str]) -> bool:
    """Whether the caller's address is in one of the allowed addresses or networks."""
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allow_from)


class Elks46Adapter:
    """46elks voice calls."""

    name = "46elks"
    kinds = ("voice_start", "whenhangup", "next")
    secret_kind = SecretKind.URL_TOKEN
    secret_help = ""
    channel = "phone"
    stateful = False
    audit_headers: tuple[str, ...] = ()
    #: 46elks documents no status that stops its retries (not confirmed): the usual ones.
    refusal_status = None
    endpoints = (
        "voice_start: {path}/voice_start; whenhangup: {path}/whenhangup; IVR next: "
        "{path}/next (into a queue: {path}/next?purpose=queue&queue=QUEUE; wrap-up: "
        "{path}/next?purpose=wrapup&call=CALLID)"
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @classmethod
    def build(cls, options: Mapping[str, Any], storage: AdapterStorage) -> Elks46Adapter:
        return cls(options)

    def stored_secret(self, secret: str) -> str:
        # The secret is ours and long and random, so a fast hash is enough to keep it safe.
        return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()

    def verify(self, request: RequestParts, stored: str) -> None:
        secret = request.token
        if not secret or not hmac.compare_digest(self.stored_secret(secret), stored):
            raise SignatureError("the URL's secret token is missing or wrong")
        allow_from = self.options.get("allow_from") or []
        if allow_from and not source_allowed(request.remote_addr, allow_from):
            raise SignatureError(f"source address {request.remote_addr} is not allowed")

    def _queue(self, request: RequestParts) -> str | None:
        return bounded(request.query_value("queue") or self.options.get("queue"), 128)

    def _connects_at_start(self) -> bool:
        """Whether servicedesk's voice_start answer connects the call to the agents at once."""
        action = self.options.get("voice_start_action")
        return isinstance(action, dict) and "connect" in action

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        fields = _fields(request)
        call_id = str(fields.get("callid") or fields.get("id") or "")
        if not call_id:
            raise PayloadError("callid is missing")
        queue = self._queue(request)
        extra = {"queue": queue} if queue else {}
        if request.kind == "next":
            return [{**e, **extra} for e in self._next(request, fields, call_id)]
        if fields.get("direction", "incoming") != "incoming":
            return []
        created = _parse_time(fields.get("created"))
        if request.kind == "voice_start":
            if created is None or not self._connects_at_start():
                return []
            return [self._queued(call_id, created, fields, extra)]
        actions = fields.get("actions")
        legs = [leg for leg in fields.get("legs") or [] if isinstance(leg, dict)]
        reached = bool(legs) or (
            isinstance(actions, list)
            and any(isinstance(a, dict) and "connect" in a for a in actions)
        )
        if not reached:
            # Ended in the IVR (or before any action): never offered to an agent.
            return []
        start = _parse_time(fields.get("start")) or created
        if start is None:
            raise PayloadError("whenhangup has neither start nor created")
        try:
            duration = float(fields.get("duration") or 0)
        except (TypeError, ValueError) as exc:
            raise PayloadError("duration is not a number") from exc
        end = start + timedelta(seconds=duration)
        events = [self._queued(call_id, created or start, fields, extra)]
        taken = [leg for leg in legs if leg.get("state") == "success"]
        if taken:
            try:
                talked = sum(float(leg.get("duration") or 0) for leg in taken)
            except (TypeError, ValueError) as exc:
                raise PayloadError("a leg's duration is not a number") from exc
            # The successful legs talked until the end; ring time between them is not reported.
            answered_at = max(created or start, end - timedelta(seconds=talked))
            answered: dict[str, Any] = {
                "id": short_id("46elks", call_id, "answered"),
                "type": "call.answered",
                "contact_id": call_id,
                "occurred_at": rfc3339(answered_at),
                **extra,
            }
            agent = bounded(str(taken[0].get("to") or ""), 128)
            if agent:
                answered["agent"] = agent
            events.append(answered)
        ended = {
            "id": short_id("46elks", call_id, "hangup"),
            "type": "call.ended",
            "contact_id": call_id,
            "occurred_at": rfc3339(end),
            **extra,
        }
        events.append(ended)
        if len(taken) > 1:
            # Connected on to another line after an agent took it: a transfer, not direct.
            events.append({**ended, "id": short_id("46elks", call_id, "transfer")})
            events[-1]["direct_answer"] = False
        return events

    def _queued(
        self, call_id: str, created: datetime, fields: Mapping[str, Any], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        queued: dict[str, Any] = {
            "id": short_id("46elks", call_id, "created"),
            "type": "call.queued",
            "contact_id": call_id,
            "occurred_at": rfc3339(created),
            **extra,
        }
        caller = bounded(str(fields.get("from") or ""), 320)
        if caller:
            queued["caller"] = caller
        return queued

    def _next(
        self, request: RequestParts, fields: dict[str, Any], call_id: str
    ) -> list[dict[str, Any]]:
        contact = request.query_value("call") or call_id
        purpose = request.query_value("purpose")
        if purpose == "queue":
            # The IVR (or a connect that timed out) sends the call on to a queue's line now.
            event: dict[str, Any] = {
                "id": short_id("46elks", contact, "queue", request.query_value("queue") or ""),
                "type": "call.queued",
                "contact_id": contact,
                "occurred_at": rfc3339(request.received_at),
            }
            caller = bounded(str(fields.get("from") or ""), 320)
            if caller:
                event["caller"] = caller
            return [event]
        result = fields.get("result")
        digits = None if result is None else str(result)
        return keypad_events(
            "46elks",
            contact,
            digits,
            purpose=purpose,
            question=request.query_value("question"),
            occurred_at=rfc3339(request.received_at),
            extra={},
        )

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        # 46elks reads call actions from voice_start and next; the administrator configures them.
        action = self.options.get(f"{request.kind}_action") if request.kind else None
        if request.kind == "next" and request.query_value("purpose") == "queue":
            queues = self.options.get("queue_actions") or {}
            action = queues.get(request.query_value("queue") or "") or action
        if action:
            return Reply(json.dumps(action), "application/json")
        return Reply("", "text/plain", 204)
