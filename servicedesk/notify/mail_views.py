"""Report by e-mail on the web: administrators keep the list of recipients (Settings), quality
staff send a frozen version to them on demand (the Reports page). Both are in the audit log;
only the recipients' hints ("a…@kumla.se") are ever shown or logged."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from servicedesk.audit import record
from servicedesk.auth.access import REPORTS, SETTINGS, current_org, roles_required
from servicedesk.auth.forms import EmptyForm
from servicedesk.db import get_session, unit_of_work
from servicedesk.metrics.periods import Month
from servicedesk.notify.forms import LANGUAGE_NAMES, RecipientForm
from servicedesk.notify.mail import MailNotConfigured, configured_sender
from servicedesk.notify.operations import NotifyError, add_endpoint
from servicedesk.notify.recipients import (
    addressees,
    default_language,
    recipients,
    remove_recipient,
    send_now,
)
from servicedesk.reports.service import report_version
from servicedesk.web import limiter

bp = Blueprint("notify_ui", __name__)

#: How often an organisation's staff may send a report by hand.
SEND_LIMIT = "6 per hour"


def mail_server_configured() -> bool:
    config = current_app.config
    return bool(config.get("SMTP_HOST") and config.get("MAIL_FROM"))


@bp.route("/settings/report-mail", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def settings() -> Any:
    org = current_org()
    form = RecipientForm()
    if not form.is_submitted():
        form.language.data = default_language(org)
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                row, _secret = add_endpoint(
                    db,
                    org,
                    "email",
                    form.address.data or "",
                    secret_key=current_app.config["SECRET_KEY"],
                    language=form.language.data or "",
                )
                record(
                    db,
                    org.id,
                    current_user.email,
                    "notify.recipient.add",
                    {"recipient": row.url_hint, "language": row.language},
                )
        except NotifyError as exc:
            flash(str(exc), "error")
        else:
            flash(_("%(who)s will get the monthly report.", who=row.url_hint), "success")
            return redirect(url_for(".settings"), 303)
    return render_template(
        "settings/report_mail.html",
        form=form,
        rows=recipients(get_session(), org),
        languages=LANGUAGE_NAMES,
        button=EmptyForm(),
        configured=mail_server_configured(),
    )


@bp.route("/settings/report-mail/<int:recipient_id>/remove", methods=["POST"])
@roles_required(*SETTINGS)
def remove(recipient_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    org = current_org()
    with unit_of_work() as db:
        hint = remove_recipient(db, org, recipient_id)
        if hint is None:
            abort(404)
        record(db, org.id, current_user.email, "notify.recipient.remove", {"recipient": hint})
    flash(_("%(who)s will no longer get the report.", who=hint), "success")
    return redirect(url_for(".settings"), 303)


def _organisation_key() -> str:
    return f"report-mail:{current_user.organisation_id}"


def _signed_out() -> bool:
    """The limit is checked before the sign-in is; a signed-out request goes to the sign-in page."""
    return not current_user.is_authenticated


@bp.route("/reports/<month>/v<int:version>/mail", methods=["POST"])
@limiter.limit(SEND_LIMIT, key_func=_organisation_key, exempt_when=_signed_out)
@roles_required(*REPORTS)
def send(month: str, version: int) -> Any:
    """E-mail one frozen version to every recipient now (a few times an hour per organisation:
    a button pressed again and again must not flood the recipients' inboxes)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        m = Month.parse(month)
    except ValueError:
        abort(404)
    db, org = get_session(), current_org()
    report = report_version(db, org, m, version)
    if report is None:
        abort(404)
    back = redirect(url_for("reports_ui.index", month=str(m)), 303)
    try:
        mailer = configured_sender()
    except MailNotConfigured:
        flash(_("No mail server is configured, so nothing was sent."), "error")
        return back
    to = addressees(db, org, current_app.config["SECRET_KEY"])
    if not to:
        flash(_("The report has no e-mail recipients yet (Settings → Report by e-mail)."), "error")
        return back
    document = dict(report.document)
    outcomes = send_now(mailer, document, to)
    failed = [s for s in outcomes if not s.ok]
    with unit_of_work() as w:
        record(
            w,
            org.id,
            current_user.email,
            "report.mail",
            {
                "month": str(m),
                "version": version,
                "recipients": len(outcomes),
                "failed": len(failed),
                "via": "web",
            },
        )
    sent = len(outcomes) - len(failed)
    if sent:
        flash(
            ngettext(
                "Version %(v)s was sent to %(num)s recipient.",
                "Version %(v)s was sent to %(num)s recipients.",
                sent,
                v=version,
            ),
            "success",
        )
    for s in failed:
        flash(_("Not sent to %(who)s: %(why)s", who=s.hint, why=s.error), "error")
    return back
