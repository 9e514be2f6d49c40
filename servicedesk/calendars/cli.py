"""``servicedesk calendar ...``: an organisation's closed days, and which days work and why.

The same domain functions as the admin's Settings page, so a closed day added here counts in
the metrics exactly as one added there (docs/metrics.md, "Working days").
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from servicedesk.calendars.rules import day_kind
from servicedesk.calendars.service import (
    FIRST_DAY,
    LAST_DAY,
    add_closed_day,
    calendar_days,
    closed_days,
    remove_closed_day,
)
from servicedesk.metrics.periods import Month
from servicedesk.orgs.cli import org_session

calendar_cli = AppGroup("calendar", help="Working days: national holidays and closed days.")
closed_day_cli = AppGroup("closed-day", help="The organisation's own closed days.")
calendar_cli.add_command(closed_day_cli)

#: Weekday names that do not depend on the machine's locale (the output is for scripts too).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _day(text: str) -> date:
    """A date of the calendar's span, or a one-line error naming --date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise click.ClickException(f"--date: expected YYYY-MM-DD, got {text!r}") from None
    if len(text) != 10 or not FIRST_DAY <= day <= LAST_DAY:
        raise click.ClickException(
            f"--date: expected YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}, got {text!r}"
        )
    return day


def _month(text: str) -> Month:
    try:
        month = Month.parse(text)
    except ValueError as exc:
        raise click.ClickException(f"--{exc}") from None
    if not FIRST_DAY <= month.first <= LAST_DAY:
        raise click.ClickException(f"--month: the calendar covers {FIRST_DAY} to {LAST_DAY}")
    return month


@closed_day_cli.command("add")
@click.option("--org", "slug", required=True)
@click.option("--date", "day_text", required=True, help="YYYY-MM-DD")
@click.option("--note", default="", help='Why, e.g. "klämdag".')
def add(slug: str, day_text: str, note: str) -> None:
    """Close the organisation on a date (again: the note is replaced)."""
    day = _day(day_text)
    if len(note.strip()) > 200:
        raise click.ClickException("--note: at most 200 characters")
    with org_session(slug, write=True) as (session, org):
        working, kind = day_kind(org.country, day)
        add_closed_day(session, org, day, note.strip())
    if not working:
        click.echo(f"note: {day} is not a working day anyway ({kind})", err=True)
    click.echo(f"closed {day} for {slug}")


@closed_day_cli.command("remove")
@click.option("--org", "slug", required=True)
@click.option("--date", "day_text", required=True, help="YYYY-MM-DD")
def remove(slug: str, day_text: str) -> None:
    """Open a closed day again."""
    day = _day(day_text)
    with org_session(slug, write=True) as (session, org):
        if not remove_closed_day(session, org, day):
            raise click.ClickException(f"--date: {day} is not a closed day of {slug}")
    click.echo(f"opened {day} for {slug}")


@closed_day_cli.command("list")
@click.option("--org", "slug", required=True)
@click.option("--year", type=int, default=None, help="Only this year.")
def list_(slug: str, year: int | None) -> None:
    """The closed days, oldest first: date, weekday, note (tab-separated)."""
    with org_session(slug) as (session, org):
        for row in closed_days(session, org, year):
            click.echo(f"{row.day}\t{WEEKDAYS[row.day.weekday()]}\t{row.reason}")


@calendar_cli.command("show")
@click.option("--org", "slug", required=True)
@click.option("--month", required=True, help="YYYY-MM")
def show(slug: str, month: str) -> None:
    """Every day of the month: date, weekday, working or not, and why (tab-separated).

    Why: weekday, weekend, the national holiday's name, or "closed" with the closed day's note.
    The last line counts the working days.
    """
    m = _month(month)
    with org_session(slug) as (session, org):
        rows = calendar_days(session, org, m.first, m.last)
        notes = {c.day: c.reason for c in closed_days(session, org, m.year)}
    for row in rows:
        state = "working" if row.is_working else "not working"
        why = row.kind
        if why == "closed" and notes.get(row.day):
            why = f"closed: {notes[row.day]}"
        click.echo(f"{row.day}\t{WEEKDAYS[row.day.weekday()]}\t{state}\t{why}")
    working = sum(row.is_working for row in rows)
    click.echo(f"{slug} {m}: {working} working days")
