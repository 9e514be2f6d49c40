"""The report as a workbook a person reads: sheet names, headers and definitions in the reader's
language (from the figure catalogue), real dates (months, days, the time it was made), numbers
as numbers, the version, checksum and definitions printed, and the code keys of every figure on
the last sheet ("Keys": sheet, column, code key) for scripts.

Percentages are percent cells (the JSON's 50.0 is the cell 0.5 shown as 50,00 %), so Excel
writes them in the reader's own format.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _

from servicedesk.cells import write_xlsx_cell, write_xlsx_row
from servicedesk.metrics.catalogue import SECTION_LABELS, definition_for, label_for
from servicedesk.metrics.definitions import DEFINITIONS_VERSION
from servicedesk.reports import formats

#: The languages a workbook is made in.
LANGUAGES = ("sv", "nb", "en")


def _sheet_names() -> dict[str, str]:
    """Each sheet's name in the current language (at most 31 characters, none of []:*?/\\)."""
    return {
        "summary": _("Report"),
        "phone": _("Phone"),
        "email": _("E-mail"),
        "survey_headline": _("Ratings per channel"),
        "survey": _("Ratings, all channels"),
        "days": _("Days"),
        "definitions": _("Definitions"),
        "keys": _("Keys"),
    }


def _generated_at(doc: dict[str, Any]) -> datetime | None:
    try:
        return datetime.strptime(str(doc.get("generated_at")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def _local(instant: datetime, timezone: str) -> datetime:
    """A UTC instant as the organisation's wall-clock time, without zone (Excel has none)."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError):
        return instant
    return instant.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)


def _iso_day(text: str | None) -> datetime | None:
    """An ISO date as a datetime at midnight (what an Excel date cell holds)."""
    if not text:
        return None
    day = date.fromisoformat(text)
    return datetime(day.year, day.month, day.day)


def _month_start(text: str) -> date | None:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def report_xlsx(
    doc: dict[str, Any], lang: str = "en", extra_sheets: Callable[[Any], None] | None = None
) -> bytes:
    """The workbook in ``lang`` (sv, nb or en); the same version and language give the same
    bytes every time. ``extra_sheets`` adds sheets that are not part of the frozen report (the
    Reports page adds the comparison, docs/benchmarking.md): then the bytes are not fixed."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang: one of {', '.join(LANGUAGES)}")
    with force_locale(lang):
        return _workbook(doc, extra_sheets)


def _workbook(doc: dict[str, Any], extra_sheets: Callable[[Any], None] | None = None) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # Text is never taken for a formula, a link or a number (servicedesk.cells).
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(buffer, options)
    made = _generated_at(doc)
    if made is not None:
        # The workbook's creation time is the report's, not the export's: the same bytes.
        book.set_properties({"created": made})
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
        "bold": book.add_format({"bold": True, "valign": "top"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "int": book.add_format({"num_format": "0"}),
        "dec": book.add_format({"num_format": "0.00"}),
        "pct": book.add_format({"num_format": "0.00%"}),
        "month": book.add_format({"num_format": "yyyy-mm"}),
        "day": book.add_format({"num_format": "yyyy-mm-dd"}),
        "instant": book.add_format({"num_format": "yyyy-mm-dd hh:mm", "align": "left"}),
    }
    names = _sheet_names()
    keys: list[tuple[str, str, str]] = []
    _summary_sheet(book, fmt, doc, names)
    for section in formats.SECTIONS:
        _section_sheet(book, fmt, doc, section, names, keys)
    _days_sheet(book, fmt, doc, names, keys)
    _definitions_sheet(book, fmt, names)
    _keys_sheet(book, fmt, names, keys)
    if extra_sheets is not None:
        extra_sheets(book)
    book.close()
    return buffer.getvalue()


def _cell(sheet: Any, fmt: dict[str, Any], row: int, col: int, figure: str, value: Any) -> None:
    """A figure's cell: a number as a number (a percentage as a percent cell), else text."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        write_xlsx_cell(sheet, row, col, value)
    elif formats.is_percent(figure):
        sheet.write_number(row, col, value / 100, fmt["pct"])
    elif isinstance(value, int):
        sheet.write_number(row, col, value, fmt["int"])
    else:
        sheet.write_number(row, col, value, fmt["dec"])


def _summary_sheet(
    book: Any, fmt: dict[str, Any], doc: dict[str, Any], names: dict[str, str]
) -> None:
    sheet = book.add_worksheet(names["summary"])
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 70)
    title = f"{doc.get('organisation_name', doc['organisation'])}: {doc['month']}"
    write_xlsx_cell(sheet, 0, 0, title, fmt["title"])
    timezone = str(doc.get("timezone") or "UTC")
    made = _generated_at(doc)
    rows: list[tuple[str, Any, Any]] = [
        (_("Organisation"), doc.get("organisation_name", doc["organisation"]), None),
        (_("Month"), _month_start(doc["month"]), fmt["month"]),
        (_("Version"), doc["version"], fmt["int"]),
        (
            _("Made (%(zone)s)", zone=timezone),
            _local(made, timezone) if made else doc.get("generated_at"),
            fmt["instant"],
        ),
        (_("Definitions version"), doc.get("definitions_version", DEFINITIONS_VERSION), None),
        (_("SHA-256 of the JSON report"), doc.get("sha256", ""), None),
        (
            _("Month before"),
            _month_start((doc.get("previous_month") or {}).get("month", "")),
            fmt["month"],
        ),
        (
            _("Same month last year"),
            _month_start((doc.get("year_before") or {}).get("month", "")),
            fmt["month"],
        ),
    ]
    covered = doc.get("coverage")
    if covered:
        rows += [
            (_("Data from"), _iso_day(covered.get("first_day")), fmt["day"]),
            (_("Data up to"), _iso_day(covered.get("last_day")), fmt["day"]),
            (
                _("Part of the month only"),
                _("yes") if covered.get("partial") else _("no"),
                None,
            ),
        ]
    for n, (label, value, cell_format) in enumerate(rows, start=2):
        write_xlsx_cell(sheet, n, 0, label, fmt["bold"])
        write_xlsx_cell(sheet, n, 1, value, cell_format)
    note = len(rows) + 3
    write_xlsx_cell(
        sheet,
        note,
        0,
        _(
            "Figures as defined in docs/metrics.md (sheet “%(sheet)s”); the code key of every "
            "column is on the sheet “%(keys)s”.",
            sheet=names["definitions"],
            keys=names["keys"],
        ),
    )


def _periods(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    periods = [(doc["month"], doc)]
    for key in ("previous_month", "year_before"):
        other = doc.get(key)
        if other:
            periods.append((other["month"], other))
    return periods


def _section_sheet(
    book: Any,
    fmt: dict[str, Any],
    doc: dict[str, Any],
    section: str,
    names: dict[str, str],
    keys: list[tuple[str, str, str]],
) -> None:
    sheet = book.add_worksheet(names[section])
    periods = _periods(doc)
    # Every figure any scope has (a queue may have one the organisation lacks), in order.
    figures = list(
        dict.fromkeys(
            f
            for _period, figs in periods
            for scope in (figs, *(figs.get("queues") or {}).values())
            for f, _value in formats.section_figures(scope, section)
        )
    )
    headers = [_("Period"), _("Scope"), _("Queue")]
    write_xlsx_row(
        sheet, 0, 0, [*headers, *(label_for(f"{section}.{f}") for f in figures)], fmt["head"]
    )
    for col, code in enumerate(("period", "scope", "queue")):
        keys.append((names[section], headers[col], code))
    keys += [(names[section], label_for(f"{section}.{f}"), f"{section}.{f}") for f in figures]
    sheet.set_row(0, 48)
    sheet.set_column(0, 2, 14)
    sheet.set_column(3, 3 + len(figures), 14)
    sheet.freeze_panes(1, 3)
    row = 1
    for period, figs in periods:
        scopes = [(_("Organisation"), "", figs)]
        scopes += [(_("Queue"), name, q) for name, q in (figs.get("queues") or {}).items()]
        for scope, queue, values in scopes:
            write_xlsx_cell(sheet, row, 0, _month_start(period), fmt["month"])
            write_xlsx_row(sheet, row, 1, [scope, queue])
            flat = dict(formats.section_figures(values, section))
            for col, figure in enumerate(figures, start=3):
                _cell(sheet, fmt, row, col, figure, flat.get(figure))
            row += 1


def _weekday(day: date) -> str:
    from flask_babel import format_date

    return str(format_date(day, "EEEE"))


def _days_sheet(
    book: Any,
    fmt: dict[str, Any],
    doc: dict[str, Any],
    names: dict[str, str],
    keys: list[tuple[str, str, str]],
) -> None:
    if not doc.get("days"):
        return
    sheet = book.add_worksheet(names["days"])
    columns = formats.day_columns(doc)
    headers = [_("Date"), _("Weekday"), _("Week")]
    labels = [label_for(f"{s}.{f}") for s, f in columns]
    write_xlsx_row(sheet, 0, 0, [*headers, *labels], fmt["head"])
    keys += [
        (names["days"], h, c) for h, c in zip(headers, ("date", "weekday", "iso_week"), strict=True)
    ]
    keys += [
        (names["days"], label, f"{s}.{f}") for label, (s, f) in zip(labels, columns, strict=True)
    ]
    sheet.set_row(0, 48)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 1, 12)
    sheet.set_column(3, 3 + len(columns), 13)
    for r, values in enumerate(formats.day_rows(doc), start=1):
        day = date.fromisoformat(values[0])
        sheet.write_datetime(r, 0, datetime(day.year, day.month, day.day), fmt["day"])
        write_xlsx_cell(sheet, r, 1, _weekday(day))
        sheet.write_number(r, 2, day.isocalendar().week, fmt["int"])
        for c, ((_section, figure), value) in enumerate(zip(columns, values[1:], strict=True)):
            _cell(sheet, fmt, r, c + 3, figure, value)


def _definition_rows() -> Iterator[tuple[str, str, str, str]]:
    """(section, figure, code key, meaning) of every figure the catalogue defines."""
    from servicedesk.metrics.catalogue import FIGURES

    for fig in FIGURES:
        yield str(SECTION_LABELS[fig.section]), str(fig.label), fig.path, definition_for(fig.path)


def _definitions_sheet(book: Any, fmt: dict[str, Any], names: dict[str, str]) -> None:
    sheet = book.add_worksheet(names["definitions"])
    heading = _("Definitions version %(v)s (docs/metrics.md)", v=DEFINITIONS_VERSION)
    write_xlsx_cell(sheet, 0, 0, heading, fmt["title"])
    write_xlsx_row(
        sheet, 2, 0, [_("Section"), _("Figure"), _("Code key"), _("Meaning")], fmt["head"]
    )
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 2, 36)
    sheet.set_column(3, 3, 90)
    rows = list(_definition_rows())
    for n, row in enumerate(rows, start=3):
        write_xlsx_row(sheet, n, 0, list(row), fmt["wrap"])
    notes = [
        _("Rates are shares of their denominator; an empty cell has no data."),
        _(
            "A contact belongs to the local date it started; working days follow the national "
            "calendar and the organisation's closed days. A working day counts 24 hours."
        ),
    ]
    for n, note in enumerate(notes, start=len(rows) + 4):
        write_xlsx_cell(sheet, n, 0, note)


def _keys_sheet(
    book: Any,
    fmt: dict[str, Any],
    names: dict[str, str],
    keys: list[tuple[str, str, str]],
) -> None:
    """For scripts: the code key of every column of every sheet (the CSV has the figures)."""
    sheet = book.add_worksheet(names["keys"])
    write_xlsx_row(sheet, 0, 0, ["sheet", "column", "key"], fmt["head"])
    for n, row in enumerate(keys, start=1):
        write_xlsx_row(sheet, n, 0, list(row))
    sheet.set_column(0, 1, 40)
    sheet.set_column(2, 2, 50)
