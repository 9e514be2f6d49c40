"""Report files for quality staff: XLSX, CSV, per-day CSV, JSON, and the per-contact audit CSV."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.cells import SafeCsvWriter, write_xlsx_cell, write_xlsx_row
from servicedesk.contacts.models import Contact
from servicedesk.db import table_of
from servicedesk.metrics.definitions import (
    DEFINITIONS_VERSION,
    FIGURE_DEFINITIONS,
    ONE_WORKING_DAY,
    QUESTIONS,
    TWO_WORKING_DAYS,
)
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation, Queue
from servicedesk.reports import formats
from servicedesk.reports.models import Report

C = table_of(Contact)

SECTION_TITLES = {
    "phone": "Phone",
    "email": "E-mail",
    "survey_headline": "Survey per channel",
    "survey": "Survey",
}


#: The formats made from the frozen document alone: (file suffix, media type). Their bytes never
#: change for a given version, so the report's sha256 can stand for them (an HTTP ETag).
DOCUMENT_FORMATS = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "json": ("json", "application/json"),
    "days-csv": ("days.csv", "text/csv; charset=utf-8"),
}


def document_bytes(doc: dict[str, Any], fmt: str) -> bytes:
    """The frozen document in one of DOCUMENT_FORMATS."""
    if fmt == "xlsx":
        return report_xlsx(doc)
    if fmt == "json":
        return formats.report_json(doc).encode()
    if fmt == "csv":
        return formats.report_csv(doc).encode()
    if fmt == "days-csv":
        return formats.days_csv(doc).encode()
    raise ValueError(f"format: unknown format {fmt!r}")


def write(session: Session, report: Report, fmt: str, output: Path) -> int:
    """Write ``report`` as ``fmt`` to ``output``; returns the bytes written."""
    if fmt == "audit-csv":
        org = session.get(Organisation, report.organisation_id)
        assert org is not None
        return _write_stream(output, audit_csv_chunks(session, org, Month.parse(report.month)))
    data = document_bytes(report.document, fmt)
    output.write_bytes(data)
    return len(data)


def _write_stream(output: Path, chunks: Iterator[str]) -> int:
    size = 0
    with output.open("w", encoding="utf-8", newline="") as fh:
        for chunk in chunks:
            fh.write(chunk)
            size += len(chunk.encode())
    return size


# ---------------------------------------------------------------------------------------------
# XLSX


def report_xlsx(doc: dict[str, Any]) -> bytes:
    """The report as a workbook: a sheet per section with queues as rows, the comparisons
    below them, the days, and the definitions on their own sheet. Percentages are real
    percent cells (the JSON's 50.0 is the cell value 0.5 shown as 50.00%)."""
    import xlsxwriter

    buffer = io.BytesIO()
    # Text is never taken for a formula, a link or a number (servicedesk.cells).
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(buffer, options)
    # The workbook's creation time is the report's, not the export's: the same version then
    # gives the same bytes every time (XlsxWriter fixes the zip entries' dates itself).
    made = _generated_at(doc)
    if made is not None:
        book.set_properties({"created": made})
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": book.add_format({"bold": True, "bottom": 1, "text_wrap": True}),
        "bold": book.add_format({"bold": True}),
        "int": book.add_format({"num_format": "0"}),
        "dec": book.add_format({"num_format": "0.00"}),
        "pct": book.add_format({"num_format": "0.00%"}),
    }
    _summary_sheet(book, fmt, doc)
    for section in formats.SECTIONS:
        _section_sheet(book, fmt, doc, section)
    _days_sheet(book, fmt, doc)
    _definitions_sheet(book, fmt)
    book.close()
    return buffer.getvalue()


