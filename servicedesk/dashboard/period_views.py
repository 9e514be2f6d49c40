"""The Period page: any day, week, month, quarter, year, year to date or chosen dates, beside the
period before and a year before (a calendar month is the Month page, frozen report first)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale

from servicedesk.auth.access import DASHBOARD, current_org, roles_required
from servicedesk.dashboard.blueprint import _requested_queues, _visible_queues, requested_period
from servicedesk.dashboard.monthdata import dig
from servicedesk.dashboard.periodpage import (
    BEFORE_NAMES,
    charts_for,
    figures_for,
    kinds_nav,
    period_dates,
    period_label,
)
from servicedesk.dashboard.tables import chart_table, csv_answer, queues_table
from servicedesk.dashboard.targets import judge, org_targets
from servicedesk.db import get_session
from servicedesk.metrics.catalogue import PAGE_CARD_GROUPS, QUEUE_COLUMNS
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("period", __name__)


@bp.route("/period")
@roles_required(*DASHBOARD)
def period() -> Any:
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    chosen = requested_period(today)
    queue_ids = _requested_queues()
    month = chosen.as_month()
    if month is not None:
        return redirect(url_for("dashboard.month", month=str(month), queue=queue_ids or None))
    current, previous, year_before = figures_for(db, org, chosen, queue_ids, today)
    targets = org_targets(db, org)
    charts = charts_for(db, org, chosen, queue_ids, targets, today, str(get_locale()))
    tables = {c.chart_id: chart_table(c) for c in charts}
    tables["queues"] = queues_table(current.queues, current.total, QUEUE_COLUMNS)
    answer = csv_answer(tables, str(chosen))
    if answer is not None:
        return answer
    after = chosen.next()
    return render_template(
        "dashboard/period.html",
        period=chosen,
        label=period_label(chosen),
        dates=period_dates(chosen),
        current=current,
        previous=previous,
        year_before=year_before,
        before_label=BEFORE_NAMES[chosen.kind],
        previous_label=period_label(previous.period),
        year_label=period_label(year_before.period),
        groups=PAGE_CARD_GROUPS,
        columns=QUEUE_COLUMNS,
        targets=targets,
        judge=judge,
        dig=dig,
        charts=charts,
        kinds=kinds_nav(chosen, today),
        prev_period=chosen.previous(),
        next_period=after if after.first <= today else None,
        is_running=chosen.last >= today,
        today=today,
        queues=_visible_queues(),
        queue_ids=queue_ids,
    )
