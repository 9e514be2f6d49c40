"""Adapters to outside systems: telephony and e-mail providers that feed the canonical events."""

from __future__ import annotations

from integrations.base import (
    Adapter,
    OptionsAdapter,
    PayloadError,
    Reply,
    RequestParts,
    SignatureError,
)
from integrations.elks46 import Elks46Adapter
from integrations.mailgun import MailgunAdapter
from integrations.postmark import PostmarkAdapter
from integrations.telnyx import TelnyxAdapter
from integrations.twilio import TwilioAdapter

#: Webhook providers by the name the CLI and the URLs use.
PROVIDERS: dict[str, type[OptionsAdapter]] = {
    "twilio": TwilioAdapter,
    "46elks": Elks46Adapter,
    "telnyx": TelnyxAdapter,
    "mailgun": MailgunAdapter,
    "postmark": PostmarkAdapter,
}

__all__ = [
    "PROVIDERS",
    "Adapter",
    "Elks46Adapter",
    "MailgunAdapter",
    "OptionsAdapter",
    "PayloadError",
    "PostmarkAdapter",
    "Reply",
    "RequestParts",
    "SignatureError",
    "TelnyxAdapter",
    "TwilioAdapter",
]
