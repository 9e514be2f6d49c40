"""Call lists' scheduled work: previews never imported are dropped (they hold the whole file)."""

from __future__ import annotations

from datetime import UTC

from apscheduler.triggers.cron import CronTrigger

from servicedesk.callimport.service import drop_stale_previews
from servicedesk.db import get_engine, unit_of_work
from servicedesk.scheduling import Task


def stale_previews() -> int:
    """Forget uploads previewed more than a day ago and never imported; idempotent."""
    with unit_of_work(get_engine()) as session:
        return drop_stale_previews(session)


TASKS = [
    Task(
        "call-list-previews",
        "call list previews never imported (dropped after a day)",
        stale_previews,
        CronTrigger(minute=15, timezone=UTC),
        at_start=True,
    )
]
