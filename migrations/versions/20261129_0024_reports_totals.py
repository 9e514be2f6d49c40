"""reports.totals: the organisation totals of each frozen report kept apart from the document

The benchmark's comparison reads only the phone, e-mail and survey totals of every sharing
organisation's months; it parsed whole documents (days and queues included, about 90 kB each)
to get at them, some 3-4 s for 357 organisations' years. Each report now also keeps those three
sections (``Report.totals``, about 1.5 kB); existing rows get them here, copied from their
documents by the engine itself. Reports are never updated, so the copy cannot drift.

Revision ID: 0024
Revises: 0022
Create Date: 2026-11-29 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECTIONS = ("phone", "email", "survey_headline")


def upgrade() -> None:
    op.add_column("reports", sa.Column("totals", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        parts = ", ".join(f"'{s}', document->'{s}'" for s in SECTIONS)
        op.execute(f"UPDATE reports SET totals = json_build_object({parts})")
    else:
        parts = ", ".join(f"'{s}', json_extract(document, '$.{s}')" for s in SECTIONS)
        op.execute(f"UPDATE reports SET totals = json_object({parts})")


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("totals")
