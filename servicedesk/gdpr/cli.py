"""``servicedesk gdpr ...``: erasure, retention, purge and pseudonym keys."""

from __future__ import annotations

from dataclasses import asdict

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session

from servicedesk.audit.operations import cli_actor
from servicedesk.db import get_engine, unit_of_work
from servicedesk.gdpr import erasure
from servicedesk.gdpr import retention as retention_rules
from servicedesk.gdpr.removed import Removed
from servicedesk.orgs.cli import org_session, require_org
from servicedesk.privacy import key_id
from servicedesk.privacy.keys import key_usage

gdpr_cli = AppGroup("gdpr", help="Privacy: erase a person, retention, purge, pseudonym keys.")


def pseudonym_keys() -> list[bytes]:
    """The current key first, then the previous ones still accepted for matching."""
    current = current_app.config.get("PSEUDONYM_KEY")
    if not current:
        raise click.ClickException("SERVICEDESK_PSEUDONYM_KEY is not set")
    return [current, *current_app.config.get("PSEUDONYM_PREVIOUS_KEYS", [])]


def _counts(removed: Removed) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in asdict(removed).items())


@gdpr_cli.command("erase")
@click.option("--org", "slug", required=True)
@click.option("--caller", required=True, help="The person's phone number or e-mail address.")
def erase(slug: str, caller: str) -> None:
    """Remove one person's contacts, events, survey responses and raw deliveries."""
    keys = pseudonym_keys()
    with org_session(slug, write=True) as (session, org):
        removed = erasure.erase(session, org, caller, keys, actor=cli_actor())
    click.echo(f"erased from {slug}: {_counts(removed)}")


@gdpr_cli.command("purge")
@click.option("--org", "slug", default=None, help="Only this organisation (default: all).")
def purge(slug: str | None) -> None:
    """Apply every organisation's retention settings now (the scheduler does this daily)."""
    with unit_of_work(get_engine()) as session:
        if slug:
            done = {slug: retention_rules.purge(session, require_org(session, slug))}
        else:
            done = retention_rules.apply_retention(session)
    for name, removed in done.items():
        click.echo(f"{name or '(deliveries without organisation)'}: {_counts(removed)}")


@gdpr_cli.command("retention")
@click.option("--org", "slug", required=True)
@click.option("--raw-days", type=click.IntRange(min=1), default=None)
@click.option(
    "--contact-months",
    type=click.IntRange(min=retention_rules.MIN_CONTACT_MONTHS),
    default=None,
)
def retention(slug: str, raw_days: int | None, contact_months: int | None) -> None:
    """Show, or with options change, how long the organisation keeps personal data."""
    changing = raw_days is not None or contact_months is not None
    with org_session(slug, write=changing) as (session, org):
        if changing:
            retention_rules.set_policy(
                session, org, raw_days=raw_days, contact_months=contact_months, actor=cli_actor()
            )
        current = retention_rules.policy(session, org)
    click.echo(f"raw deliveries: {current.raw_days} days")
    click.echo(f"contact-level rows: {current.contact_months} months")


@gdpr_cli.command("keys")
@click.option("--org", "slug", default=None)
def keys(slug: str | None) -> None:
    """Rows per pseudonymisation key id: a previous key with none left can be retired."""
    configured = pseudonym_keys()
    names = {key_id(configured[0]): "current"} | {key_id(k): "previous" for k in configured[1:]}
    with Session(get_engine()) as session:
        org = require_org(session, slug) if slug else None
        usage = key_usage(session, org)
    for kid in sorted(set(names) | set(usage)):
        click.echo(f"{kid}  {names.get(kid, 'unknown'):8}  {usage.get(kid, 0)} rows")
