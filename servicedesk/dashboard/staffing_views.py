"""The Staffing page: how many agents each weekday and hour needs for the organisation's
service-level target, from the last weeks' calls (Erlang C), with a what-if and an XLSX."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from servicedesk.auth.access import DASHBOARD, current_org, roles_required
from servicedesk.cache import org_key, remember
from servicedesk.dashboard.blueprint import _requested_queues, _visible_queues
from servicedesk.dashboard.periodpage import period_dates
from servicedesk.dashboard.staffingpage import (
    FIELDS,
    STAFFING_COLUMNS,
    default_scenario,
    read_scenario,
    staffing_heatmap,
    staffing_rows,
    staffing_xlsx,
)
from servicedesk.dashboard.tables import Table, csv_answer, heatmap_table
from servicedesk.dashboard.targets import org_targets
from servicedesk.db import get_session
from servicedesk.metrics.periods import Period
from servicedesk.metrics.staffing import Staffing, lookback, staffing_advice
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("staffing", __name__)

#: A computation is shared this long (the weeks looked at end last Sunday: it changes weekly).
TTL = 600


def _advice() -> dict[str, Any]:
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    targets = org_targets(db, org)
    default = default_scenario(targets, org.service_level_seconds)
    scenario, errors = read_scenario(request.args, default)
    if errors:
        scenario = default
    queue_ids = _requested_queues()
    first, last = lookback(today, scenario.weeks)
    scope = tuple(queue_ids) if queue_ids is not None else None

    def compute() -> dict[tuple[int, int], Staffing]:
        return staffing_advice(
            db,
            org,
            today,
            weeks=scenario.weeks,
            target=scenario.target / 100,
            seconds=scenario.seconds,
            shrinkage=scenario.shrinkage / 100,
            max_occupancy=scenario.occupancy / 100,
            queue_ids=queue_ids,
        )

    key = org_key(org.id, "staffing", last.isoformat(), tuple(scenario.as_dict().items()), scope)
    advice = remember(key, TTL, compute)
    dates = period_dates(Period("range", first, last))
    caption = _(
        "Agents to schedule for %(target)s %% of calls answered within %(seconds)s s, from the "
        "calls of %(dates)s (Erlang C).",
        target=f"{scenario.target:g}",
        seconds=f"{scenario.seconds:g}",
        dates=dates,
    )
    return {
        "scenario": scenario,
        "default": default,
        "errors": errors,
        "advice": advice,
        "rows": staffing_rows(advice),
        "heat": staffing_heatmap(advice, caption),
        "caption": caption,
        "dates": dates,
        "queue_ids": queue_ids,
    }


@bp.route("/staffing")
@roles_required(*DASHBOARD)
def staffing() -> Any:
    ctx = _advice()
    table = Table(
        str(ctx["caption"]),
        [str(h) for h in STAFFING_COLUMNS],
        [[r["weekday"], r["hour"], r["calls"], r["aht_seconds"], r["agents"], r["scheduled"],
          r["service_level"], r["occupancy"], r["waiting_probability"], r["mean_wait"]]
         for r in ctx["rows"]],
    )  # fmt: skip
    answer = csv_answer(
        {"staffing": table, "staffing-heat": heatmap_table(ctx["heat"])}, "staffing"
    )
    if answer is not None:
        return answer
    status = 400 if ctx["errors"] else 200
    return (
        render_template("dashboard/staffing.html", fields=FIELDS, queues=_visible_queues(), **ctx),
        status,
    )


@bp.route("/staffing.xlsx")
@roles_required(*DASHBOARD)
def staffing_file() -> Response:
    ctx = _advice()
    body = staffing_xlsx(ctx["rows"], ctx["scenario"], ctx["caption"])
    response = Response(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"servicedesk-{current_org().slug}-staffing.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
