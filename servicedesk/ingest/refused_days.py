"""The daily cap on what strangers' refused deliveries store, shared by every worker."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import structlog
from sqlmodel import Session

from servicedesk.db import dialect_of, insert_for, table_of
from servicedesk.ingest.models import RefusedDay
from servicedesk.timeutil import utcnow

_T = table_of(RefusedDay)

log = structlog.get_logger(__name__)


def claim_refused_bytes(session: Session, size: int, *, cap: int, day: date | None = None) -> bool:
    """Count ``size`` bytes against today's cap; False (and nothing counted) once it is full.

    One conditional upsert: two workers can never both take the last room. The first refusal
    that finds the day full notes the time and writes one warning to the log.
    """
    now = utcnow()
    day = day or now.date()
    stmt = insert_for(dialect_of(session), _T).values(day=day, kept=1, bytes=size)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day"],
        set_={"kept": _T.c.kept + 1, "bytes": _T.c.bytes + size},
        where=_T.c.bytes + size <= cap,
    ).returning(_T.c.bytes)
    if size <= cap and session.connection().execute(stmt).first() is not None:
        return True
    first = (
        session.connection()
        .execute(
            sa.update(_T)
            .where(_T.c.day == day, _T.c.cap_reached_at.is_(None))
            .values(cap_reached_at=now)
            .returning(_T.c.bytes)
        )
        .first()
    )
    if first is None and size > cap:
        first = (
            session.connection()
            .execute(
                insert_for(dialect_of(session), _T)
                .values(day=day, kept=0, bytes=0, cap_reached_at=now)
                .on_conflict_do_nothing(index_elements=["day"])
                .returning(_T.c.bytes)
            )
            .first()
        )
    if first is not None:
        log.warning(
            "refused deliveries reached the daily cap; further ones today are counted, not stored",
            day=day.isoformat(),
            cap_bytes=cap,
            stored_bytes=int(first[0]),
        )
    return False
