"""The Reports page: frozen monthly versions, what changed between them, downloads, print."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from servicedesk.audit import record
from servicedesk.auth.access import REPORTS, current_org, roles_required
from servicedesk.auth.forms import EmptyForm
from servicedesk.benchmarking.pages import ComparisonPage, comparison_page
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.sharing import participant_of
from servicedesk.benchmarking.sheet import add_comparison_sheets
from servicedesk.dashboard.monthdata import MonthFigures, dig, sections_of, trend
from servicedesk.dashboard.pagecharts import month_charts
from servicedesk.dashboard.targets import judge, org_targets
from servicedesk.db import get_session, unit_of_work
from servicedesk.metrics.catalogue import CARD_GROUPS, QUEUE_COLUMNS, definition_for
from servicedesk.metrics.periods import Month
from servicedesk.notify.recipients import recipient_count
from servicedesk.reports import formats
from servicedesk.reports.exports import (
    DOCUMENT_FORMATS,
    audit_csv_chunks,
    document_bytes,
    report_xlsx,
)
from servicedesk.reports.models import Report
from servicedesk.reports.service import report_version, report_versions, reported_months
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("reports_ui", __name__, url_prefix="/reports")

#: Download formats: (file suffix, media type). "-excel": the CSV dialect of Swedish and
#: Norwegian Excel (formats.DIALECTS), in the reader's language; the XLSX is in it too.
DOWNLOADS = {
    "xlsx": DOCUMENT_FORMATS["xlsx"],
    "csv-excel": ("excel.csv", "text/csv; charset=utf-8"),
    "days-csv-excel": ("days.excel.csv", "text/csv; charset=utf-8"),
    "csv": DOCUMENT_FORMATS["csv"],
    "days-csv": DOCUMENT_FORMATS["days-csv"],
    "json": DOCUMENT_FORMATS["json"],
    "audit-csv": ("contacts.csv", "text/csv; charset=utf-8"),
}
#: The languages a workbook or an Excel CSV can be made in (the rest read English).
EXPORT_LANGUAGES = ("sv", "nb", "en")


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        abort(404)


def _version(month: Month, version: int) -> Report:
    report = report_version(get_session(), current_org(), month, version)
    if report is None:
        abort(404)
    return report


@bp.route("/")
@roles_required(*REPORTS)
def index() -> Any:
    db = get_session()
    org = current_org()
    months = sorted(reported_months(db, org), reverse=True)
    chosen = request.args.get("month") or (months[0] if months else None)
    versions: list[Report] = []
    month = None
    if chosen:
        month = _month(chosen)
        versions = report_versions(db, org, month)
    return render_template(
        "dashboard/reports.html",
        months=[Month.parse(m) for m in months],
        month=month,
        versions=list(reversed(versions)),
        downloads=DOWNLOADS,
        recipient_count=recipient_count(db, org),
        button=EmptyForm(),
    )


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The figures that differ between two versions: (path, old value, new value)."""
    keys = ("phone", "email", "survey", "queues")
    before = dict(formats.flatten({k: old.get(k) for k in keys}))
    after = dict(formats.flatten({k: new.get(k) for k in keys}))
    paths = list(after) + [p for p in before if p not in after]
    return [(p, before.get(p), after.get(p)) for p in paths if before.get(p) != after.get(p)]


@bp.route("/<month>/diff")
@roles_required(*REPORTS)
def diff(month: str) -> Any:
    m = _month(month)
    versions = report_versions(get_session(), current_org(), m)
    if not versions:
        abort(404)
    try:
        b = int(request.args.get("to") or versions[-1].version)
        a = int(request.args.get("from") or max(1, b - 1))
    except ValueError:
        abort(400)
    old, new = _version(m, a), _version(m, b)
    return render_template(
        "dashboard/report_diff.html",
        month=m,
        old=old,
        new=new,
        changes=diff_documents(old.document, new.document),
        counts_old=old.document.get("counts", {}),
        counts_new=new.document.get("counts", {}),
    )


@bp.route("/<month>/v<int:version>/download/<fmt>")
@roles_required(*REPORTS)
def download(month: str, version: int, fmt: str) -> Response:
    if fmt not in DOWNLOADS:
        abort(404)
    m = _month(month)
    report = _version(m, version)
    suffix, mimetype = DOWNLOADS[fmt]
    name = f"servicedesk-{current_org().slug}-{m}-v{version}.{suffix}"
    if fmt == "audit-csv":
        org = current_org()
        body: Any = stream_with_context(audit_csv_chunks(get_session(), org, m))
    else:
        locale = str(get_locale() or "en")
        lang = locale if locale in EXPORT_LANGUAGES else "en"
        base, excel = fmt.removesuffix("-excel"), fmt.endswith("-excel")
        page = _comparison(m, charts=False) if fmt == "xlsx" else None
        if page is not None:
            # The Reports page's workbook carries the comparison as it stands today.
            body = report_xlsx(
                report.document, lang, lambda book: add_comparison_sheets(book, page)
            )
        else:
            body = document_bytes(report.document, base, lang, "excel" if excel else "rfc4180")
    with unit_of_work() as db:
        record(
            db,
            current_org().id,
            current_user.email,
            "report.export",
            {"month": str(m), "format": fmt, "version": version, "via": "web"},
        )
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/<month>/v<int:version>/print")
@roles_required(*REPORTS)
def print_view(month: str, version: int) -> Any:
    """The month as frozen in this version, laid out for paper."""
    m = _month(month)
    report = _version(m, version)
    doc = report.document

    def as_figures(part: dict[str, Any] | None, month_: Month) -> MonthFigures:
        part = part or {}
        queues = sorted((part.get("queues") or {}).items())
        return MonthFigures(month_, sections_of(part), queues, coverage=part.get("coverage"))

    current = MonthFigures(
        m,
        sections_of(doc),
        sorted(doc.get("queues", {}).items()),
        report,
        coverage=doc.get("coverage"),
    )
    db, org = get_session(), current_org()
    today = local_date(utcnow(), org.timezone)
    targets = org_targets(db, org)
    # The trends: this version's month beside the latest figures of the 12 before it.
    series = trend(db, org, m, None, today)
    series[-1] = current
    charts = month_charts(db, org, m, None, series, targets, str(get_locale()))
    definitions = [
        (fig.label, definition_for(fig.path)) for _group, figs in CARD_GROUPS for fig in figs
    ]
    return render_template(
        "dashboard/report_print.html",
        charts=charts,
        definitions=definitions,
        month=m,
        report=report,
        current=current,
        previous=as_figures(doc.get("previous_month"), m.previous()),
        year_before=as_figures(doc.get("year_before"), m.year_before()),
        groups=CARD_GROUPS,
        columns=QUEUE_COLUMNS,
        targets=targets,
        judge=judge,
        dig=dig,
        title=_("Monthly report"),
        comparison=_comparison(m, charts=False),
    )


def _comparison(month: Month, *, charts: bool) -> ComparisonPage | None:
    """The month's comparison when the organisation takes part in one (docs/benchmarking.md)."""
    me = participant_of(get_session(), current_org())
    if me is None or not me.sharing:
        return None
    return comparison_page(get_session(), Period.of_month(month), me.code, charts=charts)
