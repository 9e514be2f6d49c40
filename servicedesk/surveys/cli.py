"""``servicedesk survey ...``: send the due surveys (the scheduler's ``survey-dispatch`` task
does it every minute: ``surveys/tasks.py``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from servicedesk.audit import record
from servicedesk.db import get_engine
from servicedesk.orgs.cli import org_session
from servicedesk.secrets import require_keys
from servicedesk.surveys.dispatch import DispatchConfig, send_pending
from servicedesk.surveys.operations import settings_of
from servicedesk.surveys.replies import make_reply_address

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


@survey_cli.command("reply-address")
@click.option("--org", "slug", required=True, help="The organisation's slug.")
def reply_address_cmd(slug: str) -> None:
    """Make a new address for the citizens' SMS replies (STOPP, digits); the old one stops
    working. The last line of output is the URL to give 46elks (sms_url) or Twilio."""
    public_url = current_app.config.get("PUBLIC_URL") or ""
    if not public_url:
        raise click.ClickException("SERVICEDESK_PUBLIC_URL must be set: the address is under it")
    with org_session(slug, write=True) as (session, org):
        secret = make_reply_address(session, settings_of(session, org))
        record(session, org.id, "cli", "surveys.reply_address", {})
    click.echo("Shown only this once; the previous reply address no longer works.")
    click.echo(f"{public_url.rstrip('/')}/s/sms/{secret}")
