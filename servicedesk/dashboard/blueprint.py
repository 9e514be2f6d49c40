"""Today, Month and the contacts behind a figure: the team leaders' and quality staff's pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlmodel import col

from servicedesk.auth.access import (
    DASHBOARD,
    allowed_queue_ids,
    current_org,
    public,
    roles_required,
    scope_queues,
)
from servicedesk.cache import org_key, remember
from servicedesk.calendars.rules import holiday_name
from servicedesk.calendars.service import calendar_day, last_working_day
from servicedesk.dashboard import queries
from servicedesk.dashboard.charts import chart_css
from servicedesk.dashboard.monthdata import day_figures, dig, trend
from servicedesk.dashboard.pagecharts import month_charts, today_chart
from servicedesk.dashboard.periodpage import kinds_nav, month_handles, period_label
from servicedesk.dashboard.tables import Table, chart_table, csv_answer, queues_table
from servicedesk.dashboard.targets import judge, org_targets
from servicedesk.db import get_session
from servicedesk.metrics.catalogue import PAGE_CARD_GROUPS, QUESTION_LABELS, QUEUE_COLUMNS
from servicedesk.metrics.periods import Month, Period, shown_month
from servicedesk.metrics.queries import queue_names
from servicedesk.orgs.models import Queue
from servicedesk.timeutil import local_date, utcnow

bp = Blueprint("dashboard", __name__)

#: The last page a list may be asked for (beyond it the offset would overflow a database integer).
MAX_PAGE = 100_000
#: How often the Today page fetches fresh figures (seconds).
REFRESH_SECONDS = 30
PAGE_SIZE = 100


@bp.route("/charts.css", endpoint="chart_css")
@public
def chart_css_view() -> Response:
    response = Response(chart_css(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def _requested_queues() -> list[int] | None:
    values = request.args.getlist("queue")
    try:
        ids = [int(v) for v in values if v]
    except ValueError:
        abort(400)
    return scope_queues(ids or None)


def _visible_queues() -> list[Queue]:
    """The queues the user may pick from."""
    allowed = allowed_queue_ids()
    stmt = sa.select(Queue).where(col(Queue.organisation_id) == current_org().id)
    if allowed is not None:
        stmt = stmt.where(col(Queue.id).in_(allowed))
    return list(get_session().scalars(stmt.order_by(col(Queue.name))))


def _shown_day(today: date) -> tuple[date, str | None]:
    """The day Today shows: today, or on a day that is not a working day (a weekend, a holiday,
    a closed day) the last working day, with what today is ("weekend", the holiday's name,
    "closed"), unless calls or e-mails came in today (a weekend service, an emergency line).
    ``?today=1`` shows today all the same."""
    if request.args.get("today"):
        return today, None
    db = get_session()
    org = current_org()
    row = calendar_day(db, org, today)
    if row is None or row.is_working or queries.has_contacts_on(db, org, today):
        return today, None
    last = last_working_day(db, org, today)
    return (today, None) if last is None else (last.day, row.kind)


def _day_kind_text(kind: str | None) -> str:
    """Why today is not a working day, in words: the weekend, a closed day, the holiday's name
    in the reader's language."""
    if kind == "weekend":
        return str(_("weekend"))
    if kind == "closed":
        return str(_("the centre is closed"))
    org = current_org()
    today = local_date(utcnow(), org.timezone)
    return holiday_name(org.country, today, str(get_locale())) or kind or ""


def _scope_names() -> list[str]:
    """The names of the queues a queue-scoped team leader sees (nothing when all queues)."""
    allowed = allowed_queue_ids()
    chosen = _requested_queues()
    if allowed is None and chosen is None:
        return []
    names = queue_names(get_session(), current_org())
    return sorted(names[q] for q in (chosen or allowed or []) if q in names)


