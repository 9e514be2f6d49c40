"""The audit log's table: append-only rows, never personal data in clear."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class AuditEntry(SQLModel, table=True):
    """One thing done: an export, a sign-in, an erasure, an administrative change."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_org_at", "organisation_id", "at"),
        sa.Index("ix_audit_log_action_at", "action", "at"),
    )
    id: int = Field(default=None, primary_key=True)
    #: Kept when the organisation is deleted, so the log outlives what it describes.
    organisation_id: int | None = Field(
        default=None, foreign_key="organisations.id", ondelete="SET NULL"
    )
    at: datetime = Field(default_factory=utcnow)
    #: Who did it: a user's e-mail address, "cli:<os user>", "scheduler", "system".
    actor: str = Field(max_length=320)
    #: Dotted verb, e.g. "report.export", "auth.sign_in", "gdpr.erase", "token.create".
    action: str = Field(max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
