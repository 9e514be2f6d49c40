"""Sending SMS through 46elks or Twilio: each provider's real REST request, behind one Protocol.

46elks (https://46elks.se/docs/send-sms): ``POST https://api.46elks.com/a1/sms`` with HTTP basic
auth (API username and password) and the form fields ``from``, ``to``, ``message`` and the
optional ``whendelivered`` (a URL 46elks posts delivery reports to: ``id``, ``status`` sent /
delivered / failed, ``delivered``). The answer is JSON with the message's ``id`` and ``status``.

Twilio (the Messages resource, as twilio-python's ``MessageList.create`` sends it):
``POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic
auth (Account SID, Auth Token) and the form fields ``To``, ``From``, ``Body`` and the optional
``StatusCallback``. The answer (201) is JSON with ``sid`` and ``status``; an error is JSON with
``code``, ``message`` and ``status``.

Neither client ever puts the recipient's number into an error it raises: the dispatch log keeps
those reasons, and it must not hold a number (docs/privacy.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

import httpx

#: Seconds to wait for a provider before the send counts as failed for now (it is retried).
TIMEOUT_SECONDS = 10.0

_LONG_NUMBERS = re.compile(r"\+?\d[\d \-]{5,}\d")


def scrub(text: str, limit: int = 200) -> str:
    """A provider's text without anything that looks like a phone number, cut to ``limit``."""
    return _LONG_NUMBERS.sub("[number]", " ".join(text.split()))[:limit]


