"""``servicedesk demo``: a demo organisation filled through the real ingest path."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import col

from servicedesk.auth.operations import UserError
from servicedesk.benchmarking.sharing import share
from servicedesk.calendars.service import add_closed_day
from servicedesk.dashboard.targets import set_targets
from servicedesk.db import get_engine, unit_of_work
from servicedesk.demo.neighbours import NEIGHBOURS
from servicedesk.demo.people import create_demo_users, freeze_past_months
from servicedesk.demo.traffic import DemoShape, demo_closed_day, demo_events
from servicedesk.ingest.schemas import MAX_BATCH, parse_events
from servicedesk.ingest.service import RawDelivery, ingest_events
from servicedesk.notify.operations import add_endpoint
from servicedesk.orgs.models import Organisation
from servicedesk.orgs.operations import OrganisationError, create_organisation, get_organisation
from servicedesk.secrets import require_keys
from servicedesk.timeutil import local_date, utcnow

#: The demo users' password outside production: it is demo data, and the README names it.
DEMO_PASSWORD = "demo-servicedesk"
#: The demo's own targets (a newcomer sees figures judged against goals, not grey cards).
DEMO_TARGETS: dict[str, float | None] = {
    "phone.service_level": 80.0,
    "phone.direct_answer_rate": 60.0,
    "phone.abandon_rate": 8.0,
    "phone.wait_seconds.median": 60.0,
    "email.within_1_working_day": 80.0,
    "email.within_2_working_days": 95.0,
    "email.median_working_hours": 20.0,
    "survey_headline.phone_ease.index": 75.0,
    "survey_headline.phone_treatment.index": 80.0,
    "survey_headline.email_ease.index": 70.0,
    "survey_headline.email_clarity.index": 75.0,
}
#: Who gets the demo's monthly report by e-mail (Settings → Report by e-mail).
DEMO_REPORT_RECIPIENT = "kvalitet@demo.se"

#: What the demo's closed day is called.
CLOSED_REASON = {"SE": "Personaldag", "NO": "Personaldag"}


@click.command("demo")
@click.option("--slug", default="demo", show_default=True)
@click.option("--name", default="Demo kommun", show_default=True)
@click.option("--country", default="SE", type=click.Choice(["SE", "NO"]), show_default=True)
@click.option("--days", default=400, show_default=True, type=click.IntRange(1, 3660))
@click.option("--calls-per-day", default=160, show_default=True, type=click.IntRange(1, 100000))
@click.option("--emails-per-day", default=45, show_default=True, type=click.IntRange(0, 100000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when any organisation exists.")
@click.option(
    "--neighbours",
    default=5,
    show_default=True,
    type=click.IntRange(0, 5),
    help="Made-up neighbouring municipalities that share their figures with the demo.",
)
@click.option(
    "--password",
    default=None,
    help="The demo users' password (default outside production: demo-servicedesk).",
)
@with_appcontext
def demo_cli(
    slug: str,
    name: str,
    country: str,
    days: int,
    calls_per_day: int,
    emails_per_day: int,
    seed: int,
    if_empty: bool,
    neighbours: int,
    password: str | None,
) -> None:
    """Create a demo organisation with a year of events, sent through the ingest path."""
    require_keys()
    engine = get_engine()
    with unit_of_work(engine) as session:
        if (
            if_empty
            and session.scalars(sa.select(col(Organisation.id)).limit(1)).first() is not None
        ):
            click.echo("organisations exist already; no demo data loaded")
            return
        if get_organisation(session, slug) is not None:
            raise click.ClickException(f"--slug: organisation {slug!r} exists already")
        try:
            org = create_organisation(session, slug=slug, name=name, country=country)
        except OrganisationError as exc:
            raise click.ClickException(str(exc)) from None
    shape = DemoShape(calls_per_day=calls_per_day, emails_per_day=emails_per_day)
    today = local_date(utcnow(), org.timezone)
    closed = demo_closed_day(today, org.country)
    with unit_of_work(engine) as session:
        own = session.merge(org)
        set_targets(session, own, DEMO_TARGETS)
        if closed is not None:
            add_closed_day(session, own, closed, CLOSED_REASON.get(org.country, "Staff day"))
    closed_days = frozenset({closed}) if closed else frozenset()
    total = _load(engine, org, shape, days, seed, closed_days)
    click.echo(f"demo organisation {slug}: {total} events")
    if password is None:
        production = current_app.config.get("ENV_NAME") == "production"
        password = secrets.token_urlsafe(12) if production else DEMO_PASSWORD
    with unit_of_work(engine) as session:
        try:
            users = create_demo_users(session, org, password)
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
    now = utcnow()
    first_day = today - timedelta(days=days - 1)
    months = freeze_past_months(engine, org, first_day, now)
    if months:
        click.echo(f"frozen reports: {months[0]} to {months[-1]}")
    with unit_of_work(engine) as session:
        # A recipient of the report by e-mail, added after the demo's months were frozen, so
        # only months frozen from now on are sent (and only when a mail server is set up).
        add_endpoint(
            session,
            session.merge(org),
            "email",
            DEMO_REPORT_RECIPIENT,
            secret_key=current_app.config["SECRET_KEY"],
        )
    if neighbours:
        scale = calls_per_day / DemoShape.calls_per_day
        _neighbours(engine, org, neighbours, days, seed, scale)
    click.echo(f"sign in with password {password!r} as:")
    for line in users:
        click.echo(f"  {line}")


def _load(
    engine: Any,
    org: Organisation,
    shape: DemoShape,
    days: int,
    seed: int,
    closed: frozenset[Any],
) -> int:
    """The organisation's events of ``days`` days, sent through the ingest path in batches."""
    stream = demo_events(
        country=org.country,
        timezone=org.timezone,
        days=days,
        now=utcnow(),
        seed=seed,
        shape=shape,
        closed=closed,
    )
    total = 0
    key = current_app.config["PSEUDONYM_KEY"]
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal total
        body = json.dumps({"events": batch}).encode()
        events, errors = parse_events({"events": batch})
        if errors:
            raise click.ClickException(f"demo generator made an invalid event: {errors[0]}")
        with unit_of_work(engine) as session:
            ingest_events(
                session,
                org,
                events,
                RawDelivery(source="demo", body=body, content_type="application/json"),
                pseudonym_key=key,
            )
        total += len(batch)
        batch.clear()

    last_month = None
    for event in stream:
        month = event["contact_id"].split("-")[1][:6]
        if month != last_month:
            click.echo(f"demo {org.slug}: {month[:4]}-{month[4:]}", err=True)
            last_month = month
        batch.append(event)
        if len(batch) >= MAX_BATCH:
            flush()
    if batch:
        flush()
    return total


