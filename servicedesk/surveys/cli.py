"""``servicedesk survey ...``: send the due surveys (the scheduler runs it every minute)."""

from __future__ import annotations

from typing import Any

import click
import structlog
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import Engine

from servicedesk.db import get_engine
from servicedesk.observability import scheduler_run
from servicedesk.secrets import require_keys
from servicedesk.surveys.dispatch import DispatchConfig, DispatchResult, send_pending

log = structlog.get_logger(__name__)

survey_cli = AppGroup("survey", help="Surveys after contacts (SKR's Servicemätning questions).")


def dispatch_config() -> DispatchConfig:
    """The keys and public URL the dispatch needs, from the running app."""
    public_url = current_app.config.get("PUBLIC_URL") or ""
    if not public_url:
        raise click.ClickException("SERVICEDESK_PUBLIC_URL must be set: the surveys link to it")
    return DispatchConfig(secret_key=current_app.config["SECRET_KEY"], public_url=public_url)


@survey_cli.command("send-pending")
def send_pending_cmd() -> None:
    """Send every survey that is due; expire the numbers whose 48 hours are over."""
    require_keys()
    result = send_pending(get_engine(), dispatch_config())
    click.echo(_summary(result))


def _summary(result: DispatchResult) -> str:
    return (
        f"sent {result.sent}, failed {result.failed}, expired {result.expired}, "
        f"not sent {result.skipped}, waiting {result.waiting}"
    )


def run_dispatch(engine: Engine, config: DispatchConfig) -> DispatchResult:
    """The scheduler's job: idempotent (what is due is read from the rows each time)."""
    try:
        result = send_pending(engine, config)
    except Exception:
        scheduler_run("surveys", "error")
        log.exception("survey dispatch failed")
        raise
    scheduler_run("surveys", "ok")
    if result.sent or result.failed or result.expired or result.skipped:
        log.info("surveys dispatched", summary=_summary(result), reasons=result.reasons)
    return result


def add_survey_job(scheduler: Any, engine: Engine) -> None:
    """Send the due surveys every minute, as a job of its own (slow providers hold nothing)."""
    from apscheduler.triggers.interval import IntervalTrigger

    config = current_app.config
    if not config.get("SECRET_KEY") or not config.get("PUBLIC_URL"):
        log.warning("surveys not dispatched: SERVICEDESK_PUBLIC_URL or the secret key is unset")
        return
    scheduler.add_job(
        run_dispatch,
        IntervalTrigger(minutes=1),
        args=[engine, DispatchConfig(config["SECRET_KEY"], config["PUBLIC_URL"])],
        id="survey-dispatch",
        name="surveys after contacts (send due, expire numbers)",
        max_instances=1,
        coalesce=True,
    )
