"""Checking what Twilio posts about survey SMS (delivery reports, and the citizens' replies) with
its own signature scheme.

The Twilio adapter's verification (X-Twilio-Signature over the public URL and the sorted form
fields, HMAC with the Auth Token) is reused as it is: the survey settings hold the same
account's Auth Token, sealed.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Request, current_app

from integrations.base import MemoryStorage, RequestParts, SignatureError
from integrations.twilio import TwilioAdapter
from servicedesk.sealing import SealError, unseal
from servicedesk.surveys.models import SurveySettings
from servicedesk.webhooks.blueprint import public_url


def verify_twilio(settings: SurveySettings | None, request: Request) -> None:
    """Return if the request is signed with the organisation's Auth Token; SignatureError else
    (a delivery report of ``public.py``, a citizen's reply of ``reply_views.py``)."""
    if settings is None or settings.sms_provider != "twilio" or not settings.sms_secret:
        raise SignatureError("no Twilio account is set up for surveys")
    try:
        token = unseal(settings.sms_secret, current_app.config["SECRET_KEY"])
    except SealError as exc:
        raise SignatureError(str(exc)) from None
    adapter = TwilioAdapter.build({}, MemoryStorage())
    # The signature covers the URL and the sorted form fields (not the body's bytes); the form
    # may have been parsed already (the web layer checks every form for NUL), so it is encoded
    # again from the parsed fields.
    body = urlencode(list(request.form.items(multi=True))).encode()
    parts = RequestParts(url=public_url(), body=body, headers=dict(request.headers))
    adapter.verify(parts, adapter.stored_secret(token))
