"""``servicedesk report generate|show|export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlmodel import Session

from servicedesk.audit import record
from servicedesk.audit.operations import cli_actor
from servicedesk.db import get_engine, unit_of_work
from servicedesk.kolada.operations import comparison_lines
from servicedesk.metrics.periods import Month
from servicedesk.orgs.cli import org_session
from servicedesk.orgs.models import Organisation
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


def _latest(session: Session, org: Organisation, month: Month) -> Report:
    report = latest_report(session, org, month)
    if report is None:
        raise click.ClickException(
            f"--month: no report for {org.slug} {month} "
            "(make one with `servicedesk report generate`)"
        )
    return report


@report_cli.command("generate")
@click.option("--org", "slug", required=True)
@click.option("--month", required=True, help="YYYY-MM")
def generate(slug: str, month: str) -> None:
    """Make the month's report now (a new version only if the figures changed)."""
    m = _month(month)
    with org_session(slug, write=True) as (session, org):
        report, made = generate_report(session, org, m, trigger="cli")
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
    with org_session(slug) as (session, org):
        report = _latest(session, org, m)
        shown = published_document(session, org, report)
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
@click.option(
    "--lang",
    type=click.Choice(["sv", "nb", "en"]),
    default="en",
    show_default=True,
    help="Language of the XLSX and of the Excel CSV (sheet names, headers, definitions).",
)
@click.option(
    "--dialect",
    type=click.Choice(list(formats.DIALECTS)),
    default="rfc4180",
    show_default=True,
    help="CSV dialect: rfc4180 for scripts; excel for Swedish and Norwegian Excel "
    "(UTF-8 with BOM, semicolons, decimal commas).",
)
def export(slug: str, month: str, fmt: str, output: Path, lang: str, dialect: str) -> None:
    """Write the latest version of the month's report to a file (audit-csv: every contact)."""
    from servicedesk.reports import exports

    if dialect != "rfc4180" and fmt not in ("csv", "days-csv"):
        raise click.ClickException("--dialect: only for --format csv or days-csv")
    m = _month(month)
    with org_session(slug) as (session, org):
        report = _latest(session, org, m)
        try:
            written = exports.write(session, report, fmt, output, lang, dialect)
        except OSError as exc:
            raise click.ClickException(f"--output: {exc.strerror or exc}") from None
    with unit_of_work(get_engine()) as session:
        record(
            session,
            report.organisation_id,
            cli_actor(),
            "report.export",
            {
                "month": str(m),
                "format": fmt,
                "version": report.version,
                "bytes": written,
                "lang": lang,
                "dialect": dialect,
            },
        )
    click.echo(f"wrote {output} ({fmt}, {slug} {m} version {report.version}, {written} bytes)")
