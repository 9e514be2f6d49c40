"""A report document as rows: for CSV, the readable table and the spreadsheet."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from servicedesk.cells import Number, SafeCsvWriter
from servicedesk.metrics.catalogue import BY_PATH, SECTION_LABELS, label_for
from servicedesk.reports.service import canonical_json

#: The CSV dialects. "rfc4180": what scripts and the API read (commas, decimal points, code
#: keys, no BOM). "excel": what a person double-clicks in Swedish or Norwegian Excel (UTF-8 with
#: a byte-order mark so that å, ä, ö survive, semicolons, decimal commas, CRLF, headers and
#: figure names in the reader's language beside the code keys).
DIALECTS = ("rfc4180", "excel")
BOM = "\ufeff"

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


#: What a report says of its data's coverage (docs/metrics.md, "Coverage").
COVERAGE = ("first_day", "last_day", "days", "partial", "running")


def figure_rows(doc: dict[str, Any]) -> Iterator[list[Any]]:
    """One row per figure and per scope (organisation, each queue), comparisons beside it;
    then the organisation's data coverage (section ``coverage``) when the report has it."""
    yield from _scope_rows(doc)
    if "coverage" in doc:
        prev, year = doc.get("previous_month") or {}, doc.get("year_before") or {}
        for key in COVERAGE:
            yield [
                doc["organisation"],
                doc["month"],
                doc["version"],
                "organisation",
                "",
                "coverage",
                key,
                doc["coverage"].get(key),
                (prev.get("coverage") or {}).get(key),
                (year.get("coverage") or {}).get(key),
            ]


def _scope_rows(doc: dict[str, Any]) -> Iterator[list[Any]]:
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


def _csv(header: list[str], rows: Iterator[list[Any]], dialect: str = "rfc4180") -> str:
    out = io.StringIO()
    if dialect == "excel":
        out.write(BOM)
        writer = SafeCsvWriter(out, delimiter=";", lineterminator="\r\n")
    elif dialect == "rfc4180":
        writer = SafeCsvWriter(out)
    else:
        raise ValueError(f"dialect: one of {', '.join(DIALECTS)}")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def excel_value(value: Any) -> Any:
    """A value for the Excel dialect: a decimal comma, booleans as words, text as it is."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return Number(f"{value:.2f}".replace(".", ","))
    if isinstance(value, int):
        return Number(str(value))
    return value


def _unit(section: str, figure: str) -> str:
    fig = BY_PATH.get(f"{section}.{figure}")
    unit = fig.unit if fig is not None else ("pct" if is_percent(figure) else "")
    return {"pct": "%", "secs": "s", "hours": "h", "index": "0–100", "count": ""}.get(unit, "")


def _excel_figure_rows(doc: dict[str, Any]) -> Iterator[list[Any]]:
    for row in figure_rows(doc):
        org, month, version, scope, queue, section, figure, value, prev, year = row
        yield [
            doc.get("organisation_name", org),
            month,
            version,
            _("Organisation") if scope == "organisation" else _("Queue"),
            queue,
            str(SECTION_LABELS.get(section, section)),
            label_for(f"{section}.{figure}"),
            f"{section}.{figure}",
            _unit(section, figure),
            *(excel_value(v) for v in (value, prev, year)),
        ]


def _excel_header() -> list[str]:
    return [
        _("Organisation"),
        _("Month"),
        _("Version"),
        _("Scope"),
        _("Queue"),
        _("Section"),
        _("Figure"),
        _("Code key"),
        _("Unit"),
        _("Value"),
        _("Month before"),
        _("Same month last year"),
    ]


def report_csv(doc: dict[str, Any], dialect: str = "rfc4180", lang: str = "en") -> str:
    """The report as CSV: one row per figure and per queue (``lang``: the Excel dialect's)."""
    if dialect != "excel":
        return _csv(CSV_HEADER, figure_rows(doc), dialect)
    with force_locale(lang):
        return _csv(_excel_header(), _excel_figure_rows(doc), dialect)


def day_columns(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The (section, figure) columns of the per-day table."""
    first = next(iter(doc["days"].values()))
    return [(s, f) for s in SECTIONS for f, _ in section_figures(first, s)]


def day_rows(doc: dict[str, Any]) -> Iterator[list[Any]]:
    columns = day_columns(doc)
    for day, figs in doc["days"].items():
        yield [day, *(_lookup(figs, s, f) for s, f in columns)]


def days_csv(doc: dict[str, Any], dialect: str = "rfc4180", lang: str = "en") -> str:
    """The organisation's figures per local day of the month, one row per day."""
    columns = day_columns(doc)
    if dialect != "excel":
        header = ["date", *(f"{s}.{f}" for s, f in columns)]
        return _csv(header, day_rows(doc), dialect)
    with force_locale(lang):
        header = [_("Date"), *(label_for(f"{s}.{f}") for s, f in columns)]
        rows = ([row[0], *(excel_value(v) for v in row[1:])] for row in day_rows(doc))
        return _csv(header, rows, dialect)


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
