"""The ``servicedesk`` command: a Flask CLI group that every feature adds its commands to."""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from servicedesk.audit.cli import audit_cli
from servicedesk.auth.cli import user_cli
from servicedesk.calendars.cli import calendar_cli
from servicedesk.callimport.cli import calls_cli
from servicedesk.demo.cli import demo_cli
from servicedesk.gdpr.cli import gdpr_cli
from servicedesk.ingest.cli import token_cli
from servicedesk.kolada.cli import kolada_cli
from servicedesk.notify.cli import notify_cli
from servicedesk.orgs.cli import org_cli
from servicedesk.reports.cli import report_cli, scheduler_cmd
from servicedesk.secrets import require_keys
from servicedesk.surveys.cli import survey_cli
from servicedesk.webhooks.cli import asterisk_cli, integration_cli


class ServicedeskGroup(FlaskGroup):
    """Turns database failures into one line on stderr instead of a stack trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
            hint = " (has `servicedesk db upgrade` been run?)" if "no such table" in first else ""
            raise click.ClickException(f"database: {first}{hint}") from None


main = ServicedeskGroup(
    name="servicedesk",
    create_app=lambda: _create_app(),
    add_version_option=False,
    load_dotenv=False,
    help="Service desk metrics for Nordic municipalities.",
)


def _create_app() -> Flask:
    from servicedesk import create_app

    return create_app(for_cli=True)


@click.group("db")
def db_cli() -> None:
    """Database schema."""


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply all migrations."""
    from servicedesk.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", 8000)), type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=32, show_default=True, type=click.IntRange(1, 256))
def serve_cmd(host: str, port: int, workers: int, threads: int) -> None:
    """Run the production server (gunicorn, threaded workers)."""
    require_keys()
    from servicedesk.serve import serve

    serve(host, port, workers, threads)


#: Every feature's command or group; a feature adds itself with one line here.
COMMANDS = [
    db_cli,
    serve_cmd,
    org_cli,
    token_cli,
    demo_cli,
    report_cli,
    scheduler_cmd,
    integration_cli,
    asterisk_cli,
    user_cli,
    notify_cli,
    kolada_cli,
    gdpr_cli,
    audit_cli,
    calendar_cli,
    calls_cli,
    survey_cli,
]


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
