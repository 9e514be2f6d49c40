"""The closed months' aggregates table, and how the writers of contacts drop its rows.

The table's rows are built and read by ``servicedesk.metrics.month_store``; the drops live here,
beside the table, because the fold, erasure, retention and the calendar (features below the
metrics) call them: a row must never outlive a change to the contacts it was computed from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.contacts.models import Contact
from servicedesk.db import insert_for, table_of
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation
from servicedesk.statements import prepared
from servicedesk.timeutil import local_date, utcnow

C = table_of(Contact)


class MonthAggregate(SQLModel, table=True):
    """One closed month's aggregates of one organisation (see the module's docstring)."""

    __tablename__ = "month_aggregates"
    organisation_id: int = Field(
        foreign_key="organisations.id", ondelete="CASCADE", primary_key=True
    )
    #: 202601 for January 2026 (the contacts' ``start_month``).
    month: int = Field(sa_column_kwargs={"autoincrement": False}, primary_key=True)
    #: Raised by every drop; a build stores its data only over the version it read first.
    version: int = Field(default=0)
    #: The settings the data was computed under (``fingerprint``); "" when dropped.
    fingerprint: str = Field(default="", max_length=64)
    built_at: datetime | None = None
    #: The aggregates (``encode``); None when dropped.
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


MA = table_of(MonthAggregate)


def month_key(month: Month) -> int:
    return month.year * 100 + month.month


def running_month(org: Organisation) -> Month:
    """The organisation's running month (its local today's)."""
    return Month.of(local_date(utcnow(), org.timezone))


def drop_months_from(session: Session, org: Organisation, keys: Iterable[int]) -> None:
    """Drop the aggregates of the closed months among ``keys`` and of every closed month after
    the earliest of them (a late first event moves a contact to an earlier month: the month it
    left is a later one). Called by the fold with the month keys of the contacts it wrote; one
    statement per month, and none when they are all in the running month (the common case)."""
    running = month_key(running_month(org))
    closed = sorted(k for k in set(keys) if k < running)
    if not closed:
        return
    month = Month(closed[0] // 100, closed[0] % 100)
    stale = []
    while month_key(month) < running:
        stale.append(month_key(month))
        month = month.next()
    _tombstones(session, org.id, stale)


_TOMBSTONE_KEYS = ("organisation_id", "month", "version", "fingerprint", "data", "built_at")


def _tombstone_upsert(dialect: str, _keys: tuple[str, ...]) -> Any:
    """A month's row emptied with its version raised by one (the ``version`` given, 1), or
    made empty at version 1. Every value is a parameter, so it compiles once (``prepared``)."""
    stmt = insert_for(dialect, MA)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["organisation_id", "month"],
        set_={
            "version": MA.c.version + new.version,
            "fingerprint": new.fingerprint,
            "data": new.data,
            "built_at": new.built_at,
        },
    )


def _tombstones(session: Session, org_id: int, keys: list[int]) -> None:
    # Compiled once (``prepared``): a late event of a closed month runs this on the write path,
    # where building the upsert each time cost more than the rest of the fold (issue 17).
    conn = session.connection()
    upsert = prepared(conn.dialect, _tombstone_upsert, _TOMBSTONE_KEYS)
    upsert.executemany(
        conn,
        [{"organisation_id": org_id, "month": k, "version": 1, "fingerprint": "",
          "data": None, "built_at": None} for k in keys],
    )  # fmt: skip


def drop_all(session: Session, org_id: int) -> None:
    """Drop every aggregate of the organisation (erasure, retention, a calendar change)."""
    session.execute(
        sa.update(MA)
        .where(MA.c.organisation_id == org_id)
        .values(version=MA.c.version + 1, fingerprint="", data=None, built_at=None)
    )


def drop_for_contacts(session: Session, org: Organisation, contact_ids: Iterable[str]) -> None:
    """Drop the aggregates of the closed months these contacts belong to (survey scores copied
    onto them changed). One read of their months; a drop only when one is closed."""
    ids = sorted(set(contact_ids))
    keys: set[int] = set()
    for start in range(0, len(ids), 500):
        keys.update(
            session.execute(
                sa.select(C.c.start_month)
                .distinct()
                .where(C.c.organisation_id == org.id, C.c.contact_id.in_(ids[start : start + 500]))
            ).scalars()
        )
    drop_months_from(session, org, keys)
