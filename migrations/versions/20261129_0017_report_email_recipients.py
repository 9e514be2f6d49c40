"""notification endpoints: e-mail recipients of the monthly report and their language

Revision ID: 0017
Revises: 0021
Create Date: 2026-11-29 18:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notification_endpoints') as batch:
        batch.add_column(
            sa.Column('language', sa.String(length=8), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('notification_endpoints') as batch:
        batch.drop_column('language')
