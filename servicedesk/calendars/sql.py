"""Working time as SQL expressions (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from servicedesk.calendars.models import CalendarDay
from servicedesk.db import table_of


def calendar_alias(name: str) -> Any:
    """An alias of calendar_days, one per instant the query needs a working clock for."""
    return sa.orm.aliased(CalendarDay, name=name)


def working_clock(cal: Any, local_seconds: Any) -> sa.ColumnElement[float]:
    """W(t) in SQL: working seconds before the day plus the seconds of day if it is working."""
    clock: sa.ColumnElement[float] = cal.working_seconds_before + sa.case(
        (cal.is_working, local_seconds), else_=0.0
    )
    return clock


def working_clock_of(contact: Any, day: Any, seconds: Any) -> Any:
    """W(t) of a contact's local (date, seconds-of-day) as a scalar subquery (for UPDATEs).

    Null when the date is outside the calendar.
    """
    cal = table_of(CalendarDay)
    return (
        sa.select(working_clock(cal.c, seconds))
        .where(cal.c.organisation_id == contact.organisation_id, cal.c.day == day)
        .scalar_subquery()
    )
