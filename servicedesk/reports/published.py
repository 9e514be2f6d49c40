"""A frozen report as it is published: ``report show --format json`` and the reports API.

Both take the report's JSON from ``published_json``, so a script can move from the command to
the API (or back) and read the very same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from servicedesk.kolada.operations import comparison
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation
from servicedesk.reports import formats
from servicedesk.reports.models import Report
from servicedesk.reports.service import format_instant, latest_report, report_version, sha256_of


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One version in a list of reports: what it is, without its (large) document."""

    month: str
    version: int
    generated_at: str
    sha256: str
    latest: bool


def report_index(
    session: Session, org: Organisation, month: Month | None = None
) -> list[ReportEntry]:
    """Every version of the organisation's reports (or of one month), newest month first and
    within a month the newest version first."""
    query = (
        sa.select(
            col(Report.month), col(Report.version), col(Report.generated_at), col(Report.sha256)
        )
        .where(col(Report.organisation_id) == org.id)
        .order_by(col(Report.month).desc(), col(Report.version).desc())
    )
    if month is not None:
        query = query.where(col(Report.month) == str(month))
    entries: list[ReportEntry] = []
    for row in session.execute(query):
        latest = not entries or entries[-1].month != row.month
        entries.append(
            ReportEntry(
                row.month, row.version, format_instant(row.generated_at), row.sha256, latest
            )
        )
    return entries


def find_report(
    session: Session, org: Organisation, month: Month, version: int | None = None
) -> Report | None:
    """The month's latest version, or the version asked for; None when there is none."""
    if version is None:
        return latest_report(session, org, month)
    return report_version(session, org, month, version)


def published_document(session: Session, org: Organisation, report: Report) -> dict[str, Any]:
    """The frozen document, with the national comparison (``kolada``) beside it when the
    organisation compares any KPI. The comparison is read now, not frozen: Kolada revises its
    figures, and the report's sha256 covers only the frozen document."""
    doc = report.document
    national = comparison(session, org, doc)
    return {**doc, "kolada": national} if national else doc


def published_json(document: dict[str, Any]) -> str:
    """The text ``report show --format json`` prints, to its final newline."""
    return formats.report_json(document) + "\n"


def published_etag(document: dict[str, Any]) -> str:
    """The report's sha256; with a national comparison, that comparison's hash after it.

    The frozen document never changes for a version, so its sha256 is a strong validator of
    it. The Kolada comparison can change under the same version, so it extends the tag: a
    client that checks with If-None-Match then sees the revised comparison, not a stale 304.
    """
    national = document.get("kolada")
    if not national:
        return str(document["sha256"])
    return f"{document['sha256']}.{sha256_of(national)[:16]}"
