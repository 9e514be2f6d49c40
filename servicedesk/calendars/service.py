"""Building and reading an organisation's calendar (domain functions: they flush, never commit).

The calendar rows, and the e-mails' working times stored from them, change only where the
calendar changes: an organisation is created (``orgs.operations``), a closed day is added or
removed (here), a new holidays release or rules version is installed (``servicedesk db upgrade``
and the scheduler's ``calendars`` task, at its start and daily). Reading never rebuilds: the
figures, pages and exports read the rows as they are.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from servicedesk.cache import forget_org_after_commit
from servicedesk.calendars.contacts import C as CONTACTS
from servicedesk.calendars.contacts import set_email_working_times
from servicedesk.calendars.models import Calendar, CalendarDay
from servicedesk.calendars.rules import RULES_VERSION, day_kind, days
from servicedesk.calendars.worktime import DAY_SECONDS, local_parts, working_clock
from servicedesk.db import table_of
from servicedesk.metrics.models import drop_all
from servicedesk.orgs.models import ClosedDay, Organisation

#: The span every calendar covers; contacts outside it have no working time (null).
FIRST_DAY = date(2015, 1, 1)
LAST_DAY = date(2040, 12, 31)


def _closed_days(session: Session, org_id: int) -> list[date]:
    rows = session.execute(
        sa.select(col(ClosedDay.day))
        .where(col(ClosedDay.organisation_id) == org_id)
        .order_by(col(ClosedDay.day))
    )
    return [row[0] for row in rows]


def _fingerprint(closed: list[date]) -> str:
    return hashlib.sha256(",".join(d.isoformat() for d in closed).encode()).hexdigest()


def ensure_calendar(session: Session, org: Organisation) -> bool:
    """Make the organisation's calendar rows current; True when they had to be (re)built.

    A write, for the operations that change the calendar (see the module's docstring). Cheap
    when nothing changed (two small reads), so a daily refresh costs nothing: a closed day
    added behind the app's back, a new holidays release or a changed country is picked up.
    A rebuild also recomputes the working time of the e-mails whose span covers a day that
    changed (all of them when there was no calendar before).
    """
    closed = _closed_days(session, org.id)
    fingerprint = _fingerprint(closed)
    cal = session.get(Calendar, org.id)
    if (
        cal is not None
        and cal.country == org.country
        and cal.rules_version == RULES_VERSION
        and cal.closed_fingerprint == fingerprint
    ):
        return False
    _build(session, org, closed, had_calendar=cal is not None)
    if cal is None:
        cal = Calendar(
            organisation_id=org.id,
            country=org.country,
            rules_version=RULES_VERSION,
            closed_fingerprint=fingerprint,
            first_day=FIRST_DAY,
            last_day=LAST_DAY,
        )
        session.add(cal)
    else:
        cal.country = org.country
        cal.rules_version = RULES_VERSION
        cal.closed_fingerprint = fingerprint
        cal.first_day, cal.last_day = FIRST_DAY, LAST_DAY
        cal.built_at = datetime.now(cal.built_at.tzinfo)
    session.flush()
    forget_org_after_commit(session, org.id)  # the figures kept for the pages are stale now
    return True


CalendarRow = tuple[date, bool, str, int]


def calendar_rows(
    country: str, closed: set[date], first: date = FIRST_DAY, last: date = LAST_DAY
) -> list[CalendarRow]:
    """(day, is_working, kind, working_seconds_before) for every day of the span."""
    return list(_rows(country, frozenset(closed), first, last))


@lru_cache(maxsize=32)
def _rows(
    country: str, closed: frozenset[date], first: date, last: date
) -> tuple[CalendarRow, ...]:
    # Every organisation of a country without closed days has the same 9,500 rows: computed once.
    rows = []
    before = 0
    for day in days(first, last):
        working, kind = day_kind(country, day, closed)
        rows.append((day, working, kind, before))
        if working:
            before += DAY_SECONDS
    return tuple(rows)


_DAY_COLUMNS = "organisation_id, day, is_working, kind, working_seconds_before"


def _insert_days(session: Session, org_id: int, rows: tuple[CalendarRow, ...]) -> None:
    """The calendar's rows in one driver call: COPY on PostgreSQL, executemany on SQLite.

    Built per organisation, closed day and release, 9,500 rows at a time: through the ORM's
    parameter processing that took half a second per organisation; this takes some 30 ms.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # psycopg's
        with cursor.copy(f"COPY calendar_days ({_DAY_COLUMNS}) FROM STDIN") as copy:
            for day, working, kind, before in rows:
                copy.write_row((org_id, day, working, kind, before))
        return
    conn.exec_driver_sql(
        f"INSERT INTO calendar_days ({_DAY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        [(org_id, day.isoformat(), working, kind, before) for day, working, kind, before in rows],
    )


def _build(session: Session, org: Organisation, closed: list[date], had_calendar: bool) -> None:
    table = table_of(CalendarDay)
    old: dict[date, bool] = dict(
        session.execute(
            sa.select(table.c.day, table.c.is_working).where(table.c.organisation_id == org.id)
        ).all()
    )
    rows = _rows(org.country, frozenset(closed), FIRST_DAY, LAST_DAY)
    session.execute(sa.delete(table).where(table.c.organisation_id == org.id))
    _insert_days(session, org.id, rows)
    changed = [day for day, working, _, _ in rows if old.get(day) != working]
    if not had_calendar or not old or changed:
        # The e-mails' working times change: so do the closed months' stored aggregates.
        drop_all(session, org.id)
    if not had_calendar or not old:
        set_email_working_times(session, org.id)
    elif changed:
        # Working time over a span depends only on which of its days are working days.
        set_email_working_times(
            session,
            org.id,
            CONTACTS.c.start_date <= max(changed),
            CONTACTS.c.answered_local_date >= min(changed),
        )


def refresh_calendars(session: Session) -> list[str]:
    """Bring every organisation's calendar up to date; the slugs of those rebuilt."""
    orgs = session.scalars(sa.select(Organisation).order_by(col(Organisation.id))).all()
    return [org.slug for org in orgs if ensure_calendar(session, org)]


def add_closed_day(session: Session, org: Organisation, day: date, reason: str = "") -> ClosedDay:
    """Close the organisation on ``day`` (idempotent) and bring its calendar up to date."""
    row = session.execute(
        sa.select(ClosedDay).where(
            col(ClosedDay.organisation_id) == org.id, col(ClosedDay.day) == day
        )
    ).scalar_one_or_none()
    if row is None:
        row = ClosedDay(organisation_id=org.id, day=day, reason=reason)
        session.add(row)
    else:
        row.reason = reason
    session.flush()
    ensure_calendar(session, org)
    return row


def remove_closed_day(session: Session, org: Organisation, day: date) -> bool:
    """Reopen ``day``; False when it was not closed."""
    result = session.execute(
        sa.delete(ClosedDay).where(
            col(ClosedDay.organisation_id) == org.id, col(ClosedDay.day) == day
        )
    )
    session.flush()
    ensure_calendar(session, org)
    return bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult


def closed_days(session: Session, org: Organisation, year: int | None = None) -> list[ClosedDay]:
    """The organisation's closed days, oldest first; of one year when ``year`` is given."""
    query = (
        sa.select(ClosedDay)
        .where(col(ClosedDay.organisation_id) == org.id)
        .order_by(col(ClosedDay.day))
    )
    if year is not None:
        query = query.where(col(ClosedDay.day).between(date(year, 1, 1), date(year, 12, 31)))
    return list(session.scalars(query))


def calendar_days(
    session: Session, org: Organisation, first: date, last: date
) -> list[CalendarDay]:
    """The organisation's calendar rows from ``first`` to ``last``, as the metrics count them."""
    return list(
        session.scalars(
            sa.select(CalendarDay)
            .where(
                col(CalendarDay.organisation_id) == org.id,
                col(CalendarDay.day).between(first, last),
            )
            .order_by(col(CalendarDay.day))
        )
    )


def calendar_day(session: Session, org: Organisation, day: date) -> CalendarDay | None:
    """The organisation's calendar row for one local date (None outside the calendar)."""
    return session.get(CalendarDay, (org.id, day))


def working_days_between(session: Session, org: Organisation, first: date, last: date) -> int:
    """How many working days from ``first`` to ``last`` inclusive."""
    a, b = calendar_day(session, org, first), calendar_day(session, org, last)
    if a is None or b is None:
        raise ValueError(f"{first}..{last} is outside the calendar ({FIRST_DAY}..{LAST_DAY})")
    return (b.working_seconds_before - a.working_seconds_before) // DAY_SECONDS + int(b.is_working)


def working_seconds(session: Session, org: Organisation, start: datetime, end: datetime) -> float:
    """Working seconds from ``start`` to ``end`` (the same arithmetic the SQL does)."""
    clocks = []
    for instant in (start, end):
        day, seconds = local_parts(instant, org.timezone)
        row = calendar_day(session, org, day)
        if row is None:
            raise ValueError(f"{day} is outside the calendar ({FIRST_DAY}..{LAST_DAY})")
        clocks.append(working_clock(row.working_seconds_before, row.is_working, seconds))
    return clocks[1] - clocks[0]


def last_working_day(session: Session, org: Organisation, before: date) -> CalendarDay | None:
    """The organisation's latest working day before ``before`` (the Today page's weekend view);
    None when the calendar has none."""
    return session.scalars(
        sa.select(CalendarDay)
        .where(
            col(CalendarDay.organisation_id) == org.id,
            col(CalendarDay.day) < before,
            col(CalendarDay.is_working).is_(True),
        )
        .order_by(col(CalendarDay.day).desc())
        .limit(1)
    ).first()
