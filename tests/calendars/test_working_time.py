"""Working time between two instants: hand-computed cases, SQL against the day-walking oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedesk.calendars.models import CalendarDay
from servicedesk.calendars.rules import is_working_day
from servicedesk.calendars.service import (
    add_closed_day,
    calendar_rows,
    ensure_calendar,
    remove_closed_day,
    working_days_between,
    working_seconds,
)
from servicedesk.calendars.worktime import local_parts, reference_working_seconds, working_clock
from servicedesk.contacts.models import Contact
from servicedesk.orgs.models import DEFAULT_TIMEZONES, Organisation

H = 3600
SE, NO = ZoneInfo("Europe/Stockholm"), ZoneInfo("Europe/Oslo")


def t(zone: ZoneInfo, *args: int) -> datetime:
    """A local wall-clock time as an aware UTC instant."""
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def sql_working_seconds(session, contact: Contact) -> float | None:
    """The working time the figures read: the contact's stored ``answer_seconds`` (after the
    ``ensure_calendar``, which the operations that change the calendar call)."""
    ensure_calendar(session, session.get(Organisation, contact.organisation_id))
    c = Contact.__table__
    return session.execute(sa.select(c.c.answer_seconds).where(c.c.id == contact.id)).scalar_one()


CASES = [
    # (country, received (local), answered (local), working hours), each hand-computed
    ("SE", (2026, 3, 16, 10), (2026, 3, 17, 10), 24),  # Monday 10:00 -> Tuesday 10:00
    ("SE", (2026, 3, 13, 15), (2026, 3, 16, 15), 24),  # Friday 15:00 -> Monday 15:00
    ("SE", (2026, 3, 14, 10), (2026, 3, 16, 8, 30), 8.5),  # Saturday e-mail: Monday counts
    ("SE", (2026, 3, 14, 10), (2026, 3, 17, 0, 30), 24.5),  # ... all Monday and 0:30 Tuesday
    ("SE", (2026, 3, 14, 12), (2026, 3, 16, 23, 59), 23 + 59 / 60),  # under one working day
    # Midsommarafton Fri 19 June, midsommardagen Sat 20: Thu 14 h + Mon 10 h
    ("SE", (2026, 6, 18, 10), (2026, 6, 22, 10), 24),
    # Julafton Thu 24, juldagen Fri 25 Dec: Wed 12 h + Mon 12 h
    ("SE", (2026, 12, 23, 12), (2026, 12, 28, 12), 24),
    # Nyårsafton Thu 31, nyårsdagen Fri 1 Jan: Wed 15 h + Mon 9 h
    ("SE", (2026, 12, 30, 9), (2027, 1, 4, 9), 24),
    # Easter 2026: skärtorsdag 2 April works in Sweden: Wed 12 + Thu 24 + Tue 12
    ("SE", (2026, 4, 1, 12), (2026, 4, 7, 12), 48),
    # ... skjærtorsdag is a holiday in Norway: Wed 12 + Tue 12
    ("NO", (2026, 4, 1, 12), (2026, 4, 7, 12), 24),
    # Julaften is an ordinary working day in Norway: Wed 12 + Thu 24 + Mon 12
    ("NO", (2026, 12, 23, 12), (2026, 12, 28, 12), 48),
    # Summer time starts Sun 29 March 2026 (71 real hours): Fri 9 h + Mon 15 h
    ("SE", (2026, 3, 27, 15), (2026, 3, 30, 15), 24),
    # Summer time ends Sun 25 October 2026 (73 real hours): Fri 9 h + Mon 15 h
    ("SE", (2026, 10, 23, 15), (2026, 10, 26, 15), 24),
    ("NO", (2026, 10, 23, 15), (2026, 10, 26, 15), 24),
    # Received and answered on the same working day
    ("NO", (2026, 3, 16, 8, 15), (2026, 3, 16, 9, 45), 1.5),
    # Received and answered on the same Sunday
    ("SE", (2026, 3, 15, 8), (2026, 3, 15, 20), 0),
]


@pytest.mark.parametrize(("country", "received", "answered", "hours"), CASES)
def test_hand_computed_working_time(
    db, make_org, cal_email, country, received, answered, hours
) -> None:
    org = make_org(country=country)
    zone = ZoneInfo(org.timezone)
    start, end = t(zone, *received), t(zone, *answered)
    assert working_seconds(db, org, start, end) == pytest.approx(hours * H)
    contact = cal_email(org, start, end)
    assert sql_working_seconds(db, contact) == pytest.approx(hours * H)
    assert reference_working_seconds(
        start, end, org.timezone, lambda d: is_working_day(country, d)
    ) == pytest.approx(hours * H)


def test_daylight_saving_real_time_differs_from_working_time(db, make_org) -> None:
    org = make_org(country="SE")
    start, end = t(SE, 2026, 3, 27, 15), t(SE, 2026, 3, 30, 15)
    assert (end - start) == timedelta(hours=71)
    assert working_seconds(db, org, start, end) == 24 * H


def test_unanswered_email_has_no_working_time(db, make_org, cal_email) -> None:
    org = make_org(country="SE")
    contact = cal_email(org, t(SE, 2026, 3, 16, 10), None)
    ensure_calendar(db, org)
    assert sql_working_seconds(db, contact) is None


def test_closed_day_recomputes_the_stored_working_time(db, make_org, cal_email) -> None:
    org = make_org(country="NO")
    contact = cal_email(org, t(NO, 2026, 12, 23, 12), t(NO, 2026, 12, 28, 12))
    ensure_calendar(db, org)
    assert sql_working_seconds(db, contact) == 48 * H
    add_closed_day(db, org, date(2026, 12, 24), "julaften")
    assert sql_working_seconds(db, contact) == 24 * H
    assert db.get(CalendarDay, (org.id, date(2026, 12, 24))).kind == "closed"
    assert remove_closed_day(db, org, date(2026, 12, 24)) is True
    assert sql_working_seconds(db, contact) == 48 * H
    assert remove_closed_day(db, org, date(2026, 12, 24)) is False


def test_calendar_rebuilt_when_closed_days_change_by_any_route(db, make_org) -> None:
    from servicedesk.orgs.models import ClosedDay

    org = make_org(country="SE")
    assert ensure_calendar(db, org) is False  # built with the organisation
    db.add(ClosedDay(organisation_id=org.id, day=date(2026, 5, 15), reason="klämdag"))
    db.flush()
    assert ensure_calendar(db, org) is True
    assert db.get(CalendarDay, (org.id, date(2026, 5, 15))).is_working is False


def test_working_days_between(db, make_org) -> None:
    se, no = make_org(country="SE"), make_org(country="NO")
    # December 2026 in Sweden: 23 weekdays minus julafton, juldagen, nyårsafton = 20
    assert working_days_between(db, se, date(2026, 12, 1), date(2026, 12, 31)) == 20
    # ... in Norway only juledag (Fri 25) is a weekday holiday: 22
    assert working_days_between(db, no, date(2026, 12, 1), date(2026, 12, 31)) == 22


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(
    a=instants,
    b=instants,
    country=st.sampled_from(["SE", "NO"]),
    closed=st.sets(st.dates(date(2026, 1, 1), date(2027, 1, 31)), max_size=4),
)
def test_arithmetic_equals_walking_the_days(a, b, country, closed) -> None:
    rows = {
        day: (before, working)
        for day, working, _kind, before in calendar_rows(
            country, closed, date(2025, 12, 1), date(2027, 2, 28)
        )
    }
    zone = DEFAULT_TIMEZONES[country]

    def clock(instant: datetime) -> float:
        day, seconds = local_parts(instant, zone)
        before, working = rows[day]
        return working_clock(before, working, seconds)

    start, end = min(a, b), max(a, b)
    expected = reference_working_seconds(
        start, end, zone, lambda d: is_working_day(country, d, closed)
    )
    assert clock(end) - clock(start) == pytest.approx(expected, abs=1e-3)
