"""The Period page's figures, names and charts: any period beside the one before and a year
before, with a chart over its days (weeks, months) and the spread of waits and answer times.

The figures come from ``servicedesk.metrics.period_figures`` and are kept a short while in the
shared cache, like the Month page's; a calendar month is the Month page (frozen report first).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from servicedesk import formatting as f
from servicedesk.cache import org_key, remember
from servicedesk.calendars.worktime import DAY_SECONDS
from servicedesk.dashboard import queries
from servicedesk.dashboard.charts import ChartView, Series, bar_chart, line_chart
from servicedesk.dashboard.monthdata import MonthFigures, first_contact_date
from servicedesk.dashboard.pagecharts import _bucket_labels, _target_series
from servicedesk.dashboard.queries import EMAIL_BUCKETS, WAIT_BUCKETS
from servicedesk.metrics.arithmetic import rate
from servicedesk.metrics.handling import handle_times
from servicedesk.metrics.period_figures import (
    PeriodFigures,
    compared,
    daily_counts,
    day_counts,
    with_handle,
)
from servicedesk.metrics.periods import Period
from servicedesk.metrics.stored_periods import (
    PeriodParts,
    bucket_counts,
    period_parts,
    worth_storing,
)
from servicedesk.orgs.models import Organisation

#: The kinds the page offers, with their names on the page.
KIND_NAMES = {
    "day": _l("Day"),
    "week": _l("Week"),
    "month": _l("Month"),
    "quarter": _l("Quarter"),
    "ytd": _l("Year to date"),
    "year": _l("Year"),
    "range": _l("Chosen dates"),
}
#: What the "before" figure is called, by kind.
BEFORE_NAMES = {
    "day": _l("Day before"),
    "week": _l("Week before"),
    "month": _l("Month before"),
    "quarter": _l("Quarter before"),
    "year": _l("Year before"),
    "ytd": _l("As many days before"),
    "range": _l("As many days before"),
}
LIVE_TTL = 30
PAST_TTL = 300


def period_label(period: Period) -> str:
    """The period as a heading: "Vecka 27, 2026", "Kvartal 2 2026", "1 mars–15 april 2026"."""
    if period.kind == "day":
        return f.month_label(period.first, "EEEE d MMMM yyyy")
    if period.kind == "week":
        iso = period.first.isocalendar()
        return str(_("Week %(week)s, %(year)s", week=iso.week, year=iso.year))
    if period.kind == "month":
        return f.month_label(period.first)
    if period.kind == "quarter":
        quarter = (period.first.month + 2) // 3
        return str(_("Quarter %(n)s %(year)s", n=quarter, year=period.first.year))
    if period.kind == "year":
        return str(period.first.year)
    if period.kind == "ytd":
        return str(
            _(
                "%(year)s up to %(day)s",
                year=period.first.year,
                day=format_date(period.last, "d MMMM"),
            )
        )
    return str(
        _(
            "%(first)s to %(last)s",
            first=format_date(period.first, "d MMM yyyy"),
            last=format_date(period.last, "d MMM yyyy"),
        )
    )


def period_dates(period: Period) -> str:
    """The dates of a period in a sentence: "29 juni–5 juli 2026"."""
    if period.first == period.last:
        return str(format_date(period.first, "d MMM yyyy"))
    return f"{format_date(period.first, 'd MMM yyyy')} – {format_date(period.last, 'd MMM yyyy')}"


def figures_for(
    session: Session,
    org: Organisation,
    period: Period,
    queue_ids: list[int] | None,
    today: date,
) -> tuple[PeriodFigures, PeriodFigures, PeriodFigures]:
    """The period, the one before and a year before, shared a while by every viewer."""
    scope = tuple(queue_ids) if queue_ids is not None else None
    ttl = LIVE_TTL if period.last >= today else PAST_TTL
    return remember(
        org_key(org.id, "period", str(period), scope),
        ttl,
        lambda: compared(session, org, period, queue_ids, build=True),
    )


def _steps(period: Period) -> tuple[str, list[tuple[str, date, date]]]:
    """The sub-periods a chart over the period shows: its days (up to two months), its weeks
    (up to about half a year) or its months; (name of the step, [(label, first, last)])."""
    days = period.days
    if days <= 62:
        return _("Day"), [
            (format_date(d, "EEE d/M"), d, d)
            for d in (period.first + timedelta(n) for n in range(days))
        ]
    if days <= 190:
        steps = []
        week = Period.week(period.first)
        while week.first <= period.last:
            label = _("w. %(n)s", n=week.first.isocalendar().week)
            steps.append((label, max(week.first, period.first), min(week.last, period.last)))
            week = week.next()
        return _("Week"), steps
    steps = []
    month = Period.month(period.first)
    while month.first <= period.last:
        steps.append(
            (format_date(month.first, "MMM yy"), max(month.first, period.first),
             min(month.last, period.last))
        )  # fmt: skip
        month = month.next()
    return _("Month"), steps


def _summed(days: dict[date, dict[str, int]], first: date, last: date) -> dict[str, int]:
    out: dict[str, int] = {}
    for day, counts in days.items():
        if first <= day <= last:
            for key, n in counts.items():
                out[key] = out.get(key, 0) + n
    return out


def period_charts(
    session: Session,
    org: Organisation,
    period: Period,
    queue_ids: list[int] | None,
    targets: dict[str, float],
) -> list[ChartView]:
    """Volume and shares over the period's days (weeks, months); waits and answer times."""
    dates = period_dates(period)
    charts: list[ChartView] = []
    # A period with closed months reads their stored aggregates once for every chart.
    stored = (
        period_parts(
            session, org, period.first, period.last, queue_ids, ("phone", "email"), build=True
        )
        if worth_storing(org, period.first, period.last)
        else None
    )
    if period.kind != "day":
        step_name, steps = _steps(period)
        days = (
            day_counts(stored.cells)
            if stored is not None
            else daily_counts(session, org, period.first, period.last, queue_ids)
        )
        sums = [_summed(days, first, last) for _, first, last in steps]
        labels = [label for label, _, _ in steps]
        charts.append(
            line_chart(
                "period-volume",
                _("Contacts"),
                _("Calls offered and e-mails received per %(step)s, %(dates)s.",
                  step=step_name.lower(), dates=dates),
                labels,
                [
                    Series(_("Calls offered"), [s.get("offered", 0) for s in sums]),
                    Series(_("E-mails received"), [s.get("received", 0) for s in sums]),
                ],
                f.num,
                first_column=step_name,
            )
        )  # fmt: skip
        charts.append(
            line_chart(
                "period-shares",
                _("Service level and direct answers"),
                _("Share of offered calls per %(step)s, %(dates)s.",
                  step=step_name.lower(), dates=dates),
                labels,
                [
                    Series(_("Service level"),
                           [rate(s.get("within", 0), s.get("offered", 0)) for s in sums]),
                    Series(_("Direct answers"),
                           [rate(s.get("direct", 0), s.get("offered", 0)) for s in sums]),
                ],
                f.pct,
                first_column=step_name,
                y_range=(0, 100),
                secondary=_target_series(targets, "phone.service_level", len(labels)),
                axis_fmt=lambda v: f.pct(v, 0),
            )
        )  # fmt: skip
    waits, spread = _distributions(session, org, period, queue_ids, stored)
    charts.append(
        bar_chart(
            "period-wait",
            _("Wait before answer"),
            _("Answered calls by how long the caller waited, %(dates)s.", dates=dates),
            _bucket_labels(WAIT_BUCKETS),
            [Series(_("Answered calls"), waits)],
            f.num,
            first_column=_("Seconds"),
            x_title=_("Seconds in the queue"),
        )
    )
    charts.append(
        bar_chart(
            "period-email",
            _("E-mail answer time"),
            _("E-mails received by working days to the first answer, %(dates)s.", dates=dates),
            [*_bucket_labels(EMAIL_BUCKETS), _("not answered")],
            [Series(_("E-mails"), spread)],
            f.num,
            first_column=_("Working days"),
            x_title=_("Working days to the first answer"),
        )
    )
    return charts


