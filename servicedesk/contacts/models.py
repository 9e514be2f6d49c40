"""Tables of the contacts feature, the rows the metrics read."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)


class Contact(SQLModel, table=True):
    """One call or e-mail thread, derived from all of its events (never edited by hand).

    Every column is a function of the set of the contact's events, not of their arrival order,
    so folding again after any delivery gives the same row.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "channel", "contact_id"),
        sa.Index("ix_contacts_period", "organisation_id", "channel", "start_date"),
        sa.Index("ix_contacts_queue_period", "organisation_id", "queue_id", "start_date"),
        sa.Index("ix_contacts_caller", "organisation_id", "caller_hash"),
        # Survey responses find their contact by (organisation, contact id) whatever the channel.
        sa.Index("ix_contacts_contact_id", "organisation_id", "contact_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    channel: str = Field(max_length=8)
    contact_id: str = Field(max_length=256)
    queue_id: int | None = Field(default=None, foreign_key="queues.id", ondelete="SET NULL")
    agent: str | None = Field(default=None, max_length=128)
    caller_hash: str | None = Field(default=None, max_length=80)
    #: The earliest call.queued / email.received, or the earliest event if those never came.
    started_at: datetime
    #: The local calendar date of started_at in the organisation's time zone (the period key).
    start_date: date
    #: Phone: the earliest call.answered. E-mail: the first email.replied after received.
    answered_at: datetime | None = None
    #: Phone: the latest call.ended.
    ended_at: datetime | None = None
    #: Phone: answered_at - started_at in seconds (answered calls only).
    wait_seconds: float | None = None
    #: Phone: the call.ended event said the question was answered in the call.
    direct_answer: bool | None = None
    #: Wall-clock seconds since local midnight of started_at (working time, see calendars/).
    start_local_seconds: float | None = None
    #: The local date and wall-clock seconds-of-day of answered_at (working time, see calendars/).
    answered_local_date: date | None = None
    answered_local_seconds: float | None = None
    event_count: int = 0
    updated_at: datetime


class SurveyResponse(SQLModel, table=True):
    """A citizen's grade for one question of one contact; the latest answer counts."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "contact_id", "question"),
        sa.Index("ix_survey_responses_contact", "organisation_id", "contact_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE")
    contact_id: str = Field(max_length=256)
    #: The channel the sender named, or null when it did not (then any channel's contact matches).
    channel: str | None = Field(default=None, max_length=8)
    question: str = Field(max_length=16)
    score: int
    occurred_at: datetime
    event_id: str = Field(max_length=128)
