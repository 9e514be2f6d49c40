"""``servicedesk report generate|show|export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from servicedesk.audit import record
from servicedesk.audit.operations import cli_actor
from servicedesk.db import get_engine, mark_write
from servicedesk.kolada.operations import comparison_lines
from servicedesk.metrics.periods import Month
from servicedesk.orgs.cli import require_org
from servicedesk.reports import formats
from servicedesk.reports.models import Report
from servicedesk.reports.published import published_document, published_json
from servicedesk.reports.service import generate_report, latest_report

report_cli = AppGroup("report", help="Monthly reports (frozen, versioned).")

EXPORT_FORMATS = ["xlsx", "csv", "json", "days-csv", "audit-csv"]


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise click.ClickException(f"--{exc}") from None


def _latest(session: Session, slug: str, month: Month) -> Report:
    org = require_org(session, slug)
    report = latest_report(session, org, month)
    if report is None:
        raise click.ClickException(
            f"--month: no report for {slug} {month} (make one with `servicedesk report generate`)"
        )
    return report


@report_cli.command("generate")
@click.option("--org", "slug", required=True)
@click.option("--month", required=True, help="YYYY-MM")
def generate(slug: str, month: str) -> None:
    """Make the month's report now (a new version only if the figures changed)."""
    m = _month(month)
    with Session(get_engine(), expire_on_commit=False) as session:
        mark_write(session)  # SQLite: take the write lock before the first read (see db.py)
        org = require_org(session, slug)
        report, made = generate_report(session, org, m, trigger="cli")
        session.commit()
    state = "made" if made else "unchanged, latest is"
    click.echo(f"{slug} {m}: {state} version {report.version} (sha256 {report.sha256})")


@report_cli.command("show")
@click.option("--org", "slug", required=True)
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "table"]),
    default="table",
    show_default=True,
)
def show(slug: str, month: str, fmt: str) -> None:
    """Print the latest version of the month's report."""
    m = _month(month)
    with Session(get_engine()) as session:
        report = _latest(session, slug, m)
        shown = published_document(session, require_org(session, slug), report)
    doc = report.document
    if fmt == "json":
        click.echo(published_json(shown), nl=False)
    elif fmt == "csv":
        click.echo(formats.report_csv(doc), nl=False)
    else:
        click.echo(formats.report_table(doc) + comparison_lines(shown.get("kolada", [])), nl=False)


@report_cli.command("export")
@click.option("--org", "slug", required=True)
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True
)
def export(slug: str, month: str, fmt: str, output: Path) -> None:
    """Write the latest version of the month's report to a file (audit-csv: every contact)."""
    from servicedesk.reports import exports

    m = _month(month)
    with Session(get_engine()) as session:
        report = _latest(session, slug, m)
        try:
            written = exports.write(session, report, fmt, output)
        except OSError as exc:
            raise click.ClickException(f"--output: {exc.strerror or exc}") from None
    with Session(get_engine()) as session:
        record(
            session,
            report.organisation_id,
            cli_actor(),
            "report.export",
            {"month": str(m), "format": fmt, "version": report.version, "bytes": written},
        )
        session.commit()
    click.echo(f"wrote {output} ({fmt}, {slug} {m} version {report.version}, {written} bytes)")


@click.command("scheduler")
@with_appcontext
@click.option("--once", is_flag=True, help="Make what is due now, then exit (for cron or checks).")
def scheduler_cmd(once: bool) -> None:
    """Run the scheduler process (monthly reports at 06:00 local, 3rd working day)."""
    from servicedesk.reports.scheduler import run_due_reports, serve_scheduler

    if once:
        for outcome in run_due_reports(get_engine()):
            state = "made" if outcome.made else "unchanged"
            click.echo(f"{outcome.organisation} {outcome.month}: {state} version {outcome.version}")
        return
    serve_scheduler(get_engine())
