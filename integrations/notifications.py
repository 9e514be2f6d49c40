"""Outbound report notifications: a Standard Webhooks JSON webhook, Microsoft Teams and Slack.

Each notifier makes one HTTP attempt with a timeout and says how it went; retries, backoff and
the delivery log belong to the caller (``servicedesk.notify``), which runs them off the
scheduler's report job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import httpx

from integrations.signing import signed_headers

#: Seconds one attempt may take, connect and answer together.
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Attempt:
    """The outcome of one attempt: ``ok``, or the status / error that made it fail."""

    ok: bool
    status: int | None = None
    error: str | None = None
    #: Whether trying again could help (network trouble, 5xx, 429), or not (4xx).
    retry: bool = True


class Notifier(Protocol):
    """Sends one notification about a frozen report to one endpoint."""

    kind: str

    def send(
        self, url: str, secret: str | None, message_id: str, report: Mapping[str, Any]
    ) -> Attempt: ...


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1f} %"


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """A short human summary of a report document (the report JSON of docs/reports.md)."""
    phone = report.get("phone") or {}
    email = report.get("email") or {}
    survey = report.get("survey") or {}
    treatment = (survey.get("treatment") or {}).get("index")
    name = report.get("organisation_name") or report.get("organisation")
    return [
        f"{name}: report {report.get('month')} (version {report.get('version')})",
        f"Phone: {phone.get('offered', 0)} calls, {_pct(phone.get('direct_answer_rate'))} direct "
        f"answers, service level {_pct(phone.get('service_level'))}, abandoned "
        f"{_pct(phone.get('abandon_rate'))}",
        f"E-mail: {email.get('received', 0)} received, {_pct(email.get('within_1_working_day'))} "
        f"answered within 1 working day, {_pct(email.get('within_2_working_days'))} within 2",
        "Treatment index (phone): " + ("–" if treatment is None else f"{treatment:.1f}"),
    ]


def event_payload(report: Mapping[str, Any]) -> dict[str, Any]:
    """The generic webhook's body: the event type and the frozen report document."""
    return {
        "type": "report.frozen",
        "timestamp": report.get("generated_at"),
        "data": {k: v for k, v in report.items() if k != "days"},
    }


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    try:
        response = client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return Attempt(False, error=f"timed out after {TIMEOUT_SECONDS:.0f} s")
    except httpx.HTTPError as exc:
        return Attempt(False, error=f"{type(exc).__name__}: {str(exc)[:200]}")
    if 200 <= response.status_code < 300:
        return Attempt(True, status=response.status_code)
    retry = response.status_code >= 500 or response.status_code in (408, 429)
    return Attempt(False, status=response.status_code, error=response.text[:200], retry=retry)


class JsonNotifier:
    """One JSON POST per notification; a kind of endpoint says what the body is (``payload``)
    and, where it signs, which headers go with it."""

    kind: ClassVar[str]

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def payload(self, report: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def headers(self, body: bytes, message_id: str, secret: str | None) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def send(
        self, url: str, secret: str | None, message_id: str, report: Mapping[str, Any]
    ) -> Attempt:
        body = json.dumps(self.payload(report), separators=(",", ":")).encode()
        return _post(self.client, url, body, self.headers(body, message_id, secret))


class WebhookNotifier(JsonNotifier):
    """The frozen report as a JSON event, signed the Standard Webhooks way."""

    kind = "webhook"

    def payload(self, report: Mapping[str, Any]) -> dict[str, Any]:
        return event_payload(report)

    def headers(self, body: bytes, message_id: str, secret: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "webhook-id": message_id}
        if secret:
            headers |= signed_headers(secret, message_id, body)
        return headers


class TeamsNotifier(JsonNotifier):
    """A Microsoft Teams incoming webhook (Workflows): a message with an Adaptive Card."""

    kind = "teams"

    def payload(self, report: Mapping[str, Any]) -> dict[str, Any]:
        lines = summary_lines(report)
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": lines[0], "weight": "Bolder", "wrap": True}]
            + [{"type": "TextBlock", "text": line, "wrap": True} for line in lines[1:]],
        }
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }


class SlackNotifier(JsonNotifier):
    """A Slack incoming webhook: ``text`` with the summary, first line bold."""

    kind = "slack"

    def payload(self, report: Mapping[str, Any]) -> dict[str, Any]:
        lines = summary_lines(report)
        return {"text": "\n".join([f"*{lines[0]}*", *lines[1:]])}


NOTIFIERS: dict[str, type[JsonNotifier]] = {
    "webhook": WebhookNotifier,
    "teams": TeamsNotifier,
    "slack": SlackNotifier,
}
