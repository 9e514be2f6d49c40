"""``servicedesk user ...``"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from servicedesk.audit.operations import cli_actor, record
from servicedesk.auth.models import ROLES
from servicedesk.auth.operations import (
    UserError,
    create_user,
    org_users,
    user_details,
    user_queue_ids,
)
from servicedesk.metrics.queries import queue_names
from servicedesk.orgs.cli import org_session

user_cli = AppGroup("user", help="People who sign in to the dashboards.")


def _read_password() -> str:
    """The password from stdin: its first line, so ``echo`` and here-strings work."""
    stream = sys.stdin
    if stream.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    line = stream.readline()
    return line.rstrip("\r\n")


@user_cli.command("create")
@click.option("--org", "slug", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--queue", "queues", multiple=True, help="Limit a team leader to this queue.")
@click.option("--locale", type=click.Choice(["sv", "nb", "en"]), default=None)
def create(slug: str, email: str, role: str, queues: tuple[str, ...], locale: str | None) -> None:
    """Create a user; the password is read from stdin (its first line)."""
    password = _read_password()
    with org_session(slug, write=True) as (session, org):
        try:
            user = create_user(
                session,
                org,
                email=email,
                password=password,
                role=role,
                queue_names=queues,
                locale=locale,
            )
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        record(session, org.id, cli_actor(), "user.create", user_details(user))
    click.echo(f"created {user.email} ({user.role}) in {org.slug}")


@user_cli.command("list")
@click.option("--org", "slug", required=True)
def list_(slug: str) -> None:
    """List an organisation's users."""
    with org_session(slug) as (session, org):
        names = queue_names(session, org)
        for user in org_users(session, org):
            ids = user_queue_ids(session, user)
            queues = ",".join(names[i] for i in ids) if ids else "*"
            state = "active" if user.active else "inactive"
            click.echo(f"{user.email}\t{user.role}\t{queues}\t{state}")
