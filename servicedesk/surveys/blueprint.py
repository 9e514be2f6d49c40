"""The signed-in survey pages: the month's survey figures (quality staff, administrators) and
Settings → Surveys (administrators). The citizen's pages are in ``public.py``."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from servicedesk.audit import record
from servicedesk.auth.access import REPORTS, SETTINGS, current_org, roles_required
from servicedesk.db import get_session, unit_of_work
from servicedesk.metrics.definitions import HEADLINE
from servicedesk.metrics.periods import Month, shown_month
from servicedesk.metrics.queries import figures_by
from servicedesk.metrics.survey_stats import SMALL_SAMPLE
from servicedesk.surveys import catalogue
from servicedesk.surveys.figures import dispatch_figures, dispatch_log
from servicedesk.surveys.forms import SurveySettingsForm
from servicedesk.surveys.national import latest
from servicedesk.surveys.operations import problems, save_settings, settings_of
from servicedesk.surveys.replies import make_reply_address, replies_possible
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("surveys", __name__)

PLAIN = (
    "phone_enabled",
    "email_enabled",
    "share_percent",
    "min_days_between",
    "delay_minutes",
    "quiet_start",
    "quiet_end",
    "sms_on_closed_days",
    "language",
    "sender_name",
    "sms_provider",
    "sms_account",
    "sms_from",
    "sms_replies",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "email_from",
)


def _month(today: date) -> Month:
    try:
        return shown_month(request.args.get("month"), today)
    except ValueError:
        abort(404)


@bp.route("/surveys/")
@roles_required(*REPORTS)
def figures() -> Any:
    """The month's survey figures beside SKR's national ones, and the dispatch log."""
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    month = _month(today)
    groups = figures_by(db, org, month.first, month.last, [None])
    headline = groups[None]["survey_headline"]
    national = latest(org.country)
    rows = [
        {"key": key, "channel": channel, "question": question, **headline[key]}
        for key, channel, question in HEADLINE
    ]
    return render_template(
        "surveys/figures.html",
        month=month,
        previous=month.previous(),
        following=month.next() if month < Month.of(today) else None,
        rows=rows,
        got_answer=headline.get("email_got_answer"),
        national=national,
        dispatch=dispatch_figures(db, org, month.first, month.last),
        log=dispatch_log(db, org),
        small_sample=SMALL_SAMPLE,
    )


def _wording_fields(form: SurveySettingsForm) -> list[Any]:
    return [getattr(form, f"wording_{key}") for key in catalogue.EDITABLE]


@bp.route("/settings/surveys", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def settings() -> Any:
    org = current_org()
    row = settings_of(get_session(), org)
    language = catalogue.language_of(row.language, org.country)
    form = SurveySettingsForm(obj=row if request.method == "GET" else None)
    form.set_choices()
    if request.method == "GET":
        _fill(form, row, language)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in PLAIN}
        for name in ("sender_name", "sms_account", "sms_from", "smtp_host", "smtp_username"):
            values[name] = (values[name] or "").strip()
        values["email_from"] = (values["email_from"] or "").strip()
        own = {
            key: text.strip()
            for key in catalogue.EDITABLE
            if (text := getattr(form, f"wording_{key}").data or "").strip()
            and text.strip() != catalogue.TEXTS[language][key]
        }
        wording = dict(row.wording or {})
        wording[language] = own
        values["wording"] = wording
        with unit_of_work() as db:
            fresh = save_settings(
                db,
                org,
                values,
                secret_key=current_app.config["SECRET_KEY"],
                sms_secret=(form.sms_secret.data or "").strip() or None,
                smtp_password=form.smtp_password.data or None,
            )
            record(db, org.id, current_user.email, "surveys.settings", dict(values))
        missing = problems(fresh)
        if missing:
            flash(
                _(
                    "Saved, but nothing will be sent until the provider is complete: %(what)s.",
                    what=", ".join(_("SMS") if m == "sms" else _("e-mail") for m in missing),
                ),
                "error",
            )
        else:
            flash(_("The survey settings are saved."), "success")
        return redirect(url_for(".settings"), 303)
    return _settings_page(form, row, language)


def _fill(form: SurveySettingsForm, row: Any, language: str) -> None:
    """The form as the stored settings show it: secrets never, the wording in ``language``."""
    form.sms_secret.data = ""
    form.smtp_password.data = ""
    for key in catalogue.EDITABLE:
        getattr(form, f"wording_{key}").data = catalogue.text(language, key, row.wording)


def _settings_page(
    form: SurveySettingsForm, row: Any, language: str, reply_address: str | None = None
) -> str:
    return render_template(
        "surveys/settings.html",
        form=form,
        row=row,
        wording_fields=_wording_fields(form),
        problems=problems(row),
        language=language,
        reply_form=FlaskForm(),
        replies_possible=replies_possible(row),
        reply_address=reply_address,
    )


@bp.post("/settings/surveys/reply-address")
@roles_required(*SETTINGS)
def reply_address() -> Any:
    """A new address for the citizens' SMS replies (the old one stops working), shown once."""
    org = current_org()
    if not FlaskForm().validate_on_submit():
        abort(400)
    with unit_of_work() as db:
        row = settings_of(db, org)
        secret = make_reply_address(db, row)
        record(db, org.id, current_user.email, "surveys.reply_address", {})
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    address = base.rstrip("/") + url_for("surveys_replies.reply", secret=secret)
    row = settings_of(get_session(), org)
    language = catalogue.language_of(row.language, org.country)
    form = SurveySettingsForm(obj=row)
    form.set_choices()
    _fill(form, row, language)
    return _settings_page(form, row, language, reply_address=address)