def _neighbours(
    engine: Any,
    org: Organisation,
    count: int,
    days: int,
    seed: int,
    scale: float,
) -> None:
    """Made-up neighbours with their own events and frozen reports, all sharing their figures
    with the demo organisation (which shares its own); their volumes scaled as the demo's."""
    with unit_of_work(engine) as session:
        demo = session.get(Organisation, org.id)
        assert demo is not None
        share(session, demo, group="B5" if demo.country == "SE" else "")
    for n, neighbour in enumerate(NEIGHBOURS[org.country][:count], start=1):
        with unit_of_work(engine) as session:
            if get_organisation(session, neighbour.slug) is not None:
                click.echo(f"demo: {neighbour.slug} exists already, left as it is", err=True)
                continue
            other = create_organisation(
                session, slug=neighbour.slug, name=neighbour.name, country=org.country
            )
        shape = replace(
            neighbour.shape,
            calls_per_day=max(1, round(neighbour.shape.calls_per_day * scale)),
            emails_per_day=max(1, round(neighbour.shape.emails_per_day * scale)),
        )
        # (no closed day of their own: their calendars are the national ones)
        events = _load(engine, other, shape, days, seed + n, frozenset())
        now = utcnow()
        first_day = local_date(now, other.timezone) - timedelta(days=days - 1)
        freeze_past_months(engine, other, first_day, now)
        with unit_of_work(engine) as session:
            row = session.get(Organisation, other.id)
            assert row is not None
            share(session, row, anonymous=neighbour.anonymous, group=neighbour.group)
        click.echo(f"neighbour {neighbour.slug}: {events} events, sharing its figures")
