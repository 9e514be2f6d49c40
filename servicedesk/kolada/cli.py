"""``servicedesk kolada ...``"""

from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlmodel import col

from integrations.kolada import BASE_URL, HttpKoladaClient, KoladaError
from servicedesk.db import get_engine, unit_of_work
from servicedesk.kolada.models import KoladaKpi
from servicedesk.kolada.operations import (
    FIGURES,
    KoladaConfigError,
    add_kpi,
    configured,
    fetch_values,
    store_values,
)
from servicedesk.orgs.cli import org_session

kolada_cli = AppGroup("kolada", help="National comparison with Kolada's open KPI values.")


@kolada_cli.command("add")
@click.option("--org", "slug", required=True)
@click.option("--municipality", required=True, help="Kolada's municipality id, e.g. 1881.")
@click.option("--kpi", required=True, help="Kolada KPI id: look it up with `kolada kpis --search`.")
@click.option("--figure", required=True, type=click.Choice(FIGURES))
@click.option("--label", default="")
def add(slug: str, municipality: str, kpi: str, figure: str, label: str) -> None:
    """Compare a Kolada KPI with one of our figures."""
    with org_session(slug, write=True) as (session, org):
        try:
            add_kpi(
                session,
                org,
                kpi=kpi.upper(),
                municipality=municipality,
                figure=figure,
                label=label,
            )
        except KoladaConfigError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{kpi.upper()} compared with {figure} for {slug}")


@kolada_cli.command("kpis")
@click.option("--search", "text", required=True, help="Words of the KPI's title (Swedish).")
@click.option("--base-url", default=BASE_URL, show_default=True, hidden=True)
def kpis(text: str, base_url: str) -> None:
    """Look KPI ids up in Kolada by title: id, title, operating area (tab-separated)."""
    if not text.strip():
        raise click.ClickException("--search: some words of the KPI's title")
    client = HttpKoladaClient(base_url)
    try:
        found = client.search_kpis(text.strip())
    except KoladaError as exc:
        raise click.ClickException(f"kolada: {exc}") from None
    finally:
        client.close()
    for kpi in found:
        click.echo(f"{kpi.id}\t{' '.join(kpi.title.split())}\t{kpi.operating_area}")
    if not found:
        click.echo(f"no KPI's title contains {text.strip()!r}", err=True)


@kolada_cli.command("list")
@click.option("--org", "slug", required=True)
def list_(slug: str) -> None:
    """The KPIs compared: KPI, municipality, figure, label (tab-separated)."""
    with org_session(slug) as (session, org):
        for row in configured(session, org):
            click.echo(f"{row.kpi}\t{row.municipality}\t{row.figure}\t{row.label}")


@kolada_cli.command("remove")
@click.option("--org", "slug", required=True)
@click.option("--kpi", required=True)
def remove(slug: str, kpi: str) -> None:
    """Stop comparing a KPI."""
    with org_session(slug, write=True) as (session, org):
        result = session.execute(
            sa.delete(KoladaKpi).where(
                col(KoladaKpi.organisation_id) == org.id, col(KoladaKpi.kpi) == kpi.upper()
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]  # a DELETE's CursorResult
            raise click.ClickException(f"--kpi: {kpi} is not compared for {slug}")
    click.echo(f"removed {kpi.upper()}")


@kolada_cli.command("fetch")
@click.option("--org", "slug", required=True)
@click.option("--years", default=None, help="Comma-separated; default the last three years.")
@click.option("--base-url", default=BASE_URL, show_default=True, envvar="KOLADA_BASE_URL")
def fetch_cmd(slug: str, years: str | None, base_url: str) -> None:
    """Fetch the configured KPIs for the municipality and the nation into the cache."""
    this_year = date.today().year
    try:
        wanted = (
            [int(y) for y in years.split(",")] if years else list(range(this_year - 3, this_year))
        )
    except ValueError:
        raise click.ClickException("--years: years like 2023,2024") from None
    with org_session(slug) as (session, org):
        kpis = [(row.kpi, row.municipality) for row in configured(session, org)]
    if not kpis:
        raise click.ClickException(f"--org: no KPIs compared for {slug} (kolada add first)")
    client = HttpKoladaClient(base_url)
    try:
        values = fetch_values(client, kpis, wanted)
    except KoladaError as exc:
        raise click.ClickException(f"kolada: {exc}") from None
    finally:
        client.close()
    with unit_of_work(get_engine()) as session:
        stored = store_values(session, values)
    click.echo(f"stored {stored} values for {slug} ({','.join(map(str, wanted))})")