def _distributions(
    session: Session,
    org: Organisation,
    period: Period,
    queue_ids: list[int] | None,
    parts: PeriodParts | None,
) -> tuple[list[int], list[int]]:
    """Answered calls per wait bucket and e-mails per answer-time bucket (and unanswered): from
    the period's values (the closed months' stored ones) when given, else the two counting
    queries over the contacts."""
    first, last = period.first, period.last
    if parts is None:
        return (
            queries.wait_distribution(session, org, first, last, queue_ids),
            queries.email_answer_distribution(session, org, first, last, queue_ids),
        )
    waits = bucket_counts(parts.union("phone"), WAIT_BUCKETS)
    unanswered = sum(int(c.email.received - c.email.answered) for c in parts.cells.values())
    bounds = [high * DAY_SECONDS for high in EMAIL_BUCKETS]
    return waits, [*bucket_counts(parts.union("email"), bounds), unanswered]


def charts_for(
    session: Session,
    org: Organisation,
    period: Period,
    queue_ids: list[int] | None,
    targets: dict[str, float],
    today: date,
    locale: str,
) -> list[ChartView]:
    scope = tuple(queue_ids) if queue_ids is not None else None
    ttl = LIVE_TTL if period.last >= today else PAST_TTL
    key = org_key(org.id, "period-charts", str(period), scope, locale,
                  tuple(sorted(targets.items())))  # fmt: skip
    return remember(key, ttl, lambda: period_charts(session, org, period, queue_ids, targets))


def earliest(session: Session, org: Organisation) -> date | None:
    """The first day with a contact (the page offers nothing before it)."""
    return first_contact_date(session, org)


def kinds_nav(period: Period, today: date) -> list[tuple[str, Any, Period]]:
    """(kind, name, the period of that kind around this one) for the page's tabs."""
    anchor = min(period.last, today)
    return [
        (kind, name, Period.of_kind(kind, anchor))
        for kind, name in KIND_NAMES.items()
        if kind != "range"
    ]


def month_handles(
    session: Session,
    org: Organisation,
    months: list[MonthFigures],
    queue_ids: list[int] | None,
    today: date,
) -> list[MonthFigures]:
    """The Month page's months with their handle time (which frozen reports do not carry)."""
    scope = tuple(queue_ids) if queue_ids is not None else None
    out = []
    for m in months:
        ttl = LIVE_TTL if m.month.last >= today else PAST_TTL
        first, last = m.month.first, m.month.last

        def compute(first: date = first, last: date = last) -> dict[str, Any]:
            figs: dict[str, Any] = handle_times(session, org, first, last, queue_ids)
            return figs

        handle = remember(org_key(org.id, "handle", str(m.month), scope), ttl, compute)
        out.append(replace(m, total=with_handle(m.total, handle)))
    return out
