"""``servicedesk org ...``"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlmodel import Session, col

from servicedesk.db import get_engine, unit_of_work
from servicedesk.orgs.models import Organisation
from servicedesk.orgs.operations import OrganisationError, create_organisation, get_organisation

org_cli = AppGroup("org", help="Organisations (municipalities).")


def require_org(session: Session, slug: str) -> Organisation:
    """The organisation, or a one-line CLI error."""
    org = get_organisation(session, slug)
    if org is None:
        raise click.ClickException(f"--org: no organisation {slug!r}")
    return org


@contextmanager
def org_session(slug: str, *, write: bool = False) -> Iterator[tuple[Session, Organisation]]:
    """A command's session and the organisation ``--org`` names (or a one-line error).

    With ``write`` the block is one unit of work, committed when it ends without an error; say
    what was done after the block, once it is committed. Without it the session only reads.
    """
    if write:
        with unit_of_work(get_engine()) as session:
            yield session, require_org(session, slug)
        return
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session, require_org(session, slug)


def load_org(slug: str) -> Organisation:
    """The organisation ``--org`` names, for a command that writes in several transactions."""
    with org_session(slug) as (_, org):
        return org


@org_cli.command("create")
@click.option("--slug", required=True, help="Short name used in URLs and commands.")
@click.option("--name", required=True)
@click.option("--country", required=True, type=click.Choice(["SE", "NO"], case_sensitive=False))
@click.option("--timezone", default=None, help="Defaults by country.")
@click.option("--service-level-seconds", default=60, show_default=True, type=int)
def create(
    slug: str, name: str, country: str, timezone: str | None, service_level_seconds: int
) -> None:
    """Create an organisation."""
    with unit_of_work(get_engine()) as session:
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
    click.echo(f"created {org.slug} ({org.name}, {org.country}, {org.timezone})")


@org_cli.command("list")
def list_() -> None:
    """List organisations."""
    with Session(get_engine()) as session:
        for org in session.scalars(sa.select(Organisation).order_by(col(Organisation.slug))):
            click.echo(f"{org.slug}\t{org.name}\t{org.country}\t{org.timezone}")
