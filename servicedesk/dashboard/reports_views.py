"""The Reports page: frozen monthly versions, what changed between them, downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from servicedesk.auth.access import REPORTS, roles_required

bp = Blueprint("reports_ui", __name__, url_prefix="/reports")


@bp.route("/")
@roles_required(*REPORTS)
def index() -> Any:
    return render_template("dashboard/reports.html")
