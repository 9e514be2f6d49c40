"""Intervals with hand-computed values: a day with a closed hour, 15/30/60-minute slots, and the
weekday x hour view summed over a period (both engines)."""

from __future__ import annotations

from datetime import date

import pytest

from servicedesk.metrics.intervals import day_slots, weekday_hours
from tests.helpers import ingest
from tests.metrics.test_periods import abandoned, answered

MONDAY = date(2026, 6, 15)


@pytest.fixture
def monday(db, org):
    """Monday 15 June 2026; the centre is closed 12:00-13:00 (lunch): no calls then."""
    ingest(
        db,
        org,
        *answered("a", "2026-06-15T11:05:00+02:00", 30, 100),
        *answered("b", "2026-06-15T11:20:00+02:00", 90, 100),
        *abandoned("c", "2026-06-15T11:40:00+02:00"),
        *answered("d", "2026-06-15T13:00:00+02:00", 10, 100),
        *answered("e", "2026-06-15T13:50:00+02:00", 50, 100),
        # Monday 22 June, a week later, and Tuesday 16 June
        *answered("f", "2026-06-22T11:10:00+02:00", 70, 100),
        *abandoned("g", "2026-06-16T09:00:00+02:00"),
    )


def test_a_day_with_a_closed_hour(db, org, monday) -> None:
    hours = {n: s.figures() for n, s in day_slots(db, org, MONDAY, minutes=60).items()}
    assert sorted(hours) == [11, 13]  # nothing at 12: the closed hour has no slot
    assert hours[11] == {
        "offered": 3,
        "offered_per_day": 3.0,
        "answered": 2,
        "abandoned": 1,
        "service_level": 33.33,  # a (30 s) of 3
        "abandon_rate": 33.33,
        "mean_wait": 60.0,  # (30 + 90) / 2
    }
    assert hours[13]["service_level"] == 100.0
    assert hours[13]["mean_wait"] == 30.0


def test_quarter_and_half_hours(db, org, monday) -> None:
    quarters = {n: s.offered for n, s in day_slots(db, org, MONDAY, minutes=15).items()}
    # 11:05 and 11:20 and 11:40 -> slots 44, 45, 46; 13:00 -> 52; 13:50 -> 55.
    assert quarters == {44: 1, 45: 1, 46: 1, 52: 1, 55: 1}
    halves = {n: s.offered for n, s in day_slots(db, org, MONDAY, minutes=30).items()}
    assert halves == {22: 2, 23: 1, 26: 1, 27: 1}
    with pytest.raises(ValueError, match="minutes"):
        day_slots(db, org, MONDAY, minutes=20)


def test_the_weekday_hours_of_two_weeks(db, org, monday) -> None:
    grid = weekday_hours(db, org, date(2026, 6, 15), date(2026, 6, 28))
    mondays_11 = grid[(1, 11)].figures()
    # Two Mondays in the fortnight: 3 + 1 calls at 11, 2 per Monday.
    assert mondays_11["offered"] == 4
    assert mondays_11["offered_per_day"] == 2.0
    assert mondays_11["service_level"] == 25.0  # only a within 60 s
    assert grid[(2, 9)].figures()["abandon_rate"] == 100.0
    assert (1, 12) not in grid
