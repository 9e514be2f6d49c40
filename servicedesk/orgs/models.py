"""Tables of the organisations feature."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow

#: Countries whose calendars the metrics know, with the time zone each defaults to.
DEFAULT_TIMEZONES = {"SE": "Europe/Stockholm", "NO": "Europe/Oslo"}


class OrganisationBase(SQLModel):
    slug: str = Field(max_length=64, sa_column_kwargs={"unique": True}, nullable=False)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    timezone: str = Field(max_length=64)
    service_level_seconds: int = Field(default=60, ge=1)


class Organisation(OrganisationBase, table=True):
    """One municipality (or service centre) whose figures are reported together."""

    __tablename__ = "organisations"
    id: int = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class Queue(SQLModel, table=True):
    """A queue or unit ("Bygglov", "Socialtjänst"), created the first time an event names it."""

    __tablename__ = "queues"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "name"),)
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class ClosedDay(SQLModel, table=True):
    """A day the organisation is closed on top of the national calendar (a "klämdag")."""

    __tablename__ = "closed_days"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "day"),)
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    day: date
    reason: str = Field(default="", max_length=200)
