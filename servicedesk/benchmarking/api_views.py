"""The reports API's comparison: ``GET /api/v1/reports/comparisons/<period>`` with a
``reports:read`` token, for the token's own organisation (which must take part), as JSON.

The same comparison as the Comparison page: each shared figure's places, median and quartiles,
the organisation's own place, and for every figure the report versions and checksums it came
from. Anonymous participants appear under their alias only."""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, Response, abort, g, jsonify, request

from servicedesk.benchmarking.comparison import compare
from servicedesk.benchmarking.document import comparison_json
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.sharing import participant_of
from servicedesk.db import get_session
from servicedesk.ingest.tokens import Sender
from servicedesk.problems import problem
from servicedesk.reports.blueprint import authenticate_reader
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable

bp = Blueprint("comparison_api", __name__, url_prefix="/api/v1/reports/comparisons")
bp.before_request(authenticate_reader)

for _error in UNAVAILABLE_ERRORS:
    bp.register_error_handler(_error, database_unavailable)


def _refuse(status: int, title: str, detail: str, field: str) -> NoReturn:
    error = {"index": None, "field": field, "message": detail}
    abort(problem(status, title, detail, errors=[error]))


@bp.get("/<period>")
def comparison(period: str) -> Response:
    """The comparison for a month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY)."""
    try:
        chosen = Period.parse(period)
    except ValueError as exc:
        _refuse(422, "Invalid period", str(exc), "period")
    sender: Sender = g.report_reader
    session = get_session()
    me = participant_of(session, sender.organisation)
    if me is None or not me.sharing:
        _refuse(
            403,
            "Forbidden",
            f"{sender.organisation.slug} does not take part in the comparison; an administrator "
            "can turn it on in Settings, Comparison",
            "Authorization",
        )
    within = request.args.get("group")
    if within not in (None, "own"):
        _refuse(422, "Invalid group", f"expected own, got {within!r}", "group")
    group = me.group if within == "own" and me.group else None
    body = {
        "organisation": sender.organisation.slug,
        "group": group,
        **comparison_json(compare(session, chosen, me.code, group=group)),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "private"
    return response
