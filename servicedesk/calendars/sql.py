"""Working time as SQL expressions (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from servicedesk.calendars.models import CalendarDay


def calendar_alias(name: str) -> Any:
    """An alias of calendar_days, one per instant the query needs a working clock for."""
    return sa.orm.aliased(CalendarDay, name=name)


def working_clock(cal: Any, local_seconds: Any) -> sa.ColumnElement[float]:
    """W(t) in SQL: working seconds before the day plus the seconds of day if it is working."""
    return cal.working_seconds_before + sa.case((cal.is_working, local_seconds), else_=0.0)


def email_working_seconds(contact: Any, cal_start: Any, cal_answer: Any) -> sa.ColumnElement[float]:
    """Working seconds from an e-mail's receipt to its answer; null when unanswered.

    The query must outer-join ``cal_start`` on (organisation_id, start_date) and ``cal_answer``
    on (organisation_id, answered_local_date), as ``join_calendars`` does.
    """
    return working_clock(cal_answer, contact.answered_local_seconds) - working_clock(
        cal_start, contact.start_local_seconds
    )


def join_calendars(
    select: sa.Select[Any], contact: Any, cal_start: Any, cal_answer: Any, only_email: bool = False
) -> Any:
    """Outer-join the two calendar rows an e-mail's working time needs.

    With ``only_email`` the calendar is not even looked up for calls (their working time is
    null), which saves two index probes per call when a query reads both channels.
    """
    extra = [contact.channel == "email"] if only_email else []
    return select.outerjoin(
        cal_start,
        sa.and_(
            cal_start.organisation_id == contact.organisation_id,
            cal_start.day == contact.start_date,
            *extra,
        ),
    ).outerjoin(
        cal_answer,
        sa.and_(
            cal_answer.organisation_id == contact.organisation_id,
            cal_answer.day == contact.answered_local_date,
            *extra,
        ),
    )


def working_clock_of(contact: Any, day: Any, seconds: Any) -> Any:
    """W(t) of a contact's local (date, seconds-of-day) as a scalar subquery (for UPDATEs).

    Null when the date is outside the calendar.
    """
    cal = CalendarDay.__table__  # type: ignore[attr-defined]
    return (
        sa.select(working_clock(cal.c, seconds))
        .where(cal.c.organisation_id == contact.organisation_id, cal.c.day == day)
        .scalar_subquery()
    )
