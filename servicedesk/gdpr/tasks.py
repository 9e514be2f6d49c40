"""The daily retention purge (docs/privacy.md, "Retention")."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC

import structlog
from apscheduler.triggers.cron import CronTrigger

from servicedesk.db import get_engine, unit_of_work
from servicedesk.gdpr.removed import Removed
from servicedesk.gdpr.retention import apply_retention
from servicedesk.scheduling import Task

log = structlog.get_logger(__name__)


def retention() -> dict[str, Removed]:
    """Purge what every organisation's retention settings say has expired; idempotent."""
    with unit_of_work(get_engine()) as session:
        done = apply_retention(session)
    removed = {slug or "(none)": asdict(r) for slug, r in done.items() if any(asdict(r).values())}
    log.info("retention applied", organisations=len(done) - 1, removed=removed)
    return done


TASKS = [
    Task(
        "retention",
        "GDPR retention purge (idempotent)",
        retention,
        CronTrigger(hour=2, minute=30, timezone=UTC),
        at_start=True,
    )
]
