"""``servicedesk org ...``"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlmodel import Session

from servicedesk.db import get_engine
from servicedesk.orgs.models import Organisation
from servicedesk.orgs.operations import OrganisationError, create_organisation, get_organisation

org_cli = AppGroup("org", help="Organisations (municipalities).")


def require_org(session: Session, slug: str) -> Organisation:
    """The organisation, or a one-line CLI error."""
    org = get_organisation(session, slug)
    if org is None:
        raise click.ClickException(f"--org: no organisation {slug!r}")
    return org


@org_cli.command("create")
@click.option("--slug", required=True, help="Short name used in URLs and commands.")
@click.option("--name", required=True)
@click.option("--country", required=True, type=click.Choice(["SE", "NO"], case_sensitive=False))
@click.option("--timezone", default=None, help="Defaults by country.")
@click.option("--service-level-seconds", default=60, show_default=True, type=int)
def create(slug: str, name: str, country: str, timezone: str | None, service_level_seconds: int):
    """Create an organisation."""
    with Session(get_engine()) as session:
        try:
            org = create_organisation(
                session,
                slug=slug,
                name=name,
                country=country,
                timezone=timezone,
                service_level_seconds=service_level_seconds,
            )
        except OrganisationError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"created {org.slug} ({org.name}, {org.country}, {org.timezone})")


@org_cli.command("list")
def list_() -> None:
    """List organisations."""
    with Session(get_engine()) as session:
        for org in session.scalars(sa.select(Organisation).order_by(Organisation.slug)):
            click.echo(f"{org.slug}\t{org.name}\t{org.country}\t{org.timezone}")
