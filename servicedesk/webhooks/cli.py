"""``servicedesk integration ...`` and ``servicedesk asterisk ...``"""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import col

from integrations import PROVIDERS
from integrations.asterisk import QueueLogReader
from integrations.events_api import EventsApiSender, SendError
from integrations.queue_log_follow import MAX_EVENTS, QueueLogFollower, events_of
from servicedesk.db import unit_of_work
from servicedesk.ingest.models import Delivery
from servicedesk.ingest.schemas import parse_events
from servicedesk.ingest.service import RawDelivery, ingest_events
from servicedesk.orgs.cli import org_session
from servicedesk.secrets import require_keys
from servicedesk.timeutil import utcnow
from servicedesk.webhooks.operations import (
    IntegrationError,
    add_integration,
    list_integrations,
    remove_integration,
    webhook_path,
)

integration_cli = AppGroup("integration", help="Telephony and e-mail providers' webhooks.")
asterisk_cli = AppGroup("asterisk", help="Asterisk queue_log: follow a live log, import history.")


def _options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.ClickException(f"--option: {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


@integration_cli.command("add")
@click.option("--org", "slug", required=True)
@click.option("--provider", required=True, type=click.Choice(sorted(PROVIDERS)))
@click.option(
    "--secret",
    default=None,
    help="; ".join(f"{n}: {a.secret_help}" for n, a in sorted(PROVIDERS.items()) if a.secret_help),
)
@click.option("--queue", default=None, help="The queue every event of this integration is in.")
@click.option("--desk-address", multiple=True, help="E-mail: the service desk's own address.")
@click.option("--desk-domain", multiple=True, help="E-mail: every address here is the desk's.")
@click.option("--allow-from", multiple=True, help="46elks: an address or network it calls from.")
@click.option("--option", "pairs", multiple=True, help="Any other option, KEY=JSON value.")
def add(
    slug: str,
    provider: str,
    secret: str | None,
    queue: str | None,
    desk_address: tuple[str, ...],
    desk_domain: tuple[str, ...],
    allow_from: tuple[str, ...],
    pairs: tuple[str, ...],
) -> None:
    """Connect a provider; the last line printed is the webhook URL path."""
    require_keys()
    options = _options(pairs)
    if queue:
        options["queue"] = queue
    for key, values in (
        ("desk_addresses", desk_address),
        ("desk_domains", desk_domain),
        ("allow_from", allow_from),
    ):
        if values:
            options[key] = [v.lower() for v in values] if key != "allow_from" else list(values)
    if PROVIDERS[provider].channel == "email" and not (
        options.get("desk_addresses") or options.get("desk_domains")
    ):
        raise click.ClickException(
            "--desk-address or --desk-domain: needed to tell the desk's replies from citizens'"
        )
    with org_session(slug, write=True) as (session, org):
        try:
            row, token, generated = add_integration(
                session,
                org,
                provider,
                secret=secret,
                options=options,
                secret_key=current_app.config["SECRET_KEY"],
            )
        except IntegrationError as exc:
            raise click.ClickException(str(exc)) from None
    path = webhook_path(provider, token)
    click.echo(f"{provider} connected to {slug}; the URL is shown only now", err=True)
    click.echo(PROVIDERS[provider].endpoints.format(path=path))
    if generated:
        click.echo(f"basic auth user:password: {generated}")
    click.echo(path)


@integration_cli.command("list")
@click.option("--org", "slug", required=True)
def list_(slug: str) -> None:
    """The organisation's integrations, with their deliveries of the last 24 hours."""
    with org_session(slug) as (session, org):
        since = utcnow() - timedelta(days=1)
        for row in list_integrations(session, org):
            counts = dict(
                session.execute(
                    sa.select(col(Delivery.status), sa.func.count())
                    .where(
                        col(Delivery.organisation_id) == org.id,
                        col(Delivery.source) == row.provider,
                        col(Delivery.received_at) >= since,
                    )
                    .group_by(col(Delivery.status))
                ).all()
            )
            options = json.dumps(row.options, sort_keys=True) if row.options else "-"
            click.echo(
                f"{row.provider}\t/hooks/{row.provider}/{row.token_prefix}...\t"
                f"accepted 24h: {counts.get('accepted', 0)}\t"
                f"rejected 24h: {counts.get('rejected', 0)}\t{options}"
            )


@integration_cli.command("remove")
@click.option("--org", "slug", required=True)
@click.option("--provider", required=True, type=click.Choice(sorted(PROVIDERS)))
def remove(slug: str, provider: str) -> None:
    """Disconnect a provider: its URL stops working within 10 s in every worker."""
    with org_session(slug, write=True) as (session, org):
        if not remove_integration(session, org, provider):
            raise click.ClickException(f"--provider: {slug} has no {provider} integration")
    click.echo(f"removed {provider} from {slug}")


@asterisk_cli.command("follow")
@click.option("--org", "slug", required=True, help="The organisation the token belongs to.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="Base URL (default SERVICEDESK_PUBLIC_URL).")
@click.option(
    "--token",
    envvar="SERVICEDESK_INGEST_TOKEN",
    required=True,
    help="Ingest token (or SERVICEDESK_INGEST_TOKEN).",
)
@click.option(
    "--signing-secret",
    envvar="SERVICEDESK_SIGNING_SECRET",
    default=None,
    help="The token's whsec_ secret (or SERVICEDESK_SIGNING_SECRET).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the read position is kept.",
)
@click.option("--from-end", is_flag=True, help="On the first run, skip what the file has now.")
@click.option("--interval", default=1.0, show_default=True, type=float)
@click.option("--once", is_flag=True, help="Send what is there now and stop.")
def follow(
    slug: str,
    file: Path,
    url: str | None,
    token: str,
    signing_secret: str | None,
    state_path: Path | None,
    from_end: bool,
    interval: float,
    once: bool,
) -> None:
    """Follow a live queue_log and post its events, signed, surviving rotation and restarts."""
    base = url or current_app.config.get("PUBLIC_URL")
    if not base:
        raise click.ClickException("--url: give servicedesk's URL (or set SERVICEDESK_PUBLIC_URL)")
    if state_path is None:
        state_path = Path(current_app.instance_path) / f"asterisk-{slug}.position.json"
    state_path.parent.mkdir(parents=True, exist_ok=True)

    def warn(message: str) -> None:
        click.echo(message, err=True)

    sender = EventsApiSender(base, token, signing_secret, warn=warn)
    follower = QueueLogFollower(file, state_path, sender, from_end=from_end, warn=warn)
    stopping = False

    def _stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        if once:
            click.echo(f"read {follower.step()} lines")
            return
        click.echo(f"following {file} for {slug}", err=True)
        follower.run(interval=interval, stop=lambda: stopping)
    except SendError as exc:
        raise click.ClickException(f"the server refused a batch: {exc}") from None
    finally:
        follower.close()
        sender.close()


@asterisk_cli.command("import")
@click.option("--org", "slug", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(slug: str, file: Path) -> None:
    """Backfill a historical queue_log into the database (again is harmless: duplicates)."""
    require_keys()
    accepted = duplicates = lines_read = 0
    skipped: list[str] = []
    reader = QueueLogReader()  # the calls still open, across chunks (a QUEUESTART ends them)
    with org_session(slug) as (session, org):
        org_id = org.id
        with (
            open(file, "rb") as fh,
            click.progressbar(
                length=file.stat().st_size, label=f"importing {file.name}", file=None
            ) as bar,
        ):
            while True:
                chunk = [fh.readline() for _ in range(MAX_EVENTS)]
                chunk = [line for line in chunk if line]
                if not chunk:
                    break
                bar.update(sum(len(line) for line in chunk))
                lines_read += len(chunk)
                texts = [line.decode("utf-8", errors="replace") for line in chunk]
                found = events_of(texts, skipped.append, reader)
                if not found:
                    continue
                events, errors = parse_events({"events": found})
                if errors:
                    raise click.ClickException(f"{file}: {errors[0].message}")
                with unit_of_work(session):
                    result = ingest_events(
                        session,
                        org,
                        events,
                        RawDelivery(
                            source="asterisk", body=b"".join(chunk), content_type="text/plain"
                        ),
                        pseudonym_key=current_app.config["PSEUDONYM_KEY"],
                    )
                accepted += result.accepted
                duplicates += result.duplicates
    for message in skipped[:20]:
        click.echo(message, err=True)
    click.echo(
        f"{file}: {lines_read} lines, {accepted} events imported, {duplicates} duplicates, "
        f"{len(skipped)} lines skipped (organisation {slug}, id {org_id})"
    )
