"""The calendars' scheduled work: rebuilt where the rules changed (a new holidays release, a
new rules version), at the scheduler's start and daily; a no-op when nothing changed."""

from __future__ import annotations

from datetime import UTC

import structlog
from apscheduler.triggers.cron import CronTrigger

from servicedesk.calendars.service import refresh_calendars
from servicedesk.db import get_engine, unit_of_work
from servicedesk.scheduling import Task

log = structlog.get_logger(__name__)


def calendars() -> list[str]:
    """Rebuild the calendars that are not current; the organisations rebuilt."""
    with unit_of_work(get_engine()) as session:
        rebuilt = refresh_calendars(session)
    if rebuilt:
        log.info("calendars rebuilt", organisations=rebuilt)
    return rebuilt


TASKS = [
    Task(
        "calendars",
        "calendars rebuilt where the rules changed",
        calendars,
        CronTrigger(hour=1, minute=50, timezone=UTC),
        at_start=True,
    )
]
