"""Time conventions: instants are aware UTC datetimes; local time exists only at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Now, aware, in UTC (the form every timestamp column takes and returns)."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """An instant in UTC; naive input is taken to be UTC already (SQLite returns it so)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_date(value: datetime, tz: str) -> date:
    """The calendar date of an instant on the wall clock of ``tz``."""
    return to_utc(value).astimezone(ZoneInfo(tz)).date()
