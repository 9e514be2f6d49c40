"""Standard Webhooks signatures on the events API, checked by the ``standardwebhooks`` library.

The library verifies the signature and refuses a timestamp more than 5 minutes from now; the
service's own tolerance (``SERVICEDESK_WEBHOOK_TOLERANCE_SECONDS``) can only narrow that window.
"""

from __future__ import annotations

from collections.abc import Mapping

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

#: The library's own window (seconds), the widest tolerance there can be.
LIBRARY_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The delivery's signature is missing, malformed, stale or wrong."""


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
) -> None:
    """Raise SignatureError unless the delivery carries a valid, fresh v1 signature."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    timestamp = lower.get("webhook-timestamp")
    header = lower.get("webhook-signature")
    if not msg_id or not timestamp or not header:
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a Unix time") from None
    if abs(now - ts) > min(tolerance, LIBRARY_TOLERANCE_SECONDS):
        raise SignatureError("webhook-timestamp is outside the tolerance")
    try:
        Webhook(secret).verify(body, lower, json_parse=False)
    except UnicodeDecodeError:
        # The scheme signs the payload as text; bytes that are not UTF-8 cannot be checked.
        raise SignatureError(
            "the body is not UTF-8 text, so its signature cannot be checked"
        ) from None
    except (WebhookVerificationError, ValueError):
        raise SignatureError("no matching signature") from None
