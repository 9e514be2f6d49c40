"""``servicedesk survey ...``: send the due surveys (the scheduler's ``survey-dispatch`` task
does it every minute: ``surveys/tasks.py``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from servicedesk.db import get_engine
from servicedesk.secrets import require_keys
from servicedesk.surveys.dispatch import DispatchConfig, send_pending

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
    click.echo(result.summary())
