"""``servicedesk notify ...``"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import col

from integrations.notifications import NOTIFIERS
from servicedesk.db import get_engine
from servicedesk.notify.models import NotificationDelivery, NotificationEndpoint
from servicedesk.notify.operations import NotifyError, add_endpoint, dispatch
from servicedesk.orgs.cli import org_session
from servicedesk.reports.models import Report
from servicedesk.secrets import require_keys

notify_cli = AppGroup("notify", help="Announce frozen monthly reports (webhook, Teams, Slack).")


@notify_cli.command("add")
@click.option("--org", "slug", required=True)
@click.option("--kind", required=True, type=click.Choice(sorted(NOTIFIERS)))
@click.option("--url", required=True, help="The endpoint, or the incoming-webhook URL.")
def add(slug: str, kind: str, url: str) -> None:
    """Add an endpoint; for --kind webhook the last line is its whsec_ signing secret."""
    require_keys()
    with org_session(slug, write=True) as (session, org):
        try:
            row, secret = add_endpoint(
                session, org, kind, url, secret_key=current_app.config["SECRET_KEY"]
            )
        except NotifyError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"endpoint {row.id}: {kind} {row.url_hint} for {slug}")
    if secret:
        click.echo(secret)


@notify_cli.command("list")
@click.option("--org", "slug", required=True)
def list_(slug: str) -> None:
    """The endpoints, with how many announcements are delivered, pending and failed."""
    with org_session(slug) as (session, org):
        for row in session.scalars(
            sa.select(NotificationEndpoint)
            .where(col(NotificationEndpoint.organisation_id) == org.id)
            .order_by(col(NotificationEndpoint.id))
        ):
            counts = dict(
                session.execute(
                    sa.select(col(NotificationDelivery.status), sa.func.count())
                    .where(col(NotificationDelivery.endpoint_id) == row.id)
                    .group_by(col(NotificationDelivery.status))
                ).all()
            )
            click.echo(
                f"{row.id}\t{row.kind}\t{row.url_hint}\tdelivered {counts.get('delivered', 0)}"
                f"\tpending {counts.get('pending', 0)}\tfailed {counts.get('failed', 0)}"
            )


@notify_cli.command("remove")
@click.option("--org", "slug", required=True)
@click.argument("endpoint_id", type=int)
def remove(slug: str, endpoint_id: int) -> None:
    """Remove an endpoint (and its delivery log)."""
    with org_session(slug, write=True) as (session, org):
        row = session.get(NotificationEndpoint, endpoint_id)
        if row is None or row.organisation_id != org.id:
            raise click.ClickException(f"endpoint_id: no endpoint {endpoint_id} for {slug}")
        session.delete(row)
    click.echo(f"removed endpoint {endpoint_id}")


@notify_cli.command("log")
@click.option("--org", "slug", required=True)
@click.option("--limit", default=20, show_default=True, type=int)
def log_(slug: str, limit: int) -> None:
    """The latest announcements: report, endpoint, status, attempts, last answer."""
    with org_session(slug) as (session, org):
        rows = session.execute(
            sa.select(NotificationDelivery, col(Report.month), col(Report.version))
            .join(Report, col(Report.id) == col(NotificationDelivery.report_id))
            .where(col(NotificationDelivery.organisation_id) == org.id)
            .order_by(col(NotificationDelivery.id).desc())
            .limit(limit)
        ).all()
        for d, month, version in rows:
            answer = d.last_status if d.last_status is not None else (d.last_error or "-")
            click.echo(
                f"{month} v{version}\tendpoint {d.endpoint_id}\t{d.status}\t"
                f"attempts {d.attempts}\tlast {answer}"
            )


@notify_cli.command("send")
def send() -> None:
    """Queue and send due announcements now (the scheduler does this every minute)."""
    require_keys()
    counts = dispatch(get_engine(), current_app.config["SECRET_KEY"])
    click.echo(" ".join(f"{k} {v}" for k, v in counts.items()))
