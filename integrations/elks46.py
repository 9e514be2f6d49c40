"""46elks voice: voice_start, whenhangup and the IVR ``next`` callback.

46elks signs nothing. Each integration's URL carries a long random secret (stored hashed, checked
before the adapter runs) and may name the source addresses 46elks calls from (``allow_from``).
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

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

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

    def parse(self, request: RequestParts) -> list[dict[str, Any]]:
        fields = _fields(request)
        call_id = str(fields.get("callid") or fields.get("id") or "")
        if not call_id:
            raise PayloadError("callid is missing")
        queue = self._queue(request)
        extra = {"queue": queue} if queue else {}
        if request.kind == "next":
            return [{**e, **extra} for e in self._next(request, fields, call_id)]
        created = _parse_time(fields.get("created"))
        events: list[dict[str, Any]] = []
        if created is not None and fields.get("direction", "incoming") == "incoming":
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
            events.append(queued)
        if request.kind != "whenhangup":
            return events
        start = _parse_time(fields.get("start"))
        try:
            duration = float(fields.get("duration") or 0)
        except (TypeError, ValueError) as exc:
            raise PayloadError("duration is not a number") from exc
        if start is not None and created is not None:
            # 46elks stamps start a few ms before created on incoming calls; never answer early.
            start = max(start, created)
        picked_up = _parse_time(fields.get("start"))
        base = picked_up or created or request.received_at
        legs = fields.get("legs")
        if isinstance(legs, list) and legs and _agent(fields) is None:
            # The call was picked up by the IVR but no agent's line ever answered.
            start = None
        if start is not None:
            answered: dict[str, Any] = {
                "id": short_id("46elks", call_id, "start"),
                "type": "call.answered",
                "contact_id": call_id,
                "occurred_at": rfc3339(start),
                **extra,
            }
            agent = _agent(fields)
            if agent:
                answered["agent"] = agent
            events.append(answered)
        events.append(
            {
                "id": short_id("46elks", call_id, "hangup"),
                "type": "call.ended",
                "contact_id": call_id,
                "occurred_at": rfc3339(base + timedelta(seconds=duration)),
                **extra,
            }
        )
        return events

    def _next(
        self, request: RequestParts, fields: dict[str, Any], call_id: str
    ) -> list[dict[str, Any]]:
        contact = request.query_value("call") or call_id
        result = fields.get("result")
        digits = None if result is None else str(result)
        return keypad_events(
            "46elks",
            contact,
            digits,
            purpose=request.query_value("purpose"),
            question=request.query_value("question"),
            occurred_at=rfc3339(request.received_at),
            extra={},
        )

    def reply(self, request: RequestParts, events: list[dict[str, Any]]) -> Reply:
        # 46elks reads call actions from voice_start and next; the administrator configures them.
        action = self.options.get(f"{request.kind}_action") if request.kind else None
        if action:
            return Reply(json.dumps(action), "application/json")
        return Reply("", "text/plain", 204)


def _agent(fields: Mapping[str, Any]) -> str | None:
    """The number the call was connected to (the agent's line), from the successful leg."""
    legs = fields.get("legs") or []
    if isinstance(legs, list):
        for leg in reversed(legs):
            if isinstance(leg, dict) and leg.get("state") == "success" and leg.get("to"):
                return bounded(str(leg["to"]), 128)
    return None
