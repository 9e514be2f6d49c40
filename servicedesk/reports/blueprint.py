"""The reports API: ``/api/v1/reports`` for quality staff's scripts and BI tools (docs/api.md).

Read-only and authenticated by a ``reports:read`` token. No URL names an organisation: every
answer is of the token's own organisation, so no URL can reach another's reports.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from flask import Blueprint, Response, abort, g, jsonify, request, url_for

from servicedesk.audit import record
from servicedesk.db import get_session, unit_of_work
from servicedesk.ingest.models import REPORTS_READ
from servicedesk.ingest.tokens import Sender, bearer, find_sender
from servicedesk.metrics.definitions import DEFINITIONS_VERSION
from servicedesk.metrics.period_figures import PeriodFigures, compared
from servicedesk.metrics.periods import Month, Period
from servicedesk.problems import problem
from servicedesk.reports.exports import DOCUMENT_FORMATS, document_bytes
from servicedesk.reports.models import Report
from servicedesk.reports.published import (
    find_report,
    published_document,
    published_etag,
    published_json,
    report_index,
)
from servicedesk.reports.service import format_instant
from servicedesk.timeutil import local_date, utcnow
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")

#: What the API serves. Not the per-contact audit CSV: it lists every contact with its caller's
#: pseudonym, which is more than a BI tool needs and more than a long-lived token should reach.
FORMATS = ("json", "csv", "xlsx")
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


for _error in UNAVAILABLE_ERRORS:
    bp.register_error_handler(_error, database_unavailable)


def _refuse(status: int, title: str, detail: str, field: str, **headers: str) -> NoReturn:
    """Answer with a problem naming the field at fault, from wherever the check is."""
    error = {"index": None, "field": field, "message": detail}
    abort(problem(status, title, detail, errors=[error], headers=headers))


@bp.before_request
def authenticate_reader() -> None:
    """A live ``reports:read`` token, else 401 (no or unknown token) or 403 (another scope)."""
    presented = bearer(request.headers.get("Authorization"))
    sender = find_sender(get_session(), presented, scope=None) if presented else None
    if sender is None:
        _refuse(
            401,
            "Unauthorized",
            "a valid reports token is required (Authorization: Bearer ...)",
            "Authorization",
            **{"WWW-Authenticate": "Bearer"},
        )
    if sender.scope != REPORTS_READ:
        _refuse(
            403,
            "Forbidden",
            f"a {sender.scope} token cannot read reports; use a token made with "
            f"`servicedesk token create --scope {REPORTS_READ}`",
            "Authorization",
            **{"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{REPORTS_READ}"'},
        )
    g.report_reader = sender


def _reader() -> Sender:
    return g.report_reader  # type: ignore[no-any-return]  # set just above, kept on g for the request


def _month(text: str) -> Month:
    try:
        if text == text.strip():  # a URL means what it says: no spaces trimmed away
            return Month.parse(text)
    except ValueError:
        pass
    _refuse(422, "Invalid month", f"expected YYYY-MM, got {text!r}", "month")


def _version(text: str) -> int:
    if not _VERSION.fullmatch(text):
        _refuse(422, "Invalid version", f"expected a version number, got {text!r}", "version")
    return int(text)


def _format(suffix: str | None) -> str:
    """The format from the path's suffix or ``?format=``; they must agree when both are given."""
    asked = request.args.get("format")
    if asked is not None and (asked not in FORMATS or (suffix and asked != suffix)):
        expected = suffix or ", ".join(FORMATS)
        _refuse(422, "Invalid format", f"expected {expected}, got {asked!r}", "format")
    return suffix or asked or "json"


def _links(month: str, version: int | None = None) -> dict[str, str]:
    if version is None:
        links = {"self": url_for(".latest", month=month)}
        files = {f: url_for(".latest_file", month=month, suffix=f) for f in FORMATS}
    else:
        links = {"self": url_for(".version", month=month, version=version)}
        files = {
            f: url_for(".version_file", month=month, version=version, suffix=f) for f in FORMATS
        }
    return links | files


@bp.get("")
def index() -> Response:
    """Every version of the organisation's reports (or of ``?month=``), newest first."""
    org = _reader().organisation
    month_text = request.args.get("month")
    month = _month(month_text) if month_text is not None else None
    entries = report_index(get_session(), org, month)
    response = jsonify(
        organisation=org.slug,
        reports=[
            {
                "month": e.month,
                "version": e.version,
                "generated_at": e.generated_at,
                "sha256": e.sha256,
                "latest": e.latest,
                "links": {**_links(e.month, e.version), "month": url_for(".latest", month=e.month)},
            }
            for e in entries
        ],
    )
    response.headers["Cache-Control"] = "private"
    return response


