"""Tables of the dashboard feature: the organisation's own targets, and the agents' table's
setting and names."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class Target(SQLModel, table=True):
    """The organisation's goal for one figure (e.g. 80 % of e-mails within one working day)."""

    __tablename__ = "targets"
    organisation_id: int = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE"
    )
    #: A key of ``servicedesk.dashboard.targets.TARGETS`` ("phone.service_level", ...).
    metric: str = Field(primary_key=True, max_length=64)
    value: float


class AgentSettings(SQLModel, table=True):
    """Whether the organisation shows the per-agent table (off unless an administrator turns it
    on: per-agent figures are personal data about staff, docs/privacy.md)."""

    __tablename__ = "agent_settings"
    organisation_id: int = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE"
    )
    enabled: bool = False
    updated_at: datetime = Field(default_factory=utcnow)
    #: Who turned it on or off last (an administrator's e-mail address).
    updated_by: str = Field(default="", max_length=320)


class AgentName(SQLModel, table=True):
    """A name an administrator gave an agent id as the telephony and e-mail systems send it
    ("a1" -> "Anna Lind"); without one the id shows as it arrived."""

    __tablename__ = "agent_names"
    organisation_id: int = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE"
    )
    agent: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)
