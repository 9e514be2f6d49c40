"""The citizen's pages: ``/s/<token>`` (the survey), ``/s/<token>/stop`` (no more surveys) and
``/s/status/<token>`` (the SMS provider's delivery report). No sign-in and no cookie: the
signed, expiring link is the credential, and it works once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import force_locale

from integrations.base import SignatureError
from integrations.sms import DELIVERY_STATUS
from servicedesk.auth.access import public
from servicedesk.db import get_session, table_of, unit_of_work
from servicedesk.orgs.models import Organisation
from servicedesk.surveys import catalogue
from servicedesk.surveys.links import STATUS_DAYS, STATUS_SALT, LinkError, read_token
from servicedesk.surveys.models import SurveyInvitation, SurveySettings
from servicedesk.surveys.operations import (
    AnswerError,
    opt_out,
    parse_answers,
    record_answers,
)
from servicedesk.timeutil import utcnow
from servicedesk.web import limiter

bp = Blueprint("surveys_public", __name__, url_prefix="/s")

INV = table_of(SurveyInvitation)


def _invitation(token: str, salt: str | None = None) -> tuple[SurveyInvitation, Organisation]:
    """The invitation a valid link names, or an error page (LinkError)."""
    secret = current_app.config["SECRET_KEY"]
    if salt:
        invitation_id, nonce = read_token(secret, token, salt=salt, max_days=STATUS_DAYS)
    else:
        invitation_id, nonce = read_token(secret, token)
    session = get_session()
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or invitation.nonce != nonce:
        raise LinkError(expired=False)
    org = session.get(Organisation, invitation.organisation_id)
    assert org is not None
    return invitation, org


def _language(invitation: SurveyInvitation, org: Organisation) -> str:
    chosen = request.args.get("lang", "")
    if chosen in catalogue.LANGUAGES:
        return chosen
    return invitation.locale or catalogue.language_of("", org.country)


def _questions(
    channel: str, language: str, settings: SurveySettings | None
) -> list[dict[str, Any]]:
    wording = settings.wording if settings is not None else {}
    return [
        {
            "key": q.key,
            "text": catalogue.text(language, q.text_key, wording),
            "scored": q.scored,
            "low": catalogue.text(language, q.low_key) if q.low_key else "",
            "high": catalogue.text(language, q.high_key) if q.high_key else "",
        }
        for q in catalogue.QUESTIONS[channel]
    ]


def _gone(language: str, expired: bool, status: int = 410) -> tuple[str, int]:
    with force_locale(language):
        return render_template("surveys/gone.html", expired=expired, lang=language), status


@bp.route("/<token>", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def survey(token: str) -> Any:
    """The survey of one contact: its channel's questions, answered once."""
    try:
        invitation, org = _invitation(token)
    except LinkError as exc:
        return _gone(request.args.get("lang") or "sv", exc.expired, 404 if not exc.expired else 410)
    language = _language(invitation, org)
    settings = get_session().get(SurveySettings, org.id)
    if invitation.answered_at is not None:
        with force_locale(language):
            return render_template("surveys/thanks.html", org=org, lang=language, again=True)
    error = None
    if request.method == "POST":
        try:
            answers = parse_answers(invitation.channel, request.form)
            with unit_of_work() as db:
                fresh = db.get(SurveyInvitation, invitation.id)
                assert fresh is not None
                record_answers(
                    db, org, fresh, answers, pseudonym_key=current_app.config["PSEUDONYM_KEY"]
                )
            with force_locale(language):
                return render_template("surveys/thanks.html", org=org, lang=language, again=False)
        except AnswerError as exc:
            get_session().rollback()
            if str(exc) == "used":
                with force_locale(language):
                    return render_template(
                        "surveys/thanks.html", org=org, lang=language, again=True
                    )
            error = str(exc)
    with force_locale(language):
        return render_template(
            "surveys/survey.html",
            org=org,
            sender=(settings.sender_name if settings and settings.sender_name else org.name),
            channel=invitation.channel,
            questions=_questions(invitation.channel, language, settings),
            lang=language,
            token=token,
            error=error,
            chosen=request.form if request.method == "POST" else {},
        ), (422 if error else 200)


@bp.route("/<token>/stop", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def stop(token: str) -> Any:
    """No more surveys: a button on the page, and one-click from the mail client (RFC 8058)."""
    try:
        invitation, org = _invitation(token)
    except LinkError as exc:
        # An opt-out must work after the survey's week too: the stop link is checked for its
        # signature only (a forged one still fails).
        if not exc.expired:
            return _gone(request.args.get("lang") or "sv", False, 404)
        invitation, org = _stop_after_expiry(token)
    language = _language(invitation, org)
    if request.method == "POST":
        with unit_of_work() as db:
            opt_out(db, org, invitation.caller_hash, "link")
        if request.form.get("List-Unsubscribe") == "One-Click":
            return Response(status=204)
        with force_locale(language):
            return render_template("surveys/stopped.html", org=org, lang=language)
    with force_locale(language):
        return render_template("surveys/stop.html", org=org, lang=language, token=token)


def _stop_after_expiry(token: str) -> tuple[SurveyInvitation, Organisation]:
    secret = current_app.config["SECRET_KEY"]
    invitation_id, nonce = read_token(secret, token, max_days=3650)
    session = get_session()
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None or invitation.nonce != nonce:
        raise LinkError(expired=False)
    org = session.get(Organisation, invitation.organisation_id)
    assert org is not None
    return invitation, org


@bp.post("/status/<token>")
@public
@limiter.limit("120 per minute")
def delivery_status(token: str) -> Any:
    """A delivery report from 46elks (``id``, ``status``) or Twilio (``MessageSid``,
    ``MessageStatus``; signed with X-Twilio-Signature, checked with the account's Auth Token).

    Not kept as a delivery: Twilio's reports carry the recipient's number. Only the status is
    read; the number is never stored or logged.
    """
    try:
        invitation, org = _invitation(token, STATUS_SALT)
    except LinkError:
        return Response("unknown report\n", status=404, mimetype="text/plain")
    form = request.form
    if invitation.provider == "twilio":
        from servicedesk.surveys.inbound import verify_twilio

        settings = get_session().get(SurveySettings, org.id)
        try:
            verify_twilio(settings, request)
        except SignatureError:
            return Response("bad signature\n", status=403, mimetype="text/plain")
        message_id, status = form.get("MessageSid"), form.get("MessageStatus", "")
        reason = form.get("ErrorCode")
    else:
        message_id, status = form.get("id"), form.get("status", "")
        reason = None
    if not message_id or message_id != invitation.provider_id:
        return Response("unknown message\n", status=404, mimetype="text/plain")
    state = DELIVERY_STATUS.get(status.lower())
    if state in ("delivered", "failed"):
        values: dict[str, Any] = {"status": state}
        if state == "delivered":
            values["delivered_at"] = utcnow()
        else:
            values["reason"] = f"{invitation.provider} reported {status}" + (
                f" (error {reason})" if reason else ""
            )
        with unit_of_work() as db:
            db.execute(
                sa.update(INV)
                .where(INV.c.id == invitation.id, INV.c.status.in_(("sent", "delivered")))
                .values(**values)
            )
    return Response(status=204)
