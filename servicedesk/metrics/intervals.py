"""When in the day and week the calls come, and when the service level is lost: calls offered,
answered, answered within the service level, abandoned and their wait per local time slot.

A slot is a 15-, 30- or 60-minute stretch of the local wall clock of the call's start
(``start_local_seconds``, in the organisation's time zone): on the day clocks go forward there is
no 02:00-03:00, on the day they go back that hour holds both of its passes. The database groups
the calls by (local date, slot); what leaves it is one row per day and slot with calls, never a
row per call. The weekday view sums those rows by weekday and hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.groups import C, count_if, id_list, period
from servicedesk.metrics.handling import HANDLE
from servicedesk.orgs.models import Organisation

#: The slot lengths a day can be cut into (minutes).
SLOT_MINUTES = (15, 30, 60)


@dataclass
class Slot:
    """The calls of one slot (or of a weekday's hour, summed over the period)."""

    offered: int = 0
    answered: int = 0
    within: int = 0
    wait_sum: float = 0.0
    #: Answered calls with a handle time, and the sum of those handle times (s).
    handled: int = 0
    handle_sum: float = 0.0
    #: How many days this slot is summed over (the weekday view: that weekday's dates).
    days: int = 1

    def add(self, other: Slot) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.within += other.within
        self.wait_sum += other.wait_sum
        self.handled += other.handled
        self.handle_sum += other.handle_sum

    @property
    def abandoned(self) -> int:
        return self.offered - self.answered

    def figures(self) -> dict[str, Any]:
        """The slot's figures as docs/metrics.md defines them for a period (rates in %)."""
        return {
            "offered": self.offered,
            "offered_per_day": rounded(self.offered / self.days) if self.days else None,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level": rate(self.within, self.offered),
            "abandon_rate": rate(self.abandoned, self.offered),
            "mean_wait": rounded(self.wait_sum / self.answered) if self.answered else None,
        }


def slot_rows(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: Iterable[int] | None,
    minutes: int,
) -> dict[tuple[date, int], Slot]:
    """{(local date, slot number): Slot} of the calls started in ``first``..``last``."""
    if minutes not in SLOT_MINUTES:
        raise ValueError(f"minutes must be one of {SLOT_MINUTES}")
    slot = sa.cast(sa.func.floor(C.c.start_local_seconds / (60 * minutes)), sa.Integer)
    wait = C.c.answer_seconds
    handled = sa.and_(
        C.c.answered_at.is_not(None), C.c.ended_at.is_not(None), C.c.ended_at >= C.c.answered_at
    )
    stmt = (
        sa.select(
            C.c.start_date.label("day"),
            slot.label("slot"),
            sa.func.count().label("offered"),
            sa.func.count(wait).label("answered"),
            count_if(wait <= org.service_level_seconds).label("within"),
            sa.func.sum(wait).label("wait_sum"),
            count_if(handled).label("handled"),
            sa.func.sum(sa.case((handled, HANDLE))).label("handle_sum"),
        )
        .where(
            *period(org, first, last, id_list(queue_ids)),
            C.c.channel == "phone",
            C.c.start_local_seconds.is_not(None),
        )
        .group_by(C.c.start_date, slot)
    )
    return {
        (row.day, int(row.slot)): Slot(
            int(row.offered),
            int(row.answered),
            int(row.within),
            float(row.wait_sum or 0),
            int(row.handled),
            float(row.handle_sum or 0),
        )
        for row in session.execute(stmt)
    }


def day_slots(
    session: Session,
    org: Organisation,
    day: date,
    queue_ids: Iterable[int] | None = None,
    minutes: int = 60,
) -> dict[int, Slot]:
    """One day's slots of ``minutes`` that had calls: {slot number: Slot} (slot 0 = 00:00)."""
    rows = slot_rows(session, org, day, day, queue_ids, minutes)
    return {n: s for (_, n), s in rows.items()}


def weekday_hours(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: Iterable[int] | None = None,
) -> dict[tuple[int, int], Slot]:
    """{(ISO weekday 1-7, hour): Slot} summed over ``first``..``last``; each Slot's ``days`` is
    how many of that weekday the period has (for the mean per day)."""
    weekdays = [0] * 8
    for n in range((last - first).days + 1):
        weekdays[(first + timedelta(n)).isoweekday()] += 1
    grid: dict[tuple[int, int], Slot] = {}
    for (day, hour), slot in slot_rows(session, org, first, last, queue_ids, 60).items():
        key = (day.isoweekday(), hour)
        cell = grid.setdefault(key, Slot(days=weekdays[key[0]]))
        cell.add(slot)
    return grid