def _today_context() -> dict[str, Any]:
    org = current_org()
    db = get_session()
    now = utcnow()
    today = local_date(now, org.timezone)
    shown, why = _shown_day(today)
    queue_ids = _requested_queues()
    total, by_queue = day_figures(db, org, shown, queue_ids)
    waiting = queries.waiting_now(db, org, now, queue_ids)
    emails = queries.open_emails(db, org, now, queue_ids)
    names = queue_names(db, org)
    rows: dict[str, dict[str, Any]] = {}
    for name, figs in by_queue:
        rows.setdefault(name, {})["figures"] = figs
    for qid, waits in waiting.items():
        rows.setdefault(names.get(qid, "–") if qid is not None else "–", {})["waiting"] = waits
    for qid, open_ in emails.items():
        rows.setdefault(names.get(qid, "–") if qid is not None else "–", {})["emails"] = open_
    hours = queries.calls_by_hour(db, org, shown, queue_ids)
    open_total = {
        "open": sum(v["open"] for v in emails.values()),
        "over_2": sum(v["over_2"] for v in emails.values()),
        "1_to_2": sum(v["1_to_2"] for v in emails.values()),
    }
    return {
        "today": today,
        "shown": shown,
        "why": why,
        "now": now,
        "total": total,
        "rows": sorted(rows.items()),
        "waiting_count": sum(n for n, _ in waiting.values()),
        "longest_wait": max((w for _, w in waiting.values()), default=None),
        "open_total": open_total,
        "targets": org_targets(db, org),
        "judge": judge,
        "hours_chart": today_chart(hours, str(get_locale()), None if shown == today else shown),
        "queue_ids": queue_ids,
    }


#: Seconds one rendering of the live part is shared by every open dashboard of the same scope.
LIVE_TTL = 5


def _live_html() -> Markup:
    """The changing part of Today, shared for a few seconds by every dashboard that polls it."""
    org = current_org()
    queue_ids = _requested_queues()
    key = org_key(
        org.id,
        "today",
        tuple(queue_ids) if queue_ids else None,
        get_locale(),
        bool(request.args.get("today")),
    )
    html = remember(
        key, LIVE_TTL, lambda: render_template("dashboard/_today_live.html", **_today_context())
    )
    return Markup(html)


def _today_csv() -> Response | None:
    """The Today page's chart and queue table as CSV (``?csv=today-hours`` / ``queues``)."""
    if not request.args.get("csv"):
        return None
    ctx = _today_context()
    queues = Table(
        _("By queue"),
        [_("Queue"), _("Offered"), _("Answered"), _("Waiting now"), _("Median wait"),
         _("90th percentile"), _("Service level"), _("Direct answers"), _("E-mails received"),
         _("Unanswered"), _("Over 2 working days")],
    )  # fmt: skip
    for name, row in ctx["rows"]:
        p = (row.get("figures") or {}).get("phone") or {}
        e = (row.get("figures") or {}).get("email") or {}
        mails = row.get("emails") or {}
        queues.rows.append(
            [name, p.get("offered"), p.get("answered"), (row.get("waiting") or (0,))[0],
             dig(p, "wait_seconds.median"), dig(p, "wait_seconds.p90"), p.get("service_level"),
             p.get("direct_answer_rate"), e.get("received"), mails.get("open", 0),
             mails.get("over_2", 0)]
        )  # fmt: skip
    tables = {"today-hours": chart_table(ctx["hours_chart"]), "queues": queues}
    return csv_answer(tables, ctx["shown"].isoformat())


@bp.route("/")
@roles_required(*DASHBOARD)
def today() -> Any:
    answer = _today_csv()
    if answer is not None:
        return answer
    today = local_date(utcnow(), current_org().timezone)
    shown, why = _shown_day(today)
    return render_template(
        "dashboard/today.html",
        refresh_seconds=current_app.config.get("TODAY_REFRESH_SECONDS", REFRESH_SECONDS),
        queues=_visible_queues(),
        today=today,
        shown=shown,
        why=why,
        why_text=_day_kind_text,
        scope_names=_scope_names(),
        queue_ids=_requested_queues(),
        live_html=_live_html(),
    )


@bp.route("/today/live")
@roles_required(*DASHBOARD)
def today_live() -> Any:
    """The changing part of the Today page, fetched by the page itself every 30 seconds."""
    answer = _today_csv()
    if answer is not None:
        return answer
    return _live_html()