def _generated_at(doc: dict[str, Any]) -> datetime | None:
    try:
        return datetime.strptime(str(doc.get("generated_at")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def _cell(sheet: Any, fmt: dict[str, Any], row: int, col: int, figure: str, value: Any) -> None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        write_xlsx_cell(sheet, row, col, value)
    elif formats.is_percent(figure):
        sheet.write_number(row, col, value / 100, fmt["pct"])
    elif isinstance(value, int):
        sheet.write_number(row, col, value, fmt["int"])
    else:
        sheet.write_number(row, col, value, fmt["dec"])


def _summary_sheet(book: Any, fmt: dict[str, Any], doc: dict[str, Any]) -> None:
    sheet = book.add_worksheet("Report")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 70)
    title = f"{doc.get('organisation_name', doc['organisation'])} {doc['month']}"
    write_xlsx_cell(sheet, 0, 0, title, fmt["title"])
    rows = [
        ("Organisation", doc["organisation"]),
        ("Month", doc["month"]),
        ("Version", doc["version"]),
        ("Generated at (UTC)", doc["generated_at"]),
        ("Definitions version", doc.get("definitions_version", DEFINITIONS_VERSION)),
        ("Time zone", doc.get("timezone", "")),
        ("sha256 of the JSON report", doc.get("sha256", "")),
        ("Previous month", (doc.get("previous_month") or {}).get("month", "")),
        ("Same month a year before", (doc.get("year_before") or {}).get("month", "")),
    ]
    rows += [(f"Counts: {k}", v) for k, v in (doc.get("counts") or {}).items()]
    for n, (label, value) in enumerate(rows, start=2):
        write_xlsx_cell(sheet, n, 0, label, fmt["bold"])
        write_xlsx_cell(sheet, n, 1, value)


def _section_sheet(book: Any, fmt: dict[str, Any], doc: dict[str, Any], section: str) -> None:
    sheet = book.add_worksheet(SECTION_TITLES[section])
    periods = [(doc["month"], doc)]
    for key in ("previous_month", "year_before"):
        other = doc.get(key)
        if other:
            periods.append((other["month"], other))
    # Every figure any scope has (a queue may have one the organisation lacks), in order.
    figures = list(
        dict.fromkeys(
            f
            for _, figs in periods
            for scope in (figs, *(figs.get("queues") or {}).values())
            for f, _ in formats.section_figures(scope, section)
        )
    )
    write_xlsx_row(sheet, 0, 0, ["Period", "Scope", "Queue", *figures], fmt["head"])
    sheet.set_column(0, 2, 14)
    sheet.set_column(3, 3 + len(figures), 13)
    sheet.freeze_panes(1, 3)
    row = 1
    for period, figs in periods:
        scopes = [("Organisation", "", figs)]
        scopes += [("Queue", name, q) for name, q in (figs.get("queues") or {}).items()]
        for scope, queue, values in scopes:
            write_xlsx_row(sheet, row, 0, [period, scope, queue])
            flat = dict(formats.section_figures(values, section))
            for col, figure in enumerate(figures, start=3):
                _cell(sheet, fmt, row, col, figure, flat.get(figure))
            row += 1


def _days_sheet(book: Any, fmt: dict[str, Any], doc: dict[str, Any]) -> None:
    if not doc.get("days"):
        return
    sheet = book.add_worksheet("Days")
    columns = formats.day_columns(doc)
    write_xlsx_row(sheet, 0, 0, ["date", *(f"{s}.{f}" for s, f in columns)], fmt["head"])
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 0, 12)
    for r, values in enumerate(formats.day_rows(doc), start=1):
        write_xlsx_cell(sheet, r, 0, values[0])
        for c, ((_section, figure), value) in enumerate(zip(columns, values[1:], strict=True)):
            _cell(sheet, fmt, r, c + 1, figure, value)


