"""A report document as rows: for CSV, the readable table and the spreadsheet."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from servicedesk.cells import SafeCsvWriter
from servicedesk.reports.service import canonical_json

#: The report's sections of figures, in the exports' order: SKR's per-channel survey figures
#: lead the survey figures; the all-channel ones follow (kept for scripts that read them).
SECTIONS = ("phone", "email", "survey_headline", "survey")

#: Figures given in percent (a spreadsheet formats them so).
PERCENT_FIGURES = {
    "direct_answer_rate",
    "abandon_rate",
    "service_level",
    "within_1_working_day",
    "within_2_working_days",
    "good_share",
    "survey_response_rate",
    "response_rate",
    "yes_share",
}
#: Leaves of the headline figures that name rather than measure (the key already says them).
_NAMING = ("channel", "question")

CSV_HEADER = [
    "organisation",
    "month",
    "version",
    "scope",
    "queue",
    "section",
    "figure",
    "value",
    "previous_month",
    "year_before",
]


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """("wait_seconds.median", 30.0) pairs, in the document's own order."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, value


def _expanded(section: str, value: Any) -> Any:
    """A section ready to flatten: a headline figure's null interval as two empty bounds (so
    every scope has the same columns), without the naming leaves."""
    if section != "survey_headline" or not isinstance(value, dict):
        return value
    out = {}
    for key, fig in value.items():
        if isinstance(fig, dict):
            fig = {k: v for k, v in fig.items() if k not in _NAMING}
            if "ci95" in fig and not fig["ci95"]:
                fig["ci95"] = {"low": None, "high": None}
        out[key] = fig
    return out


def section_figures(figs: dict[str, Any] | None, section: str) -> Iterator[tuple[str, Any]]:
    """(figure, value) pairs of one section of a scope's figures (empty when it has none)."""
    return flatten(_expanded(section, (figs or {}).get(section) or {}))


def is_percent(figure: str) -> bool:
    return figure.rsplit(".", 1)[-1] in PERCENT_FIGURES


def _lookup(scope: dict[str, Any] | None, section: str, figure: str) -> Any:
    value: Any = (scope or {}).get(section)
    for part in figure.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


Figures = dict[str, Any]


def scopes(
    doc: dict[str, Any],
) -> Iterator[tuple[str, str, Figures, Figures | None, Figures | None]]:
    """(scope, queue name, figures, the previous month's, the year before's) per scope."""
    prev, year = doc.get("previous_month") or {}, doc.get("year_before") or {}
    yield "organisation", "", doc, prev, year
    for name, queue in doc["queues"].items():
        yield (
            "queue",
            name,
            queue,
            prev.get("queues", {}).get(name),
            year.get("queues", {}).get(name),
        )


def figure_rows(doc: dict[str, Any]) -> Iterator[list[Any]]:
    """One row per figure and per scope (organisation, each queue), comparisons beside it."""
    for scope, queue, figs, prev, year in scopes(doc):
        for section in SECTIONS:
            for figure, value in section_figures(figs, section):
                yield [
                    doc["organisation"],
                    doc["month"],
                    doc["version"],
                    scope,
                    queue,
                    section,
                    figure,
                    value,
                    _lookup(prev, section, figure),
                    _lookup(year, section, figure),
                ]


def _csv(header: list[str], rows: Iterator[list[Any]]) -> str:
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def report_csv(doc: dict[str, Any]) -> str:
    """The report as CSV: one row per figure and per queue."""
    return _csv(CSV_HEADER, figure_rows(doc))


def day_columns(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The (section, figure) columns of the per-day table."""
    first = next(iter(doc["days"].values()))
    return [(s, f) for s in SECTIONS for f, _ in section_figures(first, s)]


def day_rows(doc: dict[str, Any]) -> Iterator[list[Any]]:
    columns = day_columns(doc)
    for day, figs in doc["days"].items():
        yield [day, *(_lookup(figs, s, f) for s, f in columns)]


def days_csv(doc: dict[str, Any]) -> str:
    """The organisation's figures per local day of the month, one row per day."""
    header = ["date", *(f"{s}.{f}" for s, f in day_columns(doc))]
    return _csv(header, day_rows(doc))


def report_json(doc: dict[str, Any], pretty: bool = True) -> str:
    """The document as JSON; ``pretty=False`` gives the canonical bytes its sha256 is of."""
    if not pretty:
        return canonical_json({k: v for k, v in doc.items() if k != "sha256"}).decode()
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _show(value: Any, figure: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" + (" %" if is_percent(figure) else "")
    return str(value)


def report_table(doc: dict[str, Any]) -> str:
    """A readable plain-text table of the organisation's and each queue's figures."""
    lines = [
        f"{doc.get('organisation_name', doc['organisation'])} - {doc['month']} - "
        f"version {doc['version']} - made {doc['generated_at']}",
        f"definitions {doc.get('definitions_version', '?')}; sha256 {doc.get('sha256', '?')}",
    ]
    prev = (doc.get("previous_month") or {}).get("month", "previous")
    year = (doc.get("year_before") or {}).get("month", "year before")
    for scope, queue, figs, p, y in scopes(doc):
        lines += ["", (f"Queue: {queue}" if scope == "queue" else "Organisation")]
        lines.append(f"  {'figure':<44}{'value':>12}{prev:>12}{year:>12}")
        for section in SECTIONS:
            for figure, value in section_figures(figs, section):
                if ".by_channel." in figure:
                    continue
                name = f"{section}.{figure}"
                lines.append(
                    f"  {name:<44}{_show(value, figure):>12}"
                    f"{_show(_lookup(p, section, figure), figure):>12}"
                    f"{_show(_lookup(y, section, figure), figure):>12}"
                )
    return "\n".join(lines) + "\n"
