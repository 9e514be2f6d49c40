"""Tables of the Kolada feature: which KPIs to compare, and the values fetched."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.timeutil import utcnow


class KoladaKpi(SQLModel, table=True):
    """A Kolada KPI shown beside one of our report figures."""

    __tablename__ = "kolada_kpis"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "kpi"),)
    id: int = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", ondelete="CASCADE", index=True)
    #: Kolada's id of the municipality ("1881" Kumla); the nation is "0000".
    municipality: str = Field(max_length=8)
    kpi: str = Field(max_length=16)
    #: Our figure it compares with, as a path in the report ("phone.direct_answer_rate").
    figure: str = Field(max_length=64)
    label: str = Field(default="", max_length=200)


class KoladaValue(SQLModel, table=True):
    """One fetched value; fetching again replaces it (Kolada revises values)."""

    __tablename__ = "kolada_values"
    __table_args__ = (sa.UniqueConstraint("kpi", "municipality", "year", "gender"),)
    id: int = Field(default=None, primary_key=True)
    kpi: str = Field(max_length=16)
    municipality: str = Field(max_length=8)
    year: int
    gender: str = Field(max_length=1)
    value: float | None = None
    status: str = Field(default="", max_length=32)
    fetched_at: datetime = Field(default_factory=utcnow)
