"""contacts.handle_seconds: the handle time stored like the wait

A phone call's handle time (answered -> ended, docs/metrics.md "Handle time") was computed from
answered_at and ended_at every time a page was read, and its median ranked with window
functions over the period's rows. The fold now stores it on the contact, as it stores the
wait, and two partial indexes order the handled calls by it per month and per month and queue,
so that its median is a walk of an index (servicedesk/metrics/handling.py). Existing rows are
filled in here by the fold's rule: phone calls answered and ended in that order.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 19:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDLED = sa.text("handle_seconds IS NOT NULL")
CALLS = (
    "channel = 'phone' AND answered_at IS NOT NULL AND ended_at IS NOT NULL"
    " AND ended_at >= answered_at"
)


def _sqlite_difference(start: str, end: str) -> str:
    """SQLite: ``end - start`` in seconds for two stored instants ('YYYY-MM-DD HH:MM:SS.ffffff',
    UTC), exact to the microsecond like the fold's total_seconds(): the whole seconds and the
    fractions read from the text are subtracted apart (julianday() keeps about 0.1 ms in its
    double of days, and epoch seconds plus a fraction about 0.2 us; strftime('%s') of a time
    with a fraction rounds to the millisecond, so it is given the whole seconds only)."""

    def whole(column: str) -> str:
        return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"

    def fraction(column: str) -> str:
        return f"CAST('0' || substr({column}, 20, 7) AS REAL)"

    return f"(({whole(end)} - {whole(start)}) + ({fraction(end)} - {fraction(start)}))"


def upgrade() -> None:
    op.add_column("contacts", sa.Column("handle_seconds", sa.Float(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        handle = "EXTRACT(EPOCH FROM (ended_at - answered_at))"
    else:
        handle = _sqlite_difference("answered_at", "ended_at")
    op.execute(f"UPDATE contacts SET handle_seconds = {handle} WHERE {CALLS}")
    op.create_index(
        "ix_contacts_month_handle",
        "contacts",
        ["organisation_id", "start_month", "handle_seconds", "start_date", "queue_id"],
        unique=False,
        sqlite_where=HANDLED,
        postgresql_where=HANDLED,
    )
    op.create_index(
        "ix_contacts_month_queue_handle",
        "contacts",
        ["organisation_id", "start_month", "queue_id", "handle_seconds", "start_date"],
        unique=False,
        sqlite_where=HANDLED,
        postgresql_where=HANDLED,
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_month_queue_handle", table_name="contacts")
    op.drop_index("ix_contacts_month_handle", table_name="contacts")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("handle_seconds")
