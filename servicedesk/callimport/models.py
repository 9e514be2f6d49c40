"""The import log: one row per call list imported (or being previewed), with its result.

An import's file is kept as a delivery (source "import"), like every other way in; this row
says what became of it and, while it runs, how far it got, so an interrupted import resumes
where it stopped. It goes when its delivery does (retention, GDPR erasure): the refused rows it
lists are part of the file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow

#: preview: uploaded and shown, not imported; running: chunks being committed (an interrupted
#: import stays here until it is resumed); done: every row read.
STATUSES = ("preview", "running", "done")


class CallImport(SQLModel, table=True):
    __tablename__ = "call_imports"
    __table_args__ = (sa.Index("ix_call_imports_org_sha", "organisation_id", "file_sha256"),)
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    #: The file as a delivery; null only while it is a preview.
    delivery_id: int | None = Field(
        default=None, foreign_key="deliveries.id", ondelete="CASCADE", index=True
    )
    file_name: str = Field(default="", max_length=255)
    file_sha256: str = Field(max_length=64)
    size_bytes: int = 0
    mapping_name: str = Field(default="", max_length=64)
    mapping_text: str = Field(default="", sa_type=sa.Text)
    status: str = Field(max_length=16)
    #: Who started it: a user's e-mail address, or "cli".
    created_by: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    #: The uploaded file between its preview and its import (then it moves to the delivery).
    upload: bytes | None = Field(default=None, sa_column=Column(sa.LargeBinary, nullable=True))
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    refused: int = 0
    skipped: int = 0
    live: int = 0
    #: The last file line whose chunk is committed: a resumed import starts after it.
    last_line: int = 0
    #: The first refused rows: [{"line", "reason", "values"}] (bounded; ``refused`` counts all).
    refused_rows: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
