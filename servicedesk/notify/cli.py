"""``servicedesk notify ...``"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import col

from servicedesk.audit import record
from servicedesk.audit.operations import cli_actor
from servicedesk.db import get_engine, unit_of_work
from servicedesk.metrics.periods import Month
from servicedesk.notify.models import NotificationDelivery, NotificationEndpoint
from servicedesk.notify.operations import KINDS, NotifyError, add_endpoint, dispatch
from servicedesk.notify.recipients import addressees, default_language, send_now
from servicedesk.orgs.cli import org_session
from servicedesk.reports.models import Report
from servicedesk.reports.service import latest_report
from servicedesk.reports.workbook import LANGUAGES
from servicedesk.secrets import require_keys

notify_cli = AppGroup(
    "notify", help="Announce frozen monthly reports (webhook, Teams, Slack, e-mail)."
)


@notify_cli.command("add")
@click.option("--org", "slug", required=True)
@click.option("--kind", required=True, type=click.Choice(sorted(KINDS)))
@click.option("--url", default="", help="The endpoint, or the incoming-webhook URL.")
@click.option("--to", default="", help="--kind email: the recipient's e-mail address.")
@click.option(
    "--lang",
    default="",
    type=click.Choice(["", *LANGUAGES]),
    help="--kind email: the report's language (default: the organisation's country's).",
)
def add(slug: str, kind: str, url: str, to: str, lang: str) -> None:
    """Add an endpoint; for --kind webhook the last line is its whsec_ signing secret; --kind
    email --to ADDRESS e-mails each frozen report (summary and XLSX) to a person."""
    require_keys()
    if kind == "email" and not to:
        raise click.ClickException("--to: required with --kind email")
    if kind != "email" and not url:
        raise click.ClickException(f"--url: required with --kind {kind}")
    with org_session(slug, write=True) as (session, org):
        try:
            row, secret = add_endpoint(
                session,
                org,
                kind,
                to if kind == "email" else url,
                secret_key=current_app.config["SECRET_KEY"],
                language=lang,
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


@notify_cli.command("mail")
@click.option("--org", "slug", required=True)
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--to", default="", help="One address (default: every e-mail recipient).")
@click.option("--lang", default="", type=click.Choice(["", *LANGUAGES]))
def mail(slug: str, month: str, to: str, lang: str) -> None:
    """E-mail the latest version of the month's report now (on demand; logged in the audit log)."""
    from servicedesk.notify.mail import MailNotConfigured, configured_sender, valid_address

    require_keys()
    try:
        m = Month.parse(month)
    except ValueError as exc:
        raise click.ClickException(f"--{exc}") from None
    if to and not valid_address(to):
        raise click.ClickException("--to: an e-mail address (name@example.se)")
    try:
        sender = configured_sender()
    except MailNotConfigured as exc:
        raise click.ClickException(str(exc)) from None
    key = current_app.config["SECRET_KEY"]
    with org_session(slug) as (session, org):
        report = latest_report(session, org, m)
        if report is None:
            raise click.ClickException(f"--month: no report for {slug} {m}")
        if to:
            recipients = [(to, lang or default_language(org), to)]
        else:
            recipients = addressees(session, org, key, lang)
        document, org_id = report.document, org.id
    if not recipients:
        raise click.ClickException("--to: no e-mail recipients (notify add --kind email)")
    outcomes = send_now(sender, document, recipients)
    failed = sum(not sent.ok for sent in outcomes)
    for sent in outcomes:
        click.echo(f"{sent.hint}\t{'sent' if sent.ok else 'failed: ' + str(sent.error)}")
    with unit_of_work(get_engine()) as session:
        record(
            session,
            org_id,
            cli_actor(),
            "report.mail",
            {"month": str(m), "version": report.version, "recipients": len(recipients)},
        )
    if failed:
        raise click.ClickException(f"{failed} of {len(recipients)} not sent")
