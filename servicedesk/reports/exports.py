"""Report files for quality staff: XLSX (``workbook``), CSV in two dialects and per-day CSV
(``formats``), JSON, and the per-contact audit CSV."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.cells import SafeCsvWriter
from servicedesk.contacts.models import Contact
from servicedesk.db import table_of
from servicedesk.metrics.definitions import (
    ONE_WORKING_DAY,
    QUESTIONS,
    TWO_WORKING_DAYS,
)
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation, Queue
from servicedesk.reports import formats
from servicedesk.reports.models import Report
from servicedesk.reports.workbook import report_xlsx

__all__ = [
    "DOCUMENT_FORMATS",
    "audit_csv",
    "audit_csv_chunks",
    "document_bytes",
    "report_xlsx",
    "write",
]

C = table_of(Contact)

#: The formats made from the frozen document alone: (file suffix, media type). Their bytes never
#: change for a given version, language and dialect, so the report's sha256 with those can stand
#: for them (an HTTP ETag).
DOCUMENT_FORMATS = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "json": ("json", "application/json"),
    "days-csv": ("days.csv", "text/csv; charset=utf-8"),
}


def document_bytes(
    doc: dict[str, Any], fmt: str, lang: str = "en", dialect: str = "rfc4180"
) -> bytes:
    """The frozen document in one of DOCUMENT_FORMATS; ``lang`` is the XLSX's and the Excel
    CSV's language, ``dialect`` the CSVs' (``formats.DIALECTS``)."""
    if fmt == "xlsx":
        return report_xlsx(doc, lang)
    if fmt == "json":
        return formats.report_json(doc).encode()
    if fmt == "csv":
        return formats.report_csv(doc, dialect, lang).encode()
    if fmt == "days-csv":
        return formats.days_csv(doc, dialect, lang).encode()
    raise ValueError(f"format: unknown format {fmt!r}")


def write(
    session: Session,
    report: Report,
    fmt: str,
    output: Path,
    lang: str = "en",
    dialect: str = "rfc4180",
) -> int:
    """Write ``report`` as ``fmt`` to ``output``; returns the bytes written."""
    if fmt == "audit-csv":
        org = session.get(Organisation, report.organisation_id)
        assert org is not None
        return _write_stream(output, audit_csv_chunks(session, org, Month.parse(report.month)))
    data = document_bytes(report.document, fmt, lang, dialect)
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