def _definitions_sheet(book: Any, fmt: dict[str, Any]) -> None:
    sheet = book.add_worksheet("Definitions")
    heading = f"Definitions version {DEFINITIONS_VERSION} (docs/metrics.md)"
    write_xlsx_cell(sheet, 0, 0, heading, fmt["title"])
    write_xlsx_row(sheet, 2, 0, ["Section", "Figure", "Meaning", "Denominator"], fmt["head"])
    sheet.set_column(0, 1, 24)
    sheet.set_column(2, 2, 90)
    sheet.set_column(3, 3, 14)
    for n, row in enumerate(FIGURE_DEFINITIONS, start=3):
        write_xlsx_row(sheet, n, 0, list(row))
    note = len(FIGURE_DEFINITIONS) + 4
    write_xlsx_cell(
        sheet, note, 0, "Rates are percentages of the denominator; empty cells have no data."
    )
    write_xlsx_cell(
        sheet,
        note + 1,
        0,
        "Contacts belong to the local date of their start; working days follow the national "
        "calendar (SE: with midsommarafton, julafton, nyårsafton) and the organisation's "
        "closed days.",
    )


# ---------------------------------------------------------------------------------------------
# the per-contact audit CSV

AUDIT_HEADER = [
    "channel",
    "contact_id",
    "queue",
    "agent",
    "caller_pseudonym",
    "started_at_utc",
    "start_date_local",
    "answered_at_utc",
    "ended_at_utc",
    "wait_seconds",
    "within_service_level",
    "working_hours_to_answer",
    "within_1_working_day",
    "within_2_working_days",
    "direct_answer",
    *QUESTIONS,
]


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z") if value else ""


def audit_query(org: Organisation, month: Month) -> sa.Select[Any]:
    """Every contact of the month with what each figure saw of it (one row per contact).

    The working time and the scores are the contact's own columns, the very values the
    figures were computed from.
    """
    q = table_of(Queue)
    worked = sa.case((C.c.channel == "email", C.c.answer_seconds), else_=None)
    return (
        sa.select(
            C.c.channel,
            C.c.contact_id,
            q.c.name,
            C.c.agent,
            C.c.caller_hash,
            C.c.started_at,
            C.c.start_date,
            C.c.answered_at,
            C.c.ended_at,
            C.c.wait_seconds,
            worked.label("worked"),
            C.c.direct_answer,
            *(C.c[f"{qn}_score"] for qn in QUESTIONS),
        )
        .select_from(C)
        .outerjoin(q, q.c.id == C.c.queue_id)
        .where(
            C.c.organisation_id == org.id,
            C.c.start_date >= month.first,
            C.c.start_date <= month.last,
        )
        .order_by(C.c.start_date, C.c.started_at, C.c.channel, C.c.contact_id)
    )


def _flag(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def audit_csv_chunks(session: Session, org: Organisation, month: Month) -> Iterator[str]:
    """The audit CSV in pieces, streamed from the database (a month can hold millions)."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(AUDIT_HEADER)
    result = session.execute(
        audit_query(org, month), execution_options={"yield_per": 5000, "stream_results": True}
    )
    sl = org.service_level_seconds
    for n, row in enumerate(result, start=1):
        (
            channel,
            contact_id,
            queue,
            agent,
            caller,
            started,
            start_date,
            answered,
            ended,
            wait,
            worked,
            direct,
            *grades,
        ) = row
        phone = channel == "phone"
        writer.writerow(
            [
                channel,
                contact_id,
                queue or "",
                agent or "",
                caller or "",
                _iso(started),
                start_date.isoformat(),
                _iso(answered),
                _iso(ended),
                "" if wait is None else round(wait, 3),
                _flag(answered is not None and wait is not None and wait <= sl) if phone else "",
                "" if worked is None else round(worked / 3600, 4),
                "" if phone else _flag(worked is not None and worked <= ONE_WORKING_DAY),
                "" if phone else _flag(worked is not None and worked <= TWO_WORKING_DAYS),
                _flag(direct) if phone else "",
                *("" if g is None else g for g in grades),
            ]
        )
        if n % 5000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def audit_csv(session: Session, org: Organisation, month: Month) -> str:
    """The whole audit CSV as one string (tests and small months)."""
    return "".join(audit_csv_chunks(session, org, month))
