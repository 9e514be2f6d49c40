"""The reports' scheduled work: each month's report when it is due, checked every hour."""

from __future__ import annotations

from datetime import UTC

from apscheduler.triggers.cron import CronTrigger

from servicedesk.db import get_engine
from servicedesk.reports.scheduler import Outcome, run_due_reports
from servicedesk.scheduling import Task


def monthly_reports() -> list[Outcome]:
    """Make every due report that is missing (and recheck the months before it)."""
    return run_due_reports(get_engine())


#: Every hour on the hour (UTC) is 06:00 local somewhere in every whole-hour time zone, so each
#: organisation's report is made at its own 06:00 on the due day; at start to catch up.
TASKS = [
    Task(
        "monthly-reports",
        "monthly reports (catch-up included)",
        monthly_reports,
        CronTrigger(minute=0, timezone=UTC),
        at_start=True,
    )
]
