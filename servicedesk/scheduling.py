"""What a feature's scheduled work looks like: each feature lists its ``Task``s in ``tasks.py``.

``servicedesk/jobs.py`` collects them into the one scheduler process (``servicedesk scheduler``)
and runs each inside the app's context, counted and logged the same way. A task is idempotent
and computes what is due from the database, so a missed or repeated run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.base import BaseTrigger


@dataclass(frozen=True)
class Task:
    """One piece of scheduled work."""

    #: The job's id (also its label in ``servicedesk_scheduler_runs_total``).
    id: str
    #: What it does, for the logs.
    name: str
    #: Called with no arguments inside the app's context (``get_engine``, ``current_app``).
    run: Callable[[], Any]
    #: When it runs (APScheduler 3 trigger, UTC).
    trigger: BaseTrigger
    #: Also once when the scheduler starts (to catch up after downtime).
    at_start: bool = False
    #: App settings it cannot run without (``SECRET_KEY``): when one is unset the scheduler
    #: leaves the task out and logs that once, instead of failing every run.
    requires: tuple[str, ...] = ()
