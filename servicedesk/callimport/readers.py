"""Reading a call list file: CSV in any common delimiter and encoding, or an XLSX sheet.

The result is a header and numbered rows of cells, whatever the file was; the numbers are the
file's own (the CSV line a record starts on, the spreadsheet row), so a refused row can be found.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from charset_normalizer import from_bytes

#: Delimiters the suites' exports use (Excel in Nordic locales writes ";").
DELIMITERS = ";,\t|"
#: Legacy encodings tried when a file is not UTF-8 (Excel's "CSV" in Nordic Windows is cp1252).
LEGACY_ENCODINGS = ["cp1252", "iso8859_15", "cp850", "mac_roman"]
#: An XLSX whose parts unpack to more than this is refused (a zip bomb or far beyond a month).
MAX_XLSX_UNPACKED = 400 * 1024 * 1024
#: Longest cell read from a CSV (csv's own default, stated so it is not changed by accident).
FIELD_LIMIT = 131_072


class FileProblem(ValueError):
    """A file that cannot be read as a call list; the message says what to do."""


@dataclass
class Table:
    """A read file: its header and its rows as (file line or row number, cells)."""

    kind: str
    header: list[str]
    header_line: int
    rows: Iterator[tuple[int, list[Any]]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise FileProblem(f"the file cannot be read as {encoding}: {exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
        return data.decode("utf-16"), "utf-16"
    for name in ("utf-8", "cp1252"):
        # Windows-1252 first among the legacy ones: it is what Excel in a Nordic Windows writes,
        # and a detector easily mistakes a short Swedish file for another code page.
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            pass
    best = from_bytes(data[:262_144], cp_isolation=LEGACY_ENCODINGS[1:]).best()
    name = best.encoding if best is not None else "cp1252"
    return data.decode(name, errors="replace"), name


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = next((line for line in text.splitlines() if line.strip()), "")
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] == 0:
            raise FileProblem(
                "no column delimiter found (expected ; , tab or |): is this a call list?"
            ) from None
        return best


def read_csv(
    data: bytes, *, encoding: str | None = None, delimiter: str | None = None, header_row: int = 1
) -> Table:
    text, used = decode(data, encoding)
    lines_skipped = 0
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        # Excel's hint line ("sep=;") names the delimiter and is not part of the table.
        delimiter = delimiter or first.strip()[4]
        text = rest
        lines_skipped = 1
    delimiter = delimiter or _sniff(text)
    csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        start = reader.line_num + 1
        try:
            for record in reader:
                yield start + lines_skipped, record
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileProblem(f"line {reader.line_num + lines_skipped}: {exc}") from None

    rows = numbered()
    for number, record in rows:
        if number - lines_skipped < header_row or not any(c.strip() for c in record):
            continue
        header, header_line = [c.strip() for c in record], number
        break
    if header is None:
        raise FileProblem("the file has no header row")
    return Table("csv", header, header_line, rows, encoding=used, delimiter=delimiter)


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise FileProblem(f"the file looks like XLSX but is not a valid one ({exc})") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise FileProblem("the XLSX file unpacks to more than 400 MB; export a shorter period")


def read_xlsx(data: bytes, *, sheet: str | None = None, header_row: int = 1) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FileProblem(f"the XLSX file cannot be read ({exc})") from None
    if sheet is not None:
        if sheet not in workbook.sheetnames:
            names = ", ".join(workbook.sheetnames)
            raise FileProblem(f"the workbook has no sheet {sheet!r} (it has: {names})")
        worksheet: Any = workbook[sheet]
    else:
        worksheet = workbook.worksheets[0]

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), 1):
                yield number, list(values)
        finally:
            workbook.close()

    rows = numbered()
    header: list[str] | None = None
    header_line = 0
    for number, values in rows:
        if number < header_row or not any(v not in (None, "") for v in values):
            continue
        header = ["" if v is None else str(v).strip() for v in values]
        header_line = number
        break
    if header is None:
        workbook.close()
        raise FileProblem(f"sheet {worksheet.title!r} has no header row")
    return Table("xlsx", header, header_line, rows, sheet=worksheet.title)


def read_table(
    data: bytes,
    *,
    sheet: str | None = None,
    header_row: int = 1,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """The file's table, CSV or XLSX by its content (not its name)."""
    if not data.strip():
        raise FileProblem("the file is empty")
    if is_xlsx(data):
        return read_xlsx(data, sheet=sheet, header_row=header_row)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileProblem("old Excel files (.xls) are not read: save it as .xlsx or CSV")
    return read_csv(data, encoding=encoding, delimiter=delimiter, header_row=header_row)
