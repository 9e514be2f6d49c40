"""Tables of the reports feature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)

#: The sections of a report document copied to ``Report.totals``.
TOTAL_SECTIONS = ("phone", "email", "survey_headline")


def totals_of(document: dict[str, Any]) -> dict[str, Any]:
    """A document's ``TOTAL_SECTIONS``, as ``Report.totals`` keeps them."""
    return {section: document.get(section) for section in TOTAL_SECTIONS}


class Report(SQLModel, table=True):
    """One frozen version of an organisation's monthly report; never updated once written."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "month", "version"),
        sa.Index("ix_reports_org_month", "organisation_id", "month"),
    )
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    #: "2026-06"
    month: str = Field(max_length=7)
    version: int
    generated_at: datetime
    definitions_version: str = Field(max_length=64)
    #: "cli", "scheduler", "api": who asked for it.
    trigger: str = Field(max_length=16)
    #: sha256 of the canonical JSON of the figures alone: a new version only when it changes.
    figures_sha256: str = Field(max_length=64)
    #: sha256 of the canonical JSON of the whole document (``document`` without this field).
    sha256: str = Field(max_length=64)
    #: The report document exactly as shown and exported (docs/reports.md, "The report JSON").
    document: dict[str, Any] = Field(sa_type=sa.JSON)
    #: The document's organisation totals (``TOTAL_SECTIONS``), kept apart so that what reads
    #: only those (the benchmark's comparison of many organisations' months) does not parse whole
    #: documents with their days and queues (some 90 kB each; these are about 1.5 kB). Null on
    #: rows made without it (the document then is the source).
    totals: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
