"""What the Comparison page, its print view and its spreadsheet show: per shared figure the
organisation's place, the median and quartiles, the distribution as a chart with the
organisation marked, and its places over the last 12 months."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygal
from flask_babel import gettext as _
from sqlmodel import Session

from servicedesk.benchmarking.comparison import Comparison, compare, history
from servicedesk.benchmarking.figures import BY_KEY, FIGURES
from servicedesk.benchmarking.labels import figure_label, participant_label, reason_text
from servicedesk.benchmarking.periods import Period, last_months
from servicedesk.benchmarking.ranking import Place, Ranking
from servicedesk.dashboard.charts import ChartView, base_config, to_markup
from servicedesk.formatting import index, month_label, num, pct
from servicedesk.metrics.periods import Month


def written(key: str, value: float | None) -> str:
    return pct(value) if BY_KEY[key].unit == "percent" else index(value)


@dataclass
class Row:
    """One participant's line in a figure's table."""

    place: int | None
    name: str
    group: str
    value: str
    basis: str
    sources: str
    own: bool
    reason: str


@dataclass
class FigureView:
    key: str
    label: str
    better: str
    ranking: Ranking
    own: Place | None
    #: "6 av 14" or the reason it is not ranked.
    headline: str
    note: str
    median: str
    quartiles: str
    rows: list[Row]
    chart: ChartView | None


def _source(month: str, version: int, sha: str) -> str:
    """ "2026-06 v2 (3f9a0c1e), replaces v1": a late version says what it replaced."""
    text = f"{month} v{version} ({sha[:8]})"
    if version > 1:
        text += ", " + _("replaces v%(n)s", n=version - 1)
    return text


def _row(key: str, place: Place, own: str | None) -> Row:
    e = place.entry
    mine = e.participant == own
    name = participant_label(e.label)
    unit = _("answers") if e.survey else (_("e-mails") if key.startswith("email") else _("calls"))
    return Row(
        place=place.place,
        name=name,
        group=e.group,
        value=written(key, e.value),
        basis=f"{num(e.denominator)} {unit}",
        sources=", ".join(_source(m, v, sha) for m, v, sha in e.sources),
        own=mine,
        reason=reason_text(place.reason, e.denominator),
    )


def distribution_chart(view_key: str, label: str, ranking: Ranking, own: str | None) -> ChartView:
    """The ranked values as bars, best first, the organisation's bar in a series (and colour)
    of its own: two stacked series, one of them empty at each place, so no bar needs an inline
    style (the pages' CSP allows none)."""
    whole = pct if BY_KEY[view_key].unit == "percent" else num
    chart = pygal.HorizontalStackedBar(
        **base_config(
            # Only the axis shows values (no tooltips, no printed values): whole numbers.
            value_formatter=lambda v: whole(v, 0),
            y_labels=[0, 20, 40, 60, 80, 100],
            show_legend=True,
            truncate_label=-1,
            truncate_legend=-1,
            height=max(220, 34 * len(ranking.places) + 110),
            range=(0, 100),
            legend_at_bottom_columns=2,
        )
    )
    places = list(reversed(ranking.places))  # pygal draws the first label at the bottom
    chart.x_labels = [f"{p.place}. {participant_label(p.entry.label)}" for p in places]
    mine = [p.entry.participant == own for p in places]
    chart.add(
        _("Others"), [None if m else p.entry.value for p, m in zip(places, mine, strict=True)]
    )
    chart.add(
        _("Your organisation"),
        [p.entry.value if m else None for p, m in zip(places, mine, strict=True)],
    )
    chart_id = "cmp-" + view_key.replace(".", "-").replace("_", "-")
    rows = [
        [f"{p.place}. {participant_label(p.entry.label)}", written(view_key, p.entry.value)]
        for p in ranking.places
    ]
    median = written(view_key, ranking.median)
    return ChartView(
        chart_id=chart_id,
        title=label,
        caption=" " + _("Median %(m)s.", m=median),
        svg=to_markup(chart, chart_id, f"{chart_id}-title"),
        columns=[_("Place"), label],
        rows=rows,
    )


def figure_view(ranking: Ranking, own: str | None, charts: bool = True) -> FigureView:
    key = ranking.key
    label = figure_label(key)
    mine = ranking.place_of(own) if own else None
    if not ranking.ranked:
        headline = "–"
        note = reason_text(ranking.reason, ranking.participants)
    elif mine is None:
        headline, note = "–", _("Your organisation does not share this figure.")
    elif mine.place is None:
        headline, note = "–", reason_text(mine.reason, mine.entry.denominator)
    else:
        headline = _("%(place)s of %(n)s", place=mine.place, n=ranking.participants)
        note = _("Your figure: %(value)s.", value=written(key, mine.entry.value))
    return FigureView(
        key=key,
        label=label,
        better=_("higher is better") if ranking.direction == "higher" else _("lower is better"),
        ranking=ranking,
        own=mine,
        headline=headline,
        note=note,
        median=written(key, ranking.median),
        quartiles=(
            f"{written(key, ranking.lower_quartile)} – {written(key, ranking.upper_quartile)}"
        ),
        rows=[_row(key, p, own) for p in (*ranking.places, *ranking.left_out)],
        chart=distribution_chart(key, label, ranking, own) if charts and ranking.ranked else None,
    )


@dataclass
class HistoryRow:
    key: str
    label: str
    cells: list[str]


@dataclass
class ComparisonPage:
    period: Period
    comparison: Comparison
    figures: list[FigureView]
    months: list[Month]
    history: list[HistoryRow]
    #: The municipality group compared within, or None for everyone.
    group: str | None = None


def history_rows(
    session: Session, last: Month, own: str, group: str | None = None
) -> tuple[list[Month], list[HistoryRow]]:
    months = last_months(last, 12)
    places = history(session, months, own, group=group)
    rows = []
    for figure in FIGURES:
        cells = [
            _("%(place)s of %(n)s", place=place, n=n) if place is not None and n else "–"
            for _month, place, n in places.get(figure.key, [])
        ]
        if any(c != "–" for c in cells):
            rows.append(HistoryRow(figure.key, figure_label(figure.key), cells))
    return months, rows


def comparison_page(
    session: Session, period: Period, own: str, *, charts: bool = True, group: str | None = None
) -> ComparisonPage:
    """The page's data; ``group``: among that municipality group's participants only."""
    result = compare(session, period, own, group=group)
    months, rows = history_rows(session, period.last, own, group)
    return ComparisonPage(
        period=period,
        comparison=result,
        figures=[figure_view(r, own, charts) for r in result.rankings],
        months=months,
        history=rows,
        group=group,
    )


def period_label(period: Period) -> str:
    if period.kind == "month":
        return month_label(period.months[0].first)
    if period.kind == "quarter":
        return str(_("Quarter %(q)s %(year)s", q=period.text[-1], year=period.text[:4]))
    return period.text


def period_choices(latest: Month) -> list[tuple[str, str]]:
    """The last 12 months, the last 4 quarters and the last 2 years, newest first."""
    months = list(reversed(last_months(latest, 12)))
    quarters: list[str] = []
    for m in months:
        q = f"{m.year}-Q{(m.month - 1) // 3 + 1}"
        if q not in quarters:
            quarters.append(q)
    years = [str(latest.year), str(latest.year - 1)]
    texts = [str(m) for m in months] + quarters[:4] + years
    return [(t, period_label(Period.parse(t))) for t in texts]


def sheet_rows(page: ComparisonPage) -> list[list[Any]]:
    """The comparison as spreadsheet rows: one per figure and participant."""
    out: list[list[Any]] = []
    for view in page.figures:
        for place in (*view.ranking.places, *view.ranking.left_out):
            e = place.entry
            out.append(
                [
                    str(page.period),
                    view.key,
                    view.label,
                    place.place,
                    view.ranking.participants if view.ranking.ranked else None,
                    participant_label(e.label),
                    e.group,
                    e.value,
                    e.denominator,
                    view.ranking.median,
                    view.ranking.lower_quartile,
                    view.ranking.upper_quartile,
                    "; ".join(f"{m} v{v} {sha}" for m, v, sha in e.sources),
                    reason_text(
                        place.reason or view.ranking.reason,
                        e.denominator if place.reason else view.ranking.participants,
                    ),
                    "x" if e.participant == page.comparison.own else "",
                ]
            )
    return out
