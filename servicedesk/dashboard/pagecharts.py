"""The charts of the Today and Month pages, with titles, captions and their numbers."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from servicedesk import formatting as f
from servicedesk.dashboard import queries
from servicedesk.dashboard.charts import ChartView, Series, bar_chart, line_chart
from servicedesk.dashboard.monthdata import MonthFigures, dig
from servicedesk.dashboard.queries import EMAIL_BUCKETS, WAIT_BUCKETS
from servicedesk.metrics.catalogue import HEADLINES, QUESTIONS
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation


def _month_text(day: date) -> str:
    """A month inside a sentence ("juni 2026" in Swedish)."""
    return str(format_date(day, "LLLL yyyy"))


def _month_labels(series: list[MonthFigures]) -> list[str]:
    """ "okt. 25"; a month whose data covers only part of it (it is running, or the data starts
    inside it) gets a star, which the caption explains."""
    return [format_date(m.month.first, "MMM yy") + (" *" if m.partial else "") for m in series]


def _values(series: list[MonthFigures], path: str) -> list[float | None]:
    return [dig(m.total, path) for m in series]


def _bucket_labels(bounds: tuple[int, ...]) -> list[str]:
    """ "0–30", "30–60", ..., "> 600": the buckets of ``queries._bucket_counts``."""
    lows = (0, *bounds)
    return [f"{low}–{high}" for low, high in zip(lows, bounds, strict=False)] + [f"> {lows[-1]}"]


def _target_series(targets: dict[str, float], key: str, n: int) -> list[Series]:
    if key not in targets:
        return []
    return [Series(_("Target"), [targets[key]] * n)]


def month_charts(
    session: Session,
    org: Organisation,
    month: Month,
    queue_ids: list[int] | None,
    series: list[MonthFigures],
    targets: dict[str, float],
    locale: str,
) -> list[ChartView]:
    """Trend lines over 13 months, and how waits, answer times and grades were spread."""
    labels = _month_labels(series)
    n = len(series)
    period = _(
        "%(first)s to %(last)s",
        first=_month_text(series[0].month.first),
        last=_month_text(month.first),
    )
    note = ""
    if any(m.partial for m in series):
        note = " " + _("* = part of the month only (the data starts or ends inside it).")

    def share_trend(
        chart_id: str, title: str, caption: str, lines: list[tuple[str, str]]
    ) -> ChartView:
        """Two shares (%) per month; the first one's target as a dashed line."""
        return line_chart(
            chart_id,
            title,
            caption,
            labels,
            [Series(name, _values(series, path)) for name, path in lines],
            f.pct,
            first_column=_("Month"),
            y_range=(0, 100),
            secondary=_target_series(targets, lines[0][1], n),
            axis_fmt=lambda v: f.pct(v, 0),
        )

    charts = [
        share_trend(
            "trend-phone",
            _("Phone: direct answers and service level"),
            _("Share of offered calls, per month, %(period)s.", period=period) + note,
            [
                (_("Direct answers"), "phone.direct_answer_rate"),
                (_("Service level"), "phone.service_level"),
            ],
        ),
        share_trend(
            "trend-email",
            _("E-mail: answered within 1 and 2 working days"),
            _("Share of received e-mails, per month, %(period)s.", period=period) + note,
            [
                (_("Within 1 working day"), "email.within_1_working_day"),
                (_("Within 2 working days"), "email.within_2_working_days"),
            ],
        ),
        line_chart(
            "trend-survey",
            _("Citizens' ratings"),
            _("Index 0–100 (grade 5 = 100, 1 = 0), per month, %(period)s.", period=period) + note,
            labels,
            [
                Series(str(h.label), _values(series, f"survey_headline.{h.key}.index"))
                for h in HEADLINES
            ],
            f.index,
            first_column=_("Month"),
            y_range=(0, 100),
            axis_fmt=f.num,
        ),
        line_chart(
            "trend-volume",
            _("Contacts per month"),
            _("Calls offered and e-mails received, %(period)s.", period=period) + note,
            labels,
            [
                Series(_("Calls offered"), _values(series, "phone.offered")),
                Series(_("E-mails received"), _values(series, "email.received")),
            ],
            f.num,
            first_column=_("Month"),
        ),
    ]
    waits = queries.wait_distribution(session, org, month.first, month.last, queue_ids)
    charts.append(
        bar_chart(
            "dist-wait",
            _("Wait before answer"),
            _(
                "Answered calls in %(month)s by how long the caller waited.",
                month=_month_text(month.first),
            ),
            _bucket_labels(WAIT_BUCKETS),
            [Series(_("Answered calls"), waits)],
            f.num,
            first_column=_("Seconds"),
            x_title=_("Seconds in the queue"),
        )
    )
    spread = queries.email_answer_distribution(session, org, month.first, month.last, queue_ids)
    charts.append(
        bar_chart(
            "dist-email",
            _("E-mail answer time"),
            _(
                "E-mails received in %(month)s by working days to the first answer.",
                month=_month_text(month.first),
            ),
            [*_bucket_labels(EMAIL_BUCKETS), _("not answered")],
            [Series(_("E-mails"), spread)],
            f.num,
            first_column=_("Working days"),
            x_title=_("Working days to the first answer"),
        )
    )
    grades = queries.score_distribution(session, org, month.first, month.last, queue_ids)
    charts.append(
        bar_chart(
            "dist-grades",
            _("Grades given by citizens"),
            _(
                "Survey answers about contacts of %(month)s, by grade (1 = worst, 5 = best).",
                month=_month_text(month.first),
            ),
            ["1", "2", "3", "4", "5"],
            [Series(str(q.label), grades.get(q.key, [0] * 5)) for q in QUESTIONS],
            f.num,
            first_column=_("Grade"),
            x_title=_("Grade"),
        )
    )
    return charts


def today_chart(
    hours: dict[int, tuple[int, int]], locale: str, day: date | None = None
) -> ChartView:
    """Calls offered and answered per hour of today (or of ``day``, the last working day)."""
    span = sorted(hours) or [8]
    labels_hours = list(range(min(7, span[0]), max(17, span[-1]) + 1))
    labels = [f"{h:02d}" for h in labels_hours]
    return bar_chart(
        "today-hours",
        _("Calls per hour today")
        if day is None
        else _("Calls per hour, %(day)s", day=format_date(day, "EEEE d MMMM")),
        _("Calls offered and answered, by the hour they came in (local time)."),
        labels,
        [
            Series(_("Offered"), [hours.get(h, (0, 0))[0] for h in labels_hours]),
            Series(_("Answered"), [hours.get(h, (0, 0))[1] for h in labels_hours]),
        ],
        f.num,
        first_column=_("Hour"),
        x_title=_("Hour of the day"),
    )
