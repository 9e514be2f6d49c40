"""Report files for quality staff: JSON, CSV, per-day CSV (XLSX and the audit CSV follow)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from servicedesk.reports import formats
from servicedesk.reports.models import Report


def write(session: Session, report: Report, fmt: str, output: Path) -> int:
    """Write ``report`` as ``fmt`` to ``output``; returns the bytes written."""
    doc = report.document
    if fmt == "json":
        data = formats.report_json(doc).encode()
    elif fmt == "csv":
        data = formats.report_csv(doc).encode()
    elif fmt == "days-csv":
        data = formats.days_csv(doc).encode()
    else:
        raise ValueError(f"format: {fmt} is not available yet")
    output.write_bytes(data)
    return len(data)