def _month_arg(today: date) -> Month:
    try:
        return shown_month(request.args.get("month"), today)
    except ValueError:
        abort(404)


#: The earliest date the pages go back to.
EARLIEST = date(2000, 1, 1)


def requested_period(today: date, default: str = "week") -> Period:
    """The period the URL names (``?period=``, or ``?from=&to=`` from the dates form), else this
    ``default`` kind; 404 for what is not a period or lies wholly in the future."""
    text = request.args.get("period")
    first, last = request.args.get("from"), request.args.get("to")
    if not text and first and last:
        text = f"{first}..{last}"
    try:
        period = Period.parse(text, today) if text else Period.of_kind(default, today)
    except ValueError:
        abort(404)
    if period.first > today or period.first < EARLIEST:
        abort(404)
    return period


@bp.route("/month")
@roles_required(*DASHBOARD)
def month() -> Any:
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    month = _month_arg(today)
    queue_ids = _requested_queues()
    series = trend(db, org, month, queue_ids, today)
    year_before, previous, current = month_handles(
        db, org, [series[0], series[-2], series[-1]], queue_ids, today
    )
    targets = org_targets(db, org)
    locale = str(get_locale())
    scope = tuple(queue_ids) if queue_ids is not None else None
    charts = remember(
        org_key(org.id, "charts", month, scope, locale, tuple(sorted(targets.items()))),
        30 if month == Month.of(today) else 300,
        lambda: month_charts(db, org, month, queue_ids, series, targets, locale),
    )
    tables = {c.chart_id: chart_table(c) for c in charts}
    tables["queues"] = queues_table(current.queues, current.total, QUEUE_COLUMNS)
    answer = csv_answer(tables, str(month))
    if answer is not None:
        return answer
    return render_template(
        "dashboard/month.html",
        month=month,
        current=current,
        previous=previous,
        year_before=year_before,
        groups=PAGE_CARD_GROUPS,
        columns=QUEUE_COLUMNS,
        targets=targets,
        judge=judge,
        dig=dig,
        charts=charts,
        kinds=kinds_nav(Period.month(month), today),
        today=today,
        queues=_visible_queues(),
        queue_ids=queue_ids,
        is_current=month == Month.of(today),
        prev_month=month.previous(),
        next_month=month.next() if month < Month.of(today) else None,
    )


@bp.route("/month/contacts")
@roles_required(*DASHBOARD)
def contacts() -> Any:
    """The pseudonymised contacts behind a figure, filterable."""
    org = current_org()
    db = get_session()
    today = local_date(utcnow(), org.timezone)
    chosen = requested_period(today) if request.args.get("period") else None
    month = _month_arg(today) if chosen is None else Month.of(chosen.first)
    first, last = (chosen.first, chosen.last) if chosen else (month.first, month.last)
    queue_ids = _requested_queues()
    args = request.args
    channel = args.get("channel", "phone")
    if channel not in ("phone", "email"):
        abort(404)
    try:
        rating = int(args["rating"]) if args.get("rating") else None
        days = int(args.get("days") or 1)
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        abort(400)
    if rating is not None and not 1 <= rating <= 5 or days not in (1, 2) or page > MAX_PAGE:
        abort(400)
    question = args.get("question") or None
    if question is not None and question not in QUESTION_LABELS:
        abort(400)
    outcome = args.get("outcome") or None
    deadline = args.get("deadline") or None
    flt = queries.ContactFilter(
        channel=channel,
        first=first,
        last=last,
        queue_ids=tuple(queue_ids) if queue_ids is not None else None,
        agent=args.get("agent") or None,
        outcome=outcome,
        deadline=deadline if deadline in ("met", "missed") else None,
        deadline_days=days,
        rating=rating,
        question=question,
    )
    total, rows = queries.contacts(db, org, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "dashboard/contacts.html",
        month=month,
        flt=flt,
        total=total,
        rows=rows,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        queues=_visible_queues(),
        agents=queries.agents(db, org, first, last, queue_ids),
        period=chosen,
        period_name=period_label(chosen) if chosen else None,
        questions=QUESTION_LABELS,
        queue_ids=queue_ids,
        title=_("Contacts"),
    )
