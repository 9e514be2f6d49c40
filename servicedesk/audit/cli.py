"""``servicedesk audit list``: read the audit log."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlmodel import Session

from servicedesk.audit.operations import entries
from servicedesk.db import get_engine
from servicedesk.orgs.cli import require_org

audit_cli = AppGroup("audit", help="The audit log of exports, sign-ins and changes.")


@audit_cli.command("list")
@click.option("--org", "slug", default=None)
@click.option("--action", default=None, help='E.g. "gdpr.erase".')
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_(slug: str | None, action: str | None, limit: int) -> None:
    """The newest entries first, one line each (tab-separated; details as JSON)."""
    with Session(get_engine()) as session:
        org_id = require_org(session, slug).id if slug else None
        for entry in entries(session, org_id, action=action, limit=limit):
            click.echo(
                "\t".join(
                    [entry.at.isoformat(), entry.actor, entry.action, json.dumps(entry.details)]
                )
            )
