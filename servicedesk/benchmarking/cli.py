"""``servicedesk benchmark ...``: take part or withdraw, see a comparison, register hub members,
publish to the hub now."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import col

from servicedesk.benchmarking.comparison import compare
from servicedesk.benchmarking.document import comparison_json, shown_label
from servicedesk.benchmarking.figures import BY_KEY
from servicedesk.benchmarking.hub import HubError, add_participant, publications, register_member
from servicedesk.benchmarking.models import BenchmarkMember, BenchmarkParticipant
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.publish import Hub, dispatch, outbox
from servicedesk.benchmarking.sharing import SharingError, participant_of, share, withdraw
from servicedesk.db import get_engine, get_session, unit_of_work
from servicedesk.metrics.periods import Month
from servicedesk.orgs.cli import org_session
from servicedesk.secrets import require_keys
from servicedesk.timeutil import utcnow

benchmark_cli = AppGroup(
    "benchmark", help="Compare frozen monthly figures with other organisations."
)


@benchmark_cli.command("share")
@click.option("--org", "slug", required=True)
@click.option(
    "--figure",
    "figures",
    multiple=True,
    type=click.Choice(list(BY_KEY)),
    help="A figure to share (repeat); default: the KKiK and Servicemätning figures.",
)
@click.option("--anonymous/--named", default=False, help="Shown to the others as 'Kommun A'.")
@click.option("--group", default="", help="The municipality group, e.g. SKR's 'B5'.")
def share_cmd(slug: str, figures: tuple[str, ...], anonymous: bool, group: str) -> None:
    """Take part in the comparison (or change what is shared)."""
    with org_session(slug, write=True) as (session, org):
        try:
            row = share(session, org, figures=figures or None, anonymous=anonymous, group=group)
        except SharingError as exc:
            raise click.ClickException(str(exc)) from None
        shown = f"Kommun {row.alias}" if row.anonymous else row.name
        click.echo(f"{slug} shares {', '.join(row.figures)} as {shown}")


@benchmark_cli.command("withdraw")
@click.option("--org", "slug", required=True)
def withdraw_cmd(slug: str) -> None:
    """Stop taking part: the figures leave every comparison from now on."""
    with org_session(slug, write=True) as (session, org):
        row = withdraw(session, org)
    click.echo(f"{slug} {'withdrawn' if row is not None else 'was not taking part'}")


@benchmark_cli.command("show")
@click.option("--org", "slug", required=True)
@click.option("--period", "period_text", required=True, help="YYYY-MM, YYYY-Qn or YYYY.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def show_cmd(slug: str, period_text: str, fmt: str) -> None:
    """The comparison as the organisation sees it (it must take part)."""
    try:
        period = Period.parse(period_text)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with org_session(slug) as (session, org):
        me = participant_of(session, org)
        if me is None or not me.sharing:
            raise click.ClickException(
                f"--org: {slug} does not take part; `servicedesk benchmark share --org {slug}`"
            )
        result = compare(session, period, me.code)
    if fmt == "json":
        click.echo(json.dumps(comparison_json(result), indent=2, ensure_ascii=False))
        return
    click.echo(f"{period} - {result.participants} participants")
    for ranking in result.rankings:
        mine = ranking.place_of(me.code)
        if not ranking.ranked:
            where = f"not ranked: {ranking.reason} ({ranking.participants})"
        elif mine is None or mine.place is None:
            where = f"own figure not ranked: {mine.reason if mine else 'not shared'}"
        else:
            where = f"{mine.place} of {ranking.participants}"
        click.echo(f"  {ranking.key:<32}{where:<40}median {ranking.median}")
        for place in ranking.places:
            label = shown_label(place.entry.label)
            click.echo(f"      {place.place or '-':>3} {label:<30}{place.entry.value}")


@benchmark_cli.command("history")
@click.option("--month", "month_text", required=True, help="YYYY-MM")
def history_cmd(month_text: str) -> None:
    """Every version a hub received for the month: which one counts, which were replaced."""
    try:
        month = Month.parse(month_text)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    rows = publications(get_session(), month)
    if not rows:
        click.echo(f"no publications for {month}")
    newest: dict[str, int] = {}
    for pub, code in rows:
        newest[code] = max(newest.get(code, 0), pub.report_version)
    for pub, code in rows:
        state = "counts" if pub.report_version == newest[code] else f"replaced by v{newest[code]}"
        received = pub.received_at.strftime("%Y-%m-%d %H:%M")
        click.echo(f"{code}\tv{pub.report_version}\t{pub.report_sha256[:12]}\t{received}\t{state}")


member_cli = AppGroup("member", help="The members that publish to this installation as a hub.")
benchmark_cli.add_command(member_cli)


@member_cli.command("add")
@click.option("--key", required=True, help="The member's name in URLs, e.g. region-orebro.")
@click.option("--name", default="", help="Who it is.")
@click.option(
    "--participant", "participants", multiple=True, help="An organisation it publishes (repeat)."
)
def member_add(key: str, name: str, participants: tuple[str, ...]) -> None:
    """Register a member; the last line is its whsec_ signing secret (shown once)."""
    require_keys()
    with unit_of_work() as session:
        try:
            member, secret = register_member(
                session, key, name, secret_key=current_app.config["SECRET_KEY"]
            )
            for code in participants:
                add_participant(session, member, code)
        except HubError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"member {key}: {len(participants)} participant(s)")
    click.echo(secret)


@member_cli.command("participant")
@click.option("--key", required=True)
@click.option("--participant", "code", required=True)
@click.option("--group", default="")
def member_participant(key: str, code: str, group: str) -> None:
    """Allow a member to publish one more organisation."""
    with unit_of_work() as session:
        member = session.scalars(
            sa.select(BenchmarkMember).where(col(BenchmarkMember.key) == key)
        ).first()
        if member is None:
            raise click.ClickException(f"--key: no member {key}")
        try:
            add_participant(session, member, code, group=group)
        except HubError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{key} may publish {code}")


@member_cli.command("list")
def member_list() -> None:
    """The members, their participants and whether each shares now."""
    session = get_session()
    for member in session.scalars(sa.select(BenchmarkMember).order_by(col(BenchmarkMember.key))):
        state = "revoked" if member.revoked_at else "active"
        click.echo(f"{member.key}\t{state}\t{member.name}")
        for p in session.scalars(
            sa.select(BenchmarkParticipant)
            .where(col(BenchmarkParticipant.member_id) == member.id)
            .order_by(col(BenchmarkParticipant.code))
        ):
            click.echo(f"  {p.code}\t{'sharing' if p.sharing else 'not sharing'}\t{p.name}")


@member_cli.command("revoke")
@click.option("--key", required=True)
def member_revoke(key: str) -> None:
    """Refuse the member's messages from now on and leave its figures out of comparisons."""
    with unit_of_work() as session:
        member = session.scalars(
            sa.select(BenchmarkMember).where(col(BenchmarkMember.key) == key)
        ).first()
        if member is None:
            raise click.ClickException(f"--key: no member {key}")
        member.revoked_at = member.revoked_at or utcnow()
    click.echo(f"revoked {key}")


@benchmark_cli.command("publish")
def publish_cmd() -> None:
    """Queue and send due publications to the hub now (the scheduler does this every 10 min)."""
    hub = Hub.from_config(current_app.config)
    if hub is None:
        raise click.ClickException("no hub: set SERVICEDESK_BENCHMARK_HUB_URL, _MEMBER and _SECRET")
    counts = dispatch(get_engine(), hub)
    click.echo(" ".join(f"{k} {v}" for k, v in counts.items()))


@benchmark_cli.command("log")
@click.option("--org", "slug", required=True)
@click.option("--limit", default=20, show_default=True, type=int)
def log_cmd(slug: str, limit: int) -> None:
    """The latest messages to the hub: what, status, attempts, last answer."""
    with org_session(slug) as (session, org):
        for row in outbox(session, org, limit):
            what = f"{row.month} v{row.report_version}" if row.month else "withdrawal"
            answer = row.last_status if row.last_status is not None else (row.last_error or "-")
            click.echo(f"{what}\t{row.status}\tattempts {row.attempts}\tlast {answer}")
