"""``servicedesk token ...``: ingest tokens and report-reading tokens."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlmodel import col

from servicedesk.audit.operations import cli_actor, record
from servicedesk.ingest.models import INGEST, SCOPES, IngestToken
from servicedesk.ingest.tokens import TokenError, create_token, revoke_token, token_details
from servicedesk.orgs.cli import org_session

token_cli = AppGroup("token", help="Tokens for the events API (ingest) and the reports API.")


@token_cli.command("create")
@click.option("--org", "slug", required=True)
@click.option("--signing", is_flag=True, help="Also require Standard Webhooks signatures.")
@click.option("--label", default="", help="What the token is for.")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default=INGEST,
    show_default=True,
    help="ingest: send events; reports:read: read the reports API.",
)
def create(slug: str, signing: bool, label: str, scope: str) -> None:
    """Create a token; the last line is the token (with --signing, then the whsec_ secret)."""
    with org_session(slug, write=True) as (session, org):
        try:
            row, token = create_token(session, org, signing=signing, label=label, scope=scope)
        except TokenError as exc:
            raise click.ClickException(f"--{exc}") from None
        record(session, org.id, cli_actor(), "token.create", token_details(row))
    click.echo(f"{scope} token {row.prefix}... for {org.slug}; it is shown only now", err=True)
    click.echo(token)
    if row.signing_secret:
        click.echo(row.signing_secret)


@token_cli.command("list")
@click.option("--org", "slug", required=True)
def list_(slug: str) -> None:
    """List an organisation's tokens (prefixes only); the scope is the last column."""
    with org_session(slug) as (session, org):
        rows = session.scalars(
            sa.select(IngestToken)
            .where(col(IngestToken.organisation_id) == org.id)
            .order_by(col(IngestToken.id))
        ).all()
        for t in rows:
            state = "revoked" if t.revoked_at else "active"
            signed = "signed" if t.signing_secret else "bearer"
            # The scope came last, after the label, so scripts that read the columns before it
            # see what they always saw.
            click.echo(f"{t.id}\t{t.prefix}...\t{signed}\t{state}\t{t.label}\t{t.scope}")


@token_cli.command("revoke")
@click.option("--org", "slug", required=True)
@click.argument("token_id", type=int)
def revoke(slug: str, token_id: int) -> None:
    """Revoke a token by its id (from ``token list``)."""
    with org_session(slug, write=True) as (session, org):
        row = session.get(IngestToken, token_id)
        if row is None or row.organisation_id != org.id:
            raise click.ClickException(f"token_id: no token {token_id} for {slug}")
        revoke_token(session, row)
        record(session, org.id, cli_actor(), "token.revoke", token_details(row))
    click.echo(f"revoked {row.prefix}...")
