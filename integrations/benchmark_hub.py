"""A comparison hub's publication endpoint (another servicedesk installation): one signed POST
per message, Standard Webhooks signatures made by the ``standardwebhooks`` library, as the
report notifications are signed (docs/benchmarking.md, "The hub protocol").

``POST {hub}/api/v1/benchmark/members/{member}/messages`` with a JSON body
``{"type": "benchmark.published" | "benchmark.withdrawn", "timestamp", "data"}`` and the
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers. The hub answers 201 or
200 when it kept the message, 409 with ``"code": "already_received"`` for a message id it has
(a retry whose first answer was lost: the message is there), and problem+json otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from integrations.notifications import TIMEOUT_SECONDS, Attempt
from integrations.signing import signed_headers

ALREADY_RECEIVED = "already_received"


def messages_url(hub_url: str, member: str) -> str:
    return f"{hub_url.rstrip('/')}/api/v1/benchmark/members/{quote(member, safe='')}/messages"


def _problem_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


class HubClient:
    """Sends one message to a hub and says how it went; retrying is the caller's."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def send(
        self, hub_url: str, member: str, secret: str, message_id: str, message: Mapping[str, Any]
    ) -> Attempt:
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **signed_headers(secret, message_id, body)}
        try:
            response = self.client.post(
                messages_url(hub_url, member),
                content=body,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.TimeoutException:
            return Attempt(False, error=f"timed out after {TIMEOUT_SECONDS:.0f} s")
        except httpx.HTTPError as exc:
            return Attempt(False, error=f"{type(exc).__name__}: {str(exc)[:200]}")
        status = response.status_code
        if 200 <= status < 300 or (status == 409 and _problem_code(response) == ALREADY_RECEIVED):
            return Attempt(True, status=status)
        retry = status >= 500 or status in (408, 429)
        return Attempt(False, status=status, error=response.text[:300], retry=retry)
