"""Tables of the auth feature: users, their role and the queues a team leader is limited to."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow

#: team_leader: their organisation's dashboards (optionally some queues only); quality: all of the
#: organisation, reports and exports; admin: all of that and the organisation's settings.
ROLES = ("team_leader", "quality", "admin")


class User(SQLModel, table=True):
    """A person who signs in; belongs to exactly one organisation."""

    __tablename__ = "users"
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    #: Lower-cased; one account per address across the installation (it is the sign-in name).
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True}, nullable=False)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    #: "sv", "nb" or "en"; null follows the organisation's country.
    locale: str | None = Field(default=None, max_length=8)
    active: bool = True
    #: Part of the session identity: changing it (new password, deactivation) signs out everywhere.
    session_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    #: Not written at sign-in (that must not wait for a writer); kept for an audit to come.
    last_login_at: datetime | None = None

    # Flask-Login's user protocol. The id it keeps in the session includes session_token.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class UserQueue(SQLModel, table=True):
    """A queue a team leader is limited to; a team leader without rows sees every queue."""

    __tablename__ = "user_queues"
    __table_args__ = (sa.Index("ix_user_queues_queue", "queue_id"),)
    user_id: int = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    queue_id: int = Field(primary_key=True, foreign_key="queues.id", ondelete="CASCADE")
