"""Today and Month: the team leaders' and quality staff's pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

from servicedesk.auth.access import DASHBOARD, public, roles_required
from servicedesk.dashboard.charts import chart_css

bp = Blueprint("dashboard", __name__)


@bp.route("/charts.css", endpoint="chart_css")
@public
def chart_css_view() -> Response:
    response = Response(chart_css(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.route("/")
@roles_required(*DASHBOARD)
def today() -> Any:
    return render_template("dashboard/today.html")


@bp.route("/month")
@roles_required(*DASHBOARD)
def month() -> Any:
    return render_template("dashboard/month.html")
