"""Announcing frozen reports: a job of its own every minute, so slow endpoints never hold the
reports (retries with backoff are the dispatcher's, docs/integrations.md)."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app

from servicedesk.db import get_engine
from servicedesk.notify.operations import dispatch
from servicedesk.scheduling import Task


def report_notifications() -> dict[str, int]:
    """Queue what is missing and make one attempt at each due delivery."""
    return dispatch(get_engine(), current_app.config["SECRET_KEY"])


#: The endpoints' URLs and secrets are sealed with the secret key: without it, nothing to send.
TASKS = [
    Task(
        "report-notifications",
        "report notifications (retries with backoff)",
        report_notifications,
        IntervalTrigger(minutes=1),
        requires=("SECRET_KEY",),
    )
]
