"""Which monthly reports are due, and making them: each organisation's report at 06:00 local
time on the 3rd working day of the next month, with catch-up after downtime.

``reports/tasks.py`` runs ``run_due_reports`` every hour and at start in the scheduler process
(``servicedesk/jobs.py``). What is due is computed from the database on every run, so a missed
run or a restart loses nothing, and two schedulers started by mistake make each report once:
``generate_report`` serialises generators of one month (an advisory lock on PostgreSQL, the write
lock on SQLite) and writes nothing when the figures are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from servicedesk.calendars.rules import nth_working_day
from servicedesk.contacts.models import Contact
from servicedesk.db import unit_of_work
from servicedesk.metrics.definitions import RECHECK_MONTHS, REPORT_HOUR, REPORT_WORKING_DAY
from servicedesk.metrics.month_store import build_missing
from servicedesk.metrics.periods import Month
from servicedesk.observability import report_timer
from servicedesk.orgs.models import ClosedDay, Organisation
from servicedesk.reports.service import generate_report, reported_months
from servicedesk.timeutil import local_date, utcnow

log = structlog.get_logger(__name__)

#: How far back a missing report is still made on catch-up.
CATCH_UP_MONTHS = 24


@dataclass(frozen=True, slots=True)
class Outcome:
    organisation: str
    month: str
    version: int
    made: bool
    reason: str  # "due", "recheck"


def due_at(org: Organisation, month: Month, closed: Iterable[date] = ()) -> datetime:
    """When ``month``'s report is due: 06:00 local on the 3rd working day of the next month."""
    following = month.next()
    day = nth_working_day(org.country, following.year, following.month, REPORT_WORKING_DAY, closed)
    return datetime.combine(day, REPORT_HOUR, tzinfo=ZoneInfo(org.timezone)).astimezone(UTC)


def _closed(session: Session, org: Organisation) -> set[date]:
    rows = session.execute(
        sa.select(col(ClosedDay.day)).where(col(ClosedDay.organisation_id) == org.id)
    )
    return {row[0] for row in rows}


def _first_month(session: Session, org: Organisation, now: datetime) -> Month:
    first_day = session.execute(
        sa.select(sa.func.min(col(Contact.start_date))).where(
            col(Contact.organisation_id) == org.id
        )
    ).scalar_one()
    created = Month.of(local_date(org.created_at, org.timezone))
    first = min(created, Month.of(first_day)) if first_day else created
    floor = Month.of(local_date(now, org.timezone))
    for _ in range(CATCH_UP_MONTHS):
        floor = floor.previous()
    return max(first, floor)


def due_months(session: Session, org: Organisation, now: datetime) -> list[Month]:
    """Every month whose report time has passed, oldest first (from the organisation's start)."""
    closed = _closed(session, org)
    month = _first_month(session, org, now)
    due = []
    while due_at(org, month, closed) <= now:
        due.append(month)
        month = month.next()
    return due


def _generate(engine: Engine, org_id: int, month: Month, reason: str, now: datetime) -> Outcome:
    with unit_of_work(engine) as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        with report_timer():
            report, made = generate_report(session, org, month, trigger="scheduler", now=now)
    outcome = Outcome(org.slug, str(month), report.version, made, reason)
    if made:
        log.info(
            "report made",
            organisation=org.slug,
            month=str(month),
            version=report.version,
            reason=reason,
            sha256=report.sha256,
        )
    return outcome


def run_due_reports(engine: Engine, now: datetime | None = None) -> list[Outcome]:
    """Make every due report that is missing; when one is made, recheck the months before it."""
    now = now or utcnow()
    with Session(engine) as session:
        plan = []
        for org in session.execute(
            sa.select(Organisation).order_by(col(Organisation.id))
        ).scalars():
            done = reported_months(session, org)
            missing = [m for m in due_months(session, org, now) if str(m) not in done]
            plan.append((org.id, org.slug, missing, done))
    outcomes: list[Outcome] = []
    for org_id, _slug, missing, done in plan:
        rechecked: set[str] = set()
        for month in missing:
            # Late events for earlier months become new versions at the next monthly run, before
            # this month's report takes them as its comparison (each month once per run).
            earlier, recheck = month, []
            for _ in range(RECHECK_MONTHS):
                earlier = earlier.previous()
                if str(earlier) in done and str(earlier) not in rechecked:
                    recheck.append(earlier)
                    rechecked.add(str(earlier))
            for old in reversed(recheck):
                outcomes.append(_generate(engine, org_id, old, "recheck", now))
            outcomes.append(_generate(engine, org_id, month, "due", now))
            rechecked.add(str(month))
    for org_id, slug, _, _ in plan:
        # The closed months' aggregates the pages' long periods read (built here rather than
        # by a viewer: after the upgrade to 0022, after a late event dropped one).
        with Session(engine) as reader:
            org = reader.get(Organisation, org_id)
            assert org is not None
            built = build_missing(reader, org, now)
        if built:
            log.info("month aggregates built", organisation=slug, months=len(built))
    log.info(
        "due reports checked",
        organisations=len(plan),
        made=sum(o.made for o in outcomes),
        unchanged=sum(not o.made for o in outcomes),
    )
    return outcomes
