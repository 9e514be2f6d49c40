"""The events API's own client: batches posted signed, retried until the server has them (the
Asterisk follower sends with it)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from integrations.signing import signed_headers


class SendError(Exception):
    """The server refused a batch in a way a retry cannot mend (bad token, invalid events)."""


class EventsApiSender:
    """Posts batches to ``POST /api/v1/events`` with a bearer token and Standard Webhooks headers.

    A batch is retried with backoff while the server is unreachable, overloaded or answering 5xx;
    its webhook-id is derived from its events, so a retry is recognisably the same message.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        signing_secret: str | None,
        *,
        client: httpx.Client | None = None,
        max_attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        warn: Callable[[str], None] = lambda m: None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/api/v1/events"
        self.token = token
        self.signing_secret = signing_secret
        self.client = client or httpx.Client(timeout=30)
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.warn = warn

    def close(self) -> None:
        self.client.close()

    def _headers(self, body: bytes, msg_id: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if self.signing_secret:
            headers |= signed_headers(self.signing_secret, msg_id, body)
        return headers

    def __call__(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        if not events:
            return {"accepted": 0, "duplicates": 0}
        body = json.dumps({"events": events}).encode()
        msg_id = "ql_" + hashlib.sha256(body).hexdigest()[:32]
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.client.post(
                    self.url, content=body, headers=self._headers(body, msg_id)
                )
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 202:
                    answer: dict[str, Any] = response.json()
                    return answer
                if response.status_code < 500 and response.status_code != 429:
                    raise SendError(f"{response.status_code}: {response.text[:300]}")
                problem = f"HTTP {response.status_code}"
            if self.max_attempts is not None and attempt >= self.max_attempts:
                raise SendError(f"gave up after {attempt} attempts ({problem})")
            delay = min(60.0, 2.0 ** min(attempt - 1, 6))
            self.warn(f"sending failed ({problem}); retrying in {delay:.0f} s")
            self.sleep(delay)
