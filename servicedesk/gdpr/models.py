"""The retention settings of an organisation (absent row: the defaults)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow

#: Raw deliveries are kept this many days unless the organisation says otherwise.
DEFAULT_RAW_DAYS = 90
#: Contact-level rows (events, contacts, survey responses) are kept this many whole months.
DEFAULT_CONTACT_MONTHS = 25


class RetentionPolicy(SQLModel, table=True):
    """How long an organisation keeps personal data; the frozen monthly reports are kept always."""

    __tablename__ = "retention_policies"
    organisation_id: int = Field(
        foreign_key="organisations.id", ondelete="CASCADE", primary_key=True
    )
    raw_days: int = Field(default=DEFAULT_RAW_DAYS, ge=1)
    contact_months: int = Field(default=DEFAULT_CONTACT_MONTHS, ge=1)
    updated_at: datetime = Field(default_factory=utcnow)
