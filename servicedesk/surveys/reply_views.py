"""``POST /s/sms/<secret>``: the citizen's SMS replies, as 46elks and Twilio post them.

Set the address (Settings → Surveys, "Replies by SMS") as the sender number's ``sms_url`` at
46elks, or as its "A message comes in" webhook (HTTP POST) at Twilio. The secret in the URL
names the organisation and is 46elks' only credential; Twilio's requests must also be signed
with the account's Auth Token (``X-Twilio-Signature``) and name its Account SID.

Nothing of the request is kept as a delivery: it carries the citizen's number and words. The
number is pseudonymised at once; answers go through the ingest path as events of their own.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Blueprint, Response, current_app, request

from integrations.base import SignatureError
from integrations.sms import InboundError, inbound_reply, parse_inbound
from servicedesk.auth.access import public
from servicedesk.db import get_session, unit_of_work
from servicedesk.orgs.models import Organisation
from servicedesk.problems import problem
from servicedesk.surveys.dispatch import sender_name
from servicedesk.surveys.inbound import verify_twilio
from servicedesk.surveys.replies import handle_reply, settings_for_secret
from servicedesk.web import limiter

log = structlog.get_logger(__name__)

bp = Blueprint("surveys_replies", __name__, url_prefix="/s/sms")


@bp.post("/<secret>")
@public
@limiter.limit("120 per minute")
def reply(secret: str) -> Any:
    """One SMS to the survey sender: STOPP, a digit, or anything else (answered politely)."""
    session = get_session()
    settings = settings_for_secret(session, secret)
    if settings is None or settings.sms_provider not in ("46elks", "twilio"):
        return problem(404, "Not Found", "no such reply address")
    provider = settings.sms_provider
    if provider == "twilio":
        try:
            verify_twilio(settings, request)
        except SignatureError as exc:
            return problem(401, "Invalid signature", str(exc))
    try:
        sms = parse_inbound(provider, request.form.to_dict())
    except InboundError as exc:
        field = str(exc)
        return problem(
            422,
            "Invalid payload",
            f"not a {provider} incoming SMS: {field} is missing or wrong",
            errors=[{"index": None, "field": field, "message": "missing or wrong"}],
        )
    if provider == "twilio" and sms.account != settings.sms_account:
        return problem(401, "Invalid signature", "the AccountSid is not this organisation's")
    org = session.get(Organisation, settings.organisation_id)
    assert org is not None
    with unit_of_work() as db:
        outcome = handle_reply(
            db,
            org,
            settings,
            sms,
            pseudonym_key=current_app.config["PSEUDONYM_KEY"],
            sender=sender_name(settings, org),
            previous_keys=current_app.config.get("PSEUDONYM_PREVIOUS_KEYS", ()),
        )
    log.info(
        "survey sms reply",
        organisation=org.slug,
        provider=provider,
        outcome=outcome.kind,
        invitation=outcome.invitation_id,
    )
    body, content_type, status = inbound_reply(provider, outcome.reply)
    return Response(body, status=status, content_type=content_type)
