"""The commands of the whole installation: the schema, the web server, the scheduler process."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from servicedesk.db import get_engine, unit_of_work
from servicedesk.secrets import require_keys


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
    if revision == "head":
        # A new release may bring new holiday rules: the calendars follow before any page reads.
        from servicedesk.calendars.service import refresh_calendars

        with unit_of_work(get_engine()) as session:
            rebuilt = refresh_calendars(session)
        if rebuilt:
            click.echo(f"calendars rebuilt: {', '.join(rebuilt)}")


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


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, help="Make what is due now, then exit (for cron or checks).")
def scheduler_cmd(once: bool) -> None:
    """Run the scheduler process (every feature's scheduled work: monthly reports at 06:00 local
    on the 3rd working day, notifications, retention, calendars, call list previews)."""
    from servicedesk.jobs import serve_scheduler
    from servicedesk.reports.scheduler import run_due_reports

    if once:
        for outcome in run_due_reports(get_engine()):
            state = "made" if outcome.made else "unchanged"
            click.echo(f"{outcome.organisation} {outcome.month}: {state} version {outcome.version}")
        return
    serve_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]  # the proxy's app, documented by Flask
