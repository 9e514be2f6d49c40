"""The scheduler process: every feature's scheduled work (its ``tasks.py``) in one APScheduler 3.

Run it as its own process (``servicedesk scheduler``), one per deployment; web workers never
schedule (several gunicorn workers would each run every job). Each task is idempotent, computes
from the database what is due, and runs at start when it says so, so a restart loses nothing.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from servicedesk.observability import scheduler_run
from servicedesk.scheduling import Task

log = structlog.get_logger(__name__)

#: Every feature's ``tasks`` module; a feature adds its scheduled work with one line here.
TASK_MODULES = [
    "servicedesk.calendars.tasks",
    "servicedesk.reports.tasks",
    "servicedesk.notify.tasks",
    "servicedesk.gdpr.tasks",
    "servicedesk.callimport.tasks",
    "servicedesk.surveys.tasks",
    "servicedesk.benchmarking.tasks",
]

#: Catch up a run that was missed by up to six hours (a restart, a long job before it), once.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}


def tasks() -> list[Task]:
    """Every feature's tasks, in the order of TASK_MODULES."""
    found: list[Task] = []
    for name in TASK_MODULES:
        found.extend(import_module(name).TASKS)
    return found


def run_task(app: Flask, task: Task) -> Any:
    """Run one task inside the app's context; count and log how it went."""
    with app.app_context():
        try:
            result = task.run()
        except Exception:
            scheduler_run(task.id, "error")
            log.exception("task failed", task=task.id)
            raise
    scheduler_run(task.id, "ok")
    return result


def build_scheduler(app: Flask, background: bool = False) -> BaseScheduler:
    """An APScheduler 3 scheduler with every task, in UTC."""
    cls = BackgroundScheduler if background else BlockingScheduler
    scheduler = cls(timezone=UTC, job_defaults=JOB_DEFAULTS)
    for task in tasks():
        missing = [key for key in task.requires if not app.config.get(key)]
        if missing:
            # An optional feature that is not set up (no comparison hub, say): worth a line in
            # the log, not a warning at every start.
            log.info("task not scheduled: not configured", task=task.id, missing=missing)
            continue
        scheduler.add_job(
            run_task,
            task.trigger,
            args=[app, task],
            id=task.id,
            name=task.name,
            **({"next_run_time": datetime.now(UTC)} if task.at_start else {}),
        )
    return scheduler


def serve_scheduler(app: Flask) -> None:
    """Run the scheduler in the foreground until SIGTERM / SIGINT."""
    scheduler = build_scheduler(app)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("scheduler stopping", signal=signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    log.info("scheduler started", jobs=[task.id for task in tasks()])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
