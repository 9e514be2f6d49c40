"""The scheduler process: each organisation's monthly report at 06:00 local time on the 3rd
working day of the next month, with catch-up after downtime.

Run it as its own process (``servicedesk scheduler``), one per deployment; web workers never
schedule. What is due is computed from the database on every run (every hour on the hour, and at
start), so a missed run or a restart loses nothing, and two schedulers started by mistake make
each report once: ``generate_report`` serialises generators of one month (an advisory lock on
PostgreSQL, the write lock on SQLite) and writes nothing when the figures are unchanged.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from servicedesk.calendars.rules import nth_working_day
from servicedesk.contacts.models import Contact
from servicedesk.db import mark_write
from servicedesk.metrics.periods import Month
from servicedesk.observability import report_timer, scheduler_run
from servicedesk.orgs.models import ClosedDay, Organisation
from servicedesk.reports.service import generate_report, reported_months
from servicedesk.timeutil import local_date, utcnow

log = structlog.get_logger(__name__)

#: The local hour and the working day of month M+1 when month M is reported (METRICS.md).
REPORT_HOUR = time(6, 0)
REPORT_WORKING_DAY = 3
#: How far back a missing report is still made on catch-up.
CATCH_UP_MONTHS = 24
#: When a new month is reported, earlier months are checked again for late events this far back.
RECHECK_MONTHS = 12


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
    rows = session.execute(sa.select(ClosedDay.day).where(ClosedDay.organisation_id == org.id))
    return {row[0] for row in rows}


def _first_month(session: Session, org: Organisation, now: datetime) -> Month:
    first_day = session.execute(
        sa.select(sa.func.min(Contact.start_date)).where(Contact.organisation_id == org.id)
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
    with Session(engine, expire_on_commit=False) as session:
        mark_write(session)  # SQLite: take the write lock before the first read (see db.py)
        org = session.get(Organisation, org_id)
        assert org is not None
        with report_timer():
            report, made = generate_report(session, org, month, trigger="scheduler", now=now)
        session.commit()
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
        for org in session.execute(sa.select(Organisation).order_by(Organisation.id)).scalars():
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
    scheduler_run("monthly-reports", "ok")
    log.info(
        "due reports checked",
        organisations=len(plan),
        made=sum(o.made for o in outcomes),
        unchanged=sum(not o.made for o in outcomes),
    )
    return outcomes


def build_scheduler(engine: Engine, background: bool = False) -> Any:
    """An APScheduler 3 scheduler running ``run_due_reports`` at start and every hour.

    Every hour on the hour (UTC) is 06:00 local somewhere in every whole-hour time zone, so each
    organisation's report is made at its own 06:00 on the due day.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    cls = BackgroundScheduler if background else BlockingScheduler
    scheduler = cls(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
    )
    scheduler.add_job(
        run_due_reports,
        CronTrigger(minute=0, timezone=UTC),
        args=[engine],
        id="monthly-reports",
        name="monthly reports (catch-up included)",
        next_run_time=datetime.now(UTC),  # catch up at start
    )
    _add_notifications(scheduler, engine)
    _add_surveys(scheduler, engine)
    from servicedesk.gdpr.jobs import run_retention

    scheduler.add_job(
        run_retention,
        CronTrigger(hour=2, minute=30, timezone=UTC),
        args=[engine],
        id="retention",
        name="GDPR retention purge (idempotent)",
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def _add_notifications(scheduler: Any, engine: Engine) -> None:
    """Announcing frozen reports is a job of its own, with the key its URLs are sealed with."""
    from flask import current_app, has_app_context

    from servicedesk.notify.operations import add_dispatch_job

    if has_app_context() and current_app.config.get("SECRET_KEY"):
        add_dispatch_job(scheduler, engine, current_app.config["SECRET_KEY"])


def _add_surveys(scheduler: Any, engine: Engine) -> None:
    """Sending the surveys after contacts (``survey send-pending``) every minute."""
    from flask import has_app_context

    from servicedesk.surveys.cli import add_survey_job

    if has_app_context():
        add_survey_job(scheduler, engine)


def serve_scheduler(engine: Engine) -> None:
    """Run the scheduler in the foreground until SIGTERM / SIGINT."""
    scheduler = build_scheduler(engine)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("scheduler stopping", signal=signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    log.info("scheduler started", job="monthly-reports", every="hour")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