@bp.get("/periods/<period>")
def period_figures_view(period: str) -> Response:
    """Any period's figures computed now, beside the period before and a year before."""
    sender = _reader()
    org = sender.organisation
    today = local_date(utcnow(), org.timezone)
    try:
        if period != period.strip():
            raise ValueError(f"period: no spaces, got {period!r}")
        chosen = Period.parse(period, today)
    except ValueError as exc:
        _refuse(422, "Invalid period", str(exc), "period")
    if chosen.first > today:
        _refuse(422, "Invalid period", f"{chosen} has not begun ({today} in {org.timezone})",
                "period")  # fmt: skip
    session = get_session()
    current, previous, year_before = compared(session, org, chosen, build=True)

    def span(figs: PeriodFigures) -> dict[str, Any]:
        p = figs.period
        return {"period": str(p), "kind": p.kind, "first": p.first.isoformat(),
                "last": p.last.isoformat(), **figs.total}  # fmt: skip

    body = {
        "organisation": org.slug,
        "timezone": org.timezone,
        "definitions_version": DEFINITIONS_VERSION,
        "computed_at": format_instant(utcnow().replace(microsecond=0)),
        **span(current),
        "queues": dict(current.queues),
        "previous": span(previous),
        "year_before": span(year_before),
    }
    with unit_of_work() as db:
        record(db, org.id, f"token:{sender.token_id}", "report.period",
               {"period": str(chosen), "via": "api"})  # fmt: skip
    response = Response(published_json(body), mimetype="application/json")
    response.headers["Cache-Control"] = "private"
    return response


@bp.get("/<month>")
def latest(month: str) -> Response:
    """The month's latest version, as ``report show --format json`` prints it (or ?format=)."""
    return _answer(month, None, _format(None))


@bp.get("/<month>.json", defaults={"suffix": "json"})
@bp.get("/<month>.csv", defaults={"suffix": "csv"})
@bp.get("/<month>.xlsx", defaults={"suffix": "xlsx"})
def latest_file(month: str, suffix: str) -> Response:
    return _answer(month, None, _format(suffix))


@bp.get("/<month>/versions/<version>")
def version(month: str, version: str) -> Response:
    """One version of the month's report; versions never change once written."""
    return _answer(month, _version(version), _format(None))


@bp.get("/<month>/versions/<version>.json", defaults={"suffix": "json"})
@bp.get("/<month>/versions/<version>.csv", defaults={"suffix": "csv"})
@bp.get("/<month>/versions/<version>.xlsx", defaults={"suffix": "xlsx"})
def version_file(month: str, version: str, suffix: str) -> Response:
    return _answer(month, _version(version), _format(suffix))


def _answer(month_text: str, version: int | None, fmt: str) -> Response:
    """The report in ``fmt``: 304 when the client holds it already, else the body, audited."""
    sender = _reader()
    org = sender.organisation
    month = _month(month_text)
    session = get_session()
    report = find_report(session, org, month, version)
    if report is None:
        if version is not None and find_report(session, org, month) is not None:
            _refuse(404, "Not Found", f"no version {version} of the {month} report", "version")
        _refuse(404, "Not Found", f"no report for {month}", "month")
    document = published_document(session, org, report) if fmt == "json" else report.document
    etag = published_etag(document)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = _body(report, document, fmt)
        _audit(sender, report, fmt)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private"
    return response


def _body(report: Report, document: dict[str, Any], fmt: str) -> Response:
    if fmt == "json":
        return Response(published_json(document), mimetype="application/json")
    suffix, mimetype = DOCUMENT_FORMATS[fmt]
    response = Response(document_bytes(document, fmt), content_type=mimetype)
    name = f"servicedesk-{document['organisation']}-{report.month}-v{report.version}.{suffix}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _audit(sender: Sender, report: Report, fmt: str) -> None:
    """Log the read as the Reports page logs a download (``report.export``)."""
    details = {"month": report.month, "format": fmt, "version": report.version, "via": "api"}
    with unit_of_work() as db:
        record(db, sender.organisation.id, f"token:{sender.token_id}", "report.export", details)
