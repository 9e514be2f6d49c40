"""The surveys' scheduled work: the due surveys sent every minute, as a job of their own (a
slow SMS or mail provider holds nothing else up); numbers whose 48 hours are over expired."""

from __future__ import annotations

import structlog
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app

from servicedesk.db import get_engine
from servicedesk.scheduling import Task
from servicedesk.surveys.dispatch import DispatchConfig, DispatchResult, send_pending

log = structlog.get_logger(__name__)


def survey_dispatch() -> DispatchResult:
    """Send what is due; idempotent (what is due is read from the rows each time)."""
    config = DispatchConfig(current_app.config["SECRET_KEY"], current_app.config["PUBLIC_URL"])
    result = send_pending(get_engine(), config)
    if result.sent or result.failed or result.expired or result.skipped:
        log.info("surveys dispatched", summary=result.summary(), reasons=result.reasons)
    return result


#: The links in the surveys point at the public URL, and the numbers are sealed with the key.
TASKS = [
    Task(
        "survey-dispatch",
        "surveys after contacts (send due, expire numbers)",
        survey_dispatch,
        IntervalTrigger(minutes=1),
        requires=("SECRET_KEY", "PUBLIC_URL"),
    )
]