class SmsError(Exception):
    """The SMS was not accepted. ``retry``: a later attempt may succeed (outage, time-out)."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True, slots=True)
class SmsSent:
    """The provider accepted the message: its id (for delivery reports) and first status."""

    provider: str
    message_id: str
    status: str


class SmsSender(Protocol):
    """Something that sends one SMS."""

    provider: str

    def send(self, to: str, message: str, *, status_url: str | None = None) -> SmsSent:
        """Send ``message`` to the E.164 number ``to``; raise SmsError if it was not accepted."""
        ...


def _failure(provider: str, response: httpx.Response, detail: str) -> SmsError:
    """An HTTP error answer as an SmsError: 5xx, 429 and credential problems are retried."""
    status = response.status_code
    retry = status >= 500 or status in (401, 403, 429)
    return SmsError(f"{provider} answered HTTP {status}: {scrub(detail)}", retry=retry)


def _post(
    client: httpx.Client, provider: str, url: str, auth: tuple[str, str], data: dict[str, str]
) -> httpx.Response:
    try:
        return client.post(url, auth=auth, data=data)
    except httpx.TimeoutException:
        raise SmsError(f"{provider} did not answer in time", retry=True) from None
    except httpx.HTTPError as exc:
        raise SmsError(
            f"{provider} could not be reached ({type(exc).__name__})", retry=True
        ) from None


class Elks46Sms:
    """46elks' SMS API."""

    provider = "46elks"

    def __init__(
        self,
        username: str,
        password: str,
        sender: str,
        *,
        base_url: str = "https://api.46elks.com/a1",
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.auth = (username, password)
        self.sender = sender
        self.url = base_url.rstrip("/") + "/sms"
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def send(self, to: str, message: str, *, status_url: str | None = None) -> SmsSent:
        data = {"from": self.sender, "to": to, "message": message}
        if status_url:
            data["whendelivered"] = status_url
        response = _post(self.client, self.provider, self.url, self.auth, data)
        if response.status_code >= 300:
            raise _failure(self.provider, response, response.text)
        try:
            body = response.json()
            return SmsSent(self.provider, str(body["id"]), str(body.get("status", "created")))
        except (ValueError, KeyError, TypeError):
            raise SmsError("46elks answered without a message id", retry=False) from None


class TwilioSms:
    """Twilio's Messages resource (Programmable Messaging)."""

    provider = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        base_url: str = "https://api.twilio.com",
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.auth = (account_sid, auth_token)
        self.sender = sender
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def send(self, to: str, message: str, *, status_url: str | None = None) -> SmsSent:
        data = {"To": to, "From": self.sender, "Body": message}
        if status_url:
            data["StatusCallback"] = status_url
        response = _post(self.client, self.provider, self.url, self.auth, data)
        if response.status_code >= 300:
            try:
                problem = response.json()
                detail = f"{problem.get('code')} {problem.get('message', '')}"
            except (ValueError, AttributeError):
                detail = response.text
            raise _failure(self.provider, response, detail)
        try:
            body = response.json()
            return SmsSent(self.provider, str(body["sid"]), str(body.get("status", "queued")))
        except (ValueError, KeyError, TypeError):
            raise SmsError("Twilio answered without a message sid", retry=False) from None


#: The statuses each provider reports, as the dispatch log names them.
DELIVERY_STATUS = {
    # 46elks: sent, delivered, failed.
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    # Twilio: queued, sending, sent, delivered, undelivered, failed (and a few more).
    "undelivered": "failed",
}


# --- Replies: what the providers post when a citizen texts the sender number -------------------
#
# 46elks (https://46elks.se/docs/receive-sms): a form POST (application/x-www-form-urlencoded) to
# the number's ``sms_url`` with ``direction`` (always "incoming"), ``id``, ``from``, ``to``,
# ``created`` (UTC, no offset) and ``message``. The answer must have a status of 200-204, or
# 46elks tries again for at least 6 hours; a text body is sent back to the sender as a reply
# ("Automatic replies"). 46elks signs nothing: the URL's secret is the credential.
#
# Twilio (https://www.twilio.com/docs/messaging/guides/webhook-request): a form POST to the
# number's "A message comes in" URL with ``MessageSid`` (and the older ``SmsSid``,
# ``SmsMessageSid``), ``AccountSid``, ``MessagingServiceSid``, ``From``, ``To``, ``Body``,
# ``NumMedia``, ``NumSegments``, ``SmsStatus`` ("received"), ``ApiVersion`` and the
# From/To City/State/Zip/Country fields, signed with ``X-Twilio-Signature``. The answer is
# TwiML: ``<Response/>`` sends nothing, ``<Response><Message>…</Message></Response>`` replies.


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A citizen's text to the sender number: who (in clear: pseudonymise it at once), what, and
    the provider's id of the message (to take a provider's retry once)."""

    sender: str
    text: str
    message_id: str
    account: str = ""


class InboundError(Exception):
    """The request is not a provider's incoming-SMS request; the message names the field."""


def _one(form: Mapping[str, str], name: str, limit: int) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise InboundError(name)
    return value[:limit]


def parse_inbound(provider: str, form: Mapping[str, str]) -> InboundSms:
    """The incoming SMS in a provider's form (InboundError names a missing field)."""
    if provider == "46elks":
        direction = form.get("direction") or "incoming"
        if direction != "incoming":
            raise InboundError("direction")
        return InboundSms(
            sender=_one(form, "from", 32),
            text=(form.get("message") or "")[:1600],
            message_id=_one(form, "id", 64),
        )
    if provider == "twilio":
        return InboundSms(
            sender=_one(form, "From", 32),
            text=(form.get("Body") or "")[:1600],
            message_id=_one(form, "MessageSid", 64),
            account=(form.get("AccountSid") or "")[:64],
        )
    raise InboundError("provider")


def inbound_reply(provider: str, text: str | None) -> tuple[str, str, int]:
    """(body, content type, status) of the answer that replies ``text`` (or nothing) the way the
    provider expects: 46elks a plain-text body (an empty 204 for no reply), Twilio TwiML."""
    if provider == "twilio":
        inner = f"<Message>{escape(text)}</Message>" if text else ""
        body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
        return body, "application/xml", 200
    if text:
        return text, "text/plain; charset=utf-8", 200
    return "", "text/plain; charset=utf-8", 204
