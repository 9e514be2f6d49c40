"""Publishing to the comparison hub: a job of its own every ten minutes (new report versions
come at most hourly), only where a hub is configured."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app

from servicedesk.benchmarking.publish import Hub, dispatch
from servicedesk.db import get_engine
from servicedesk.scheduling import Task


def benchmark_publications() -> dict[str, int]:
    """Queue what the hub has not had and make one attempt at each due message."""
    hub = Hub.from_config(current_app.config)
    if hub is None:
        return {}
    return dispatch(get_engine(), hub)


TASKS = [
    Task(
        "benchmark-publications",
        "benchmark publications to the comparison hub (retries with backoff)",
        benchmark_publications,
        IntervalTrigger(minutes=10),
        at_start=True,
        requires=("BENCHMARK_HUB_URL", "BENCHMARK_HUB_MEMBER", "BENCHMARK_HUB_SECRET"),
    )
]
