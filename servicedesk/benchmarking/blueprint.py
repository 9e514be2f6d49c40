"""The Comparison page for quality staff, its print view and spreadsheet, and the sharing
choice in Settings (administrators)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col

from servicedesk.audit import record
from servicedesk.auth.access import REPORTS, SETTINGS, current_org, roles_required
from servicedesk.benchmarking.figures import BY_KEY, FIGURES
from servicedesk.benchmarking.forms import SharingForm
from servicedesk.benchmarking.labels import figure_label
from servicedesk.benchmarking.pages import comparison_page, period_choices, period_label
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.sharing import SharingError, participant_of, share, withdraw
from servicedesk.benchmarking.sheet import comparison_xlsx
from servicedesk.db import get_session, unit_of_work
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report
from servicedesk.timeutil import utcnow

bp = Blueprint("benchmark_ui", __name__, url_prefix="/comparison")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _latest_month() -> Month:
    """The newest month the organisation has frozen, else last month."""
    newest = get_session().scalar(
        sa.select(sa.func.max(col(Report.month))).where(
            col(Report.organisation_id) == current_org().id
        )
    )
    return Month.parse(newest) if newest else Month.of(utcnow().date()).previous()


def _period() -> Period:
    text = request.args.get("period")
    if not text:
        return Period.of_month(_latest_month())
    try:
        return Period.parse(text)
    except ValueError:
        abort(404)


def _page_or_none(charts: bool = True) -> tuple[Period, Any]:
    """The comparison for the period (``?period=``), among everyone or, with ``?group=own``,
    among the organisation's municipality group; None when it does not take part."""
    period = _period()
    me = participant_of(get_session(), current_org())
    if me is None or not me.sharing:
        return period, None
    group = me.group if request.args.get("group") == "own" and me.group else None
    return period, comparison_page(get_session(), period, me.code, charts=charts, group=group)


@bp.route("/")
@roles_required(*REPORTS)
def index() -> Any:
    period, page = _page_or_none()
    latest = _latest_month()
    me = participant_of(get_session(), current_org())
    return render_template(
        "benchmarking/comparison.html",
        period=period,
        period_name=period_label(period),
        periods=period_choices(max(latest, period.last)),
        page=page,
        printing=False,
        own_group=me.group if me is not None and me.sharing else "",
    )


@bp.route("/print")
@roles_required(*REPORTS)
def print_view() -> Any:
    period, page = _page_or_none()
    if page is None:  # not taking part: the page says so, and how to
        return redirect(url_for(".index", period=period.text), 303)
    return render_template(
        "benchmarking/comparison.html",
        period=period,
        period_name=period_label(period),
        periods=[],
        page=page,
        printing=True,
        own_group="",
    )


@bp.route("/download.xlsx")
@roles_required(*REPORTS)
def download() -> Any:
    period, page = _page_or_none(charts=False)
    if page is None:
        return redirect(url_for(".index", period=period.text), 303)
    org = current_org()
    with unit_of_work() as db:
        record(
            db,
            org.id,
            current_user.email,
            "benchmark.export",
            {"period": str(period), "format": "xlsx", "via": "web"},
        )
    response = Response(comparison_xlsx(page), mimetype=XLSX)
    name = f"servicedesk-{org.slug}-comparison-{period}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _fresh_org() -> Organisation:
    org = get_session().get(Organisation, current_org().id)
    if org is None:
        abort(403)
    return org


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*SETTINGS)
def settings() -> Any:
    """Whether the organisation takes part, which figures it shares and under what name."""
    me = participant_of(get_session(), current_org())
    form = SharingForm(
        data={
            "figures": me.figures if me and me.sharing else [f.key for f in FIGURES if f.default],
            "anonymous": bool(me and me.anonymous),
            "group": me.group if me else "",
        }
        if request.method == "GET"
        else None
    )
    form.figures.choices = [(f.key, figure_label(f.key)) for f in FIGURES]
    if form.validate_on_submit():
        try:
            with unit_of_work() as db:
                org = db.get(Organisation, current_org().id)
                assert org is not None
                row = share(
                    db,
                    org,
                    figures=form.figures.data or [],
                    anonymous=bool(form.anonymous.data),
                    group=form.group.data or "",
                )
                record(
                    db,
                    org.id,
                    current_user.email,
                    "benchmark.share",
                    {"figures": row.figures, "anonymous": row.anonymous, "group": row.group},
                )
        except SharingError:
            flash(_("Choose at least one figure to share."), "error")
            return redirect(url_for(".settings"), 303)
        flash(_("Your organisation takes part in the comparison."), "success")
        return redirect(url_for(".settings"), 303)
    return render_template(
        "benchmarking/settings.html",
        form=form,
        participant=me,
        figures=BY_KEY,
    )


@bp.route("/settings/withdraw", methods=["POST"])
@roles_required(*SETTINGS)
def withdraw_view() -> Any:
    with unit_of_work() as db:
        org = db.get(Organisation, current_org().id)
        assert org is not None
        if withdraw(db, org) is not None:
            record(db, org.id, current_user.email, "benchmark.withdraw", {})
    flash(_("Your organisation no longer takes part: its figures leave the comparison."), "success")
    return redirect(url_for(".settings"), 303)
