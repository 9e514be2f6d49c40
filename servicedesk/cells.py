"""Cells of every export (CSV, per-day CSV, audit CSV, XLSX): sender text is never a formula.

A queue, an agent or a contact id is whatever a sender wrote, and a spreadsheet program runs a
cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as
a formula: ``=HYPERLINK(...)`` or ``+cmd|' /C calc'!A0`` in an export opened in Excel. Every
export writes its cells through ``spreadsheet_text``, which prefixes such text with a single
quote as OWASP recommends (the CSV writer quotes the rest); numbers are written as numbers and
never touched, so a negative figure stays a number. XLSX cells of text are written as text
cells, never as formulas or links.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

#: What makes a spreadsheet program read text as a formula (OWASP, "CSV Injection"), with the
#: line feed and the full-width forms of = + - @ that some spreadsheet programs accept too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class Number(str):
    """A number the export itself wrote as text in the reader's format ("-1,5"): never a
    sender's text, so it is written as it is (a leading minus is a sign, not a formula)."""

    __slots__ = ()


def spreadsheet_text(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: text that could start a formula gets a ``'``."""
    if isinstance(value, str) and not isinstance(value, Number) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through ``spreadsheet_text`` (None: empty)."""

    def __init__(self, out: IO[str], *, delimiter: str = ",", lineterminator: str = "\n") -> None:
        self._writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(["" if v is None else spreadsheet_text(v) for v in row])


def write_xlsx_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """One XLSX cell: text as a text cell (never a formula, a link or a number), else as is."""
    if isinstance(value, str):
        sheet.write_string(row, col, spreadsheet_text(value), fmt)
    elif value is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write(row, col, value, fmt)


def write_xlsx_row(sheet: Any, row: int, col: int, values: Iterable[Any], fmt: Any = None) -> None:
    for n, value in enumerate(values):
        write_xlsx_cell(sheet, row, col + n, value, fmt)
