"""The Intervals page: a weekday x hour heat map of a period, and one day cut into 15-, 30- or
60-minute intervals, each with its table (``servicedesk.metrics.intervals`` counts them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from servicedesk import formatting as f
from servicedesk.dashboard.charts import ChartView, Series, bar_chart, line_chart
from servicedesk.dashboard.pagecharts import _target_series
from servicedesk.metrics.intervals import Slot, day_slots, weekday_hours

#: What the heat map can show: (key, name, filter, higher is better or None for a count).
MEASURES = {
    "offered_per_day": (_l("Calls offered per day"), "num1", None),
    "service_level": (_l("Service level"), "pct", True),
    "abandon_rate": (_l("Abandoned calls"), "pct", False),
    "mean_wait": (_l("Mean wait"), "secs", False),
}
#: The hours always shown (a working day), widened to any hour with calls.
DAY_HOURS = (7, 17)
LEVELS = 5


@dataclass
class HeatMap:
    """A table coloured by value: rows (label, [(value, text, level)])."""

    title: str
    caption: str
    corner: str
    columns: list[str]
    rows: list[tuple[str, list[tuple[Any, str, str]]]] = field(default_factory=list)
    #: The legend's levels, (class, text), lowest first.
    legend: list[tuple[str, str]] = field(default_factory=list)


def hour_span(hours: set[int]) -> list[int]:
    """The hours to show: the working day, and every hour with calls."""
    low, high = DAY_HOURS
    if hours:
        low, high = min(low, min(hours)), max(high, max(hours))
    return list(range(low, high + 1))


def level(value: float | None, measure: str, top: float, target: float | None) -> str:
    """The colour class of a value: "lvl0" (empty) to "lvl5"; with a target, "good"/"bad"."""
    if value is None:
        return "lvl-none"
    better = MEASURES[measure][2]
    if target is not None and better is not None:
        met = value >= target if better else value <= target
        return "heat-good" if met else "heat-bad"
    if top <= 0:
        return "lvl0"
    return f"lvl{min(LEVELS, 1 + int((LEVELS - 1) * value / top + 0.5))}" if value else "lvl0"


def _write(value: Any, fmt: str) -> str:
    if fmt == "num1":
        return f.num(value, 1) if value is not None else f.DASH
    return str(f.FILTERS[fmt](value))


WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)


def weekday_names() -> dict[int, str]:
    # 2026-06-01 is a Monday.
    return {d: str(format_date(date(2026, 6, d), "EEEE")).capitalize() for d in WEEKDAYS}


def week_heatmap(
    grid: dict[tuple[int, int], Slot], measure: str, targets: dict[str, float], dates: str
) -> HeatMap:
    """The weekday x hour heat map of one measure."""
    name, fmt, _better = MEASURES[measure]
    hours = hour_span({h for _, h in grid})
    days = [d for d in WEEKDAYS if d <= 5 or any(k[0] == d for k in grid)]
    values = {key: slot.figures()[measure] for key, slot in grid.items()}
    top = max((v for v in values.values() if v is not None), default=0)
    target = (
        targets.get(f"phone.{measure}") if measure in ("service_level", "abandon_rate") else None
    )
    names = weekday_names()
    heat = HeatMap(
        title=str(_("%(measure)s by weekday and hour", measure=name)),
        caption=str(_("Calls by the hour they came in (local time), %(dates)s.", dates=dates)),
        corner=str(_("Weekday")),
        columns=[f"{h:02d}" for h in hours],
    )
    for d in days:
        cells = []
        for h in hours:
            v = values.get((d, h))
            if measure == "offered_per_day" and v is None:
                v = 0.0
            cells.append((v, _write(v, fmt), level(v, measure, float(top), target)))
        heat.rows.append((names[d], cells))
    if target is not None:
        heat.legend = [("heat-good", str(_("Target met"))), ("heat-bad", str(_("Target missed")))]
    else:
        heat.legend = [("lvl1", str(_("Few"))), ("lvl5", str(_("Most")))]
    return heat


def slot_label(n: int, minutes: int) -> str:
    start = n * minutes
    return f"{start // 60:02d}:{start % 60:02d}"


def day_view(
    slots: dict[int, Slot], minutes: int, targets: dict[str, float], day_text: str
) -> tuple[list[ChartView], list[tuple[str, dict[str, Any]]]]:
    """One day's charts (calls, service level) and its table, slot by slot."""
    per_hour = 60 // minutes
    hours = hour_span({n // per_hour for n in slots})
    numbers = list(range(hours[0] * per_hour, (hours[-1] + 1) * per_hour))
    labels = [slot_label(n, minutes) for n in numbers]
    figs = [slots.get(n, Slot()).figures() for n in numbers]
    interval = _("%(n)s-minute intervals", n=minutes)
    charts = [
        bar_chart(
            "intervals-calls",
            _("Calls per interval"),
            _("Calls offered and answered, %(interval)s, %(day)s (local time).",
              interval=interval, day=day_text),
            labels,
            [Series(_("Offered"), [x["offered"] for x in figs]),
             Series(_("Answered"), [x["answered"] for x in figs])],
            f.num,
            first_column=_("Interval"),
            x_title=_("Start of the interval"),
            x_labels_every=max(1, per_hour) if len(labels) > 24 else None,
        ),
        line_chart(
            "intervals-service-level",
            _("Service level per interval"),
            _("Share of offered calls answered within the service level, %(interval)s, %(day)s. "
              "No calls: no value.", interval=interval, day=day_text),
            labels,
            [Series(_("Service level"), [x["service_level"] for x in figs])],
            f.pct,
            first_column=_("Interval"),
            y_range=(0, 100),
            secondary=_target_series(targets, "phone.service_level", len(labels)),
            axis_fmt=lambda v: f.pct(v, 0),
        ),
    ]  # fmt: skip
    return charts, list(zip(labels, figs, strict=True))


def interval_data(
    session: Session,
    org: Any,
    first: date,
    last: date,
    day: date,
    minutes: int,
    queue_ids: list[int] | None,
) -> tuple[dict[tuple[int, int], Slot], dict[int, Slot]]:
    return (
        weekday_hours(session, org, first, last, queue_ids),
        day_slots(session, org, day, queue_ids, minutes),
    )
