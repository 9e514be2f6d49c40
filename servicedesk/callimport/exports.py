"""The refused rows of an import as a CSV download; every value came from the uploaded file."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from servicedesk.cells import SafeCsvWriter


def refused_csv(rows: Iterable[Mapping[str, Any]], headings: Mapping[str, str]) -> str:
    """line, reason and the row's mapped cells; ``headings`` names the first two columns."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        for name in row.get("values") or {}:
            if name not in columns:
                columns.append(name)
    out = io.StringIO()
    writer = SafeCsvWriter(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([headings["line"], headings["reason"], *columns])
    for row in rows:
        values = row.get("values") or {}
        writer.writerow([row.get("line"), row.get("reason"), *(values.get(c, "") for c in columns)])
    return out.getvalue()
