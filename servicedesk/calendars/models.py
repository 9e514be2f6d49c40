"""Tables of the calendars feature: one row per organisation and date."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class Calendar(SQLModel, table=True):
    """What an organisation's calendar rows were built from, so a stale calendar is rebuilt."""

    __tablename__ = "calendars"
    organisation_id: int = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE"
    )
    country: str = Field(max_length=2)
    rules_version: str = Field(max_length=64)
    #: sha256 of the organisation's closed days when the rows were built.
    closed_fingerprint: str = Field(max_length=64)
    first_day: date
    last_day: date
    built_at: datetime = Field(default_factory=utcnow)


class CalendarDay(SQLModel, table=True):
    """One local date of one organisation: working or not, and the working time before it."""

    __tablename__ = "calendar_days"
    organisation_id: int = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE"
    )
    day: date = Field(primary_key=True)
    is_working: bool
    #: "weekday", "weekend", "closed", or the holiday's name.
    kind: str = Field(max_length=64)
    #: 86400 x the working days from the calendar's first day up to (not including) this one.
    working_seconds_before: int = Field(sa_type=sa.BigInteger)
