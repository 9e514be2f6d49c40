"""The comparison as a workbook: one row per figure and participant, and the places over the
last 12 months. Text from outside (names, groups) goes through servicedesk.cells."""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _

from servicedesk.benchmarking.pages import ComparisonPage, sheet_rows
from servicedesk.cells import write_xlsx_row


def header() -> list[str]:
    return [
        _("Period"),
        _("Figure key"),
        _("Figure"),
        _("Place"),
        _("Ranked participants"),
        _("Participant"),
        _("Municipality group"),
        _("Value"),
        _("Based on"),
        _("Median"),
        _("Lower quartile"),
        _("Upper quartile"),
        _("Report versions (month, version, SHA-256)"),
        _("Not ranked because"),
        _("Your organisation"),
    ]


def add_comparison_sheets(book: Any, page: ComparisonPage) -> None:
    """A "Comparison" and a "Places" sheet in ``book`` (the report workbook uses this too)."""
    head = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
    sheet = book.add_worksheet(_("Comparison")[:31])
    write_xlsx_row(sheet, 0, 0, header(), head)
    for n, row in enumerate(sheet_rows(page), start=1):
        write_xlsx_row(sheet, n, 0, row)
    sheet.set_column(0, 1, 14)
    sheet.set_column(2, 2, 36)
    sheet.set_column(5, 5, 24)
    sheet.set_column(12, 13, 40)
    places = book.add_worksheet(_("Places over 12 months")[:31])
    write_xlsx_row(places, 0, 0, [_("Figure"), *(str(m) for m in page.months)], head)
    for n, history in enumerate(page.history, start=1):
        write_xlsx_row(places, n, 0, [history.label, *history.cells])
    places.set_column(0, 0, 36)
    places.set_column(1, 12, 10)


def comparison_xlsx(page: ComparisonPage) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(buffer, options)
    add_comparison_sheets(book, page)
    book.close()
    return buffer.getvalue()
