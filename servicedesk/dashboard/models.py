"""Tables of the dashboard feature: the organisation's own targets."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)


class Target(SQLModel, table=True):
    """The organisation's goal for one figure (e.g. 80 % of e-mails within one working day)."""

    __tablename__ = "targets"
    organisation_id: int = Field(
        primary_key=True, foreign_key="organisations.id", ondelete="CASCADE"
    )
    #: A key of ``servicedesk.dashboard.targets.TARGETS`` ("phone.service_level", ...).
    metric: str = Field(primary_key=True, max_length=64)
    value: float
