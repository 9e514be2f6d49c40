"""Working time between two instants, by the wall clock of the organisation's time zone.

A working day counts as 24 hours; all other days count nothing (docs/metrics.md). The zone's
daylight-saving changes fall on Sundays, which are never working days, so a working day always
has 86,400 wall-clock seconds and working time is the difference of two "working clocks":

    W(t) = 86400 * (working days before the local date of t) + (seconds of t since local midnight
           if that date is a working day, else 0)
    working_seconds(a, b) = W(b) - W(a)

The database holds the first term per organisation and date (``calendar_days``) and each contact
holds the local date and seconds-of-day of its start and answer, so the figure is two index
lookups and a subtraction in SQL on either engine; the result is stored on the e-mail contact
(``answer_seconds``) and recomputed when the calendar changes (``calendars/contacts.py``).
``reference_working_seconds`` walks the days one by one; the tests use it as the oracle for the
arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from servicedesk.timeutil import to_utc

DAY_SECONDS = 86_400


def local_parts(instant: datetime, tz: str) -> tuple[date, float]:
    """The local date of an instant and its wall-clock seconds since local midnight."""
    local = to_utc(instant).astimezone(ZoneInfo(tz))
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return local.date(), seconds


def working_clock(day_before_seconds: int, is_working: bool, seconds_of_day: float) -> float:
    """W(t): working seconds from the calendar's epoch to a local (date, seconds-of-day)."""
    return day_before_seconds + (seconds_of_day if is_working else 0.0)


def reference_working_seconds(
    start: datetime, end: datetime, tz: str, is_working: Callable[[date], bool]
) -> float:
    """Working seconds from ``start`` to ``end`` by walking the local days (slow; the oracle)."""
    if end < start:
        return -reference_working_seconds(end, start, tz, is_working)
    zone = ZoneInfo(tz)
    a = to_utc(start).astimezone(zone).replace(tzinfo=None)
    b = to_utc(end).astimezone(zone).replace(tzinfo=None)
    total = 0.0
    day = a.date()
    while day <= b.date():
        if is_working(day):
            day_start = datetime.combine(day, datetime.min.time())
            lo = max(a, day_start)
            hi = min(b, day_start + timedelta(days=1))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def contact_local_times(
    started_at: datetime, answered_at: datetime | None, tz: str
) -> dict[str, float | date | None]:
    """The Contact columns the working-time arithmetic reads, from the two instants it spans.

    The fold sets these beside start_date; they depend only on the events and the time zone,
    never on the calendar, so a calendar change can recompute the working time from them.
    """
    _day, start_seconds = local_parts(started_at, tz)
    if answered_at is None:
        return {
            "start_local_seconds": start_seconds,
            "answered_local_date": None,
            "answered_local_seconds": None,
        }
    answered_day, answered_seconds = local_parts(answered_at, tz)
    return {
        "start_local_seconds": start_seconds,
        "answered_local_date": answered_day,
        "answered_local_seconds": answered_seconds,
    }
