"""The Intervals page: when in the week the calls come and the service level is lost, and one
day in 15-, 30- or 60-minute intervals."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from servicedesk.auth.access import DASHBOARD, current_org, roles_required
from servicedesk.cache import org_key, remember
from servicedesk.dashboard.blueprint import _requested_queues, _visible_queues, requested_period
from servicedesk.dashboard.intervalpage import MEASURES, day_view, interval_data, week_heatmap
from servicedesk.dashboard.periodpage import kinds_nav, period_dates, period_label
from servicedesk.dashboard.tables import Table, chart_table, csv_answer, heatmap_table
from servicedesk.dashboard.targets import org_targets
from servicedesk.db import get_session
from servicedesk.metrics.intervals import SLOT_MINUTES
from servicedesk.metrics.periods import Period
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("intervals", __name__)

#: Seconds a computation is shared by every viewer of the same page.
TTL = 30


def _day(today: date, period: Period) -> date:
    text = request.args.get("day")
    if not text:
        return min(today, period.last)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(404)
    if day > today or day.year < 2000:
        abort(404)
    return day


@bp.route("/intervals")
@roles_required(*DASHBOARD)
def intervals() -> Any:
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    period = requested_period(today, default="month")
    day = _day(today, period)
    try:
        minutes = int(request.args.get("minutes") or 60)
    except ValueError:
        abort(404)
    measure = request.args.get("show") or "offered_per_day"
    if minutes not in SLOT_MINUTES or measure not in MEASURES:
        abort(404)
    queue_ids = _requested_queues()
    scope = tuple(queue_ids) if queue_ids is not None else None
    grid, slots = remember(
        org_key(org.id, "intervals", str(period), day.isoformat(), minutes, scope),
        TTL,
        lambda: interval_data(db, org, period.first, period.last, day, minutes, queue_ids),
    )
    targets = org_targets(db, org)
    dates = period_dates(period)
    day_text = period_label(Period.day(day))
    charts, rows = day_view(slots, minutes, targets, day_text)
    heat = week_heatmap(grid, measure, targets, dates)
    tables = {c.chart_id: chart_table(c) for c in charts}
    tables["week-hours"] = heatmap_table(heat)
    tables["day-intervals"] = Table(
        f"{day_text}",
        [_("Interval"), _("Calls offered"), _("Answered"), _("Abandoned calls"),
         _("Service level"), _("Abandon rate"), _("Mean wait")],
        [[label, x["offered"], x["answered"], x["abandoned"], x["service_level"],
          x["abandon_rate"], x["mean_wait"]] for label, x in rows],
    )  # fmt: skip
    answer = csv_answer(tables, f"intervals-{period}")
    if answer is not None:
        return answer
    return render_template(
        "dashboard/intervals.html",
        period=period,
        label=period_label(period),
        dates=dates,
        heat=heat,
        measures=MEASURES,
        measure=measure,
        day=day,
        day_text=day_text,
        minutes=minutes,
        slot_minutes=SLOT_MINUTES,
        charts=charts,
        rows=rows,
        kinds=kinds_nav(period, today),
        today=today,
        queues=_visible_queues(),
        queue_ids=queue_ids,
    )
