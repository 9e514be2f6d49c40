"""month_aggregates: closed months' aggregates, so that long periods do not re-read their contacts

A quarter or the year to date (with the period before and a year before) read every contact of
their months on each cold view; their time grew with the period. Each closed month's additive
cells, survey cells and the exact distributions the percentiles need are now kept per
organisation and month (servicedesk/metrics/month_store.py), built on first use and by the
monthly freeze job, dropped by the fold when a late contact falls in the month. Empty at first:
nothing to backfill, the rows are built when a page first needs them.

Revision ID: 0022
Revises: 0020
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (column types)
from alembic import op


revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "month_aggregates",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("built_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_month_aggregates_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "month", name=op.f("pk_month_aggregates")),
    )


def downgrade() -> None:
    op.drop_table("month_aggregates")
