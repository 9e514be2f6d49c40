"""The refused rows of an import as a CSV download; every value came from the uploaded file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def refused_csv(rows: Iterable[Mapping[str, Any]], headings: Mapping[str, str]) -> str:
    """line, reason and the row's mapped cells; ``headings`` names the first two columns."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        for name in row.get("values") or {}:
            if name not in columns:
                columns.append(name)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([headings["line"], headings["reason"], *map(spreadsheet_safe, columns)])
    for row in rows:
        values = row.get("values") or {}
        writer.writerow(
            [
                row.get("line"),
                spreadsheet_safe(row.get("reason")),
                *(spreadsheet_safe(values.get(c, "")) for c in columns),
            ]
        )
    return out.getvalue()
