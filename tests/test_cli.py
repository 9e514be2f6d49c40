"""The command line (docs/api.md, README): output and one-line errors with a non-zero exit."""

from __future__ import annotations

import sqlalchemy as sa

from servicedesk.auth.models import User
from servicedesk.auth.operations import authenticate
from servicedesk.contacts.models import Contact
from servicedesk.dashboard.targets import org_targets
from servicedesk.ingest.models import Event, IngestToken
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import ClosedDay, Organisation
from servicedesk.reports.models import Report
from servicedesk.timeutil import local_date, utcnow
from tests.helpers import event, post


def test_org_create_defaults_timezone_by_country(runner, db):
    result = runner.invoke(
        args=["org", "create", "--slug", "bergen", "--name", "Bergen kommune", "--country", "NO"]
    )
    assert result.exit_code == 0, result.output
    org = db.scalars(sa.select(Organisation)).one()
    assert (org.timezone, org.country, org.service_level_seconds) == ("Europe/Oslo", "NO", 60)


def test_org_create_with_options(runner, db):
    result = runner.invoke(
        args=[
            "org",
            "create",
            "--slug",
            "kumla",
            "--name",
            "Kumla kommun",
            "--country",
            "se",
            "--timezone",
            "Europe/Stockholm",
            "--service-level-seconds",
            "90",
        ]
    )
    assert result.exit_code == 0, result.output
    assert db.scalars(sa.select(Organisation)).one().service_level_seconds == 90


def test_org_create_errors_are_one_line(runner, org):
    cases = [
        (["--slug", "kumla", "--name", "X", "--country", "SE"], "exists already"),
        (["--slug", "Bad Slug", "--name", "X", "--country", "SE"], "slug"),
        (
            ["--slug", "x", "--name", "X", "--country", "SE", "--timezone", "Mars/Olympus"],
            "timezone",
        ),
        (["--slug", "x", "--name", "X", "--country", "DK"], "country"),
    ]
    for args, needle in cases:
        result = runner.invoke(args=["org", "create", *args])
        assert result.exit_code != 0
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert needle in lines[-1]
        assert "Traceback" not in result.output


def test_token_create_prints_token_last_and_it_works(runner, org, client, db):
    result = runner.invoke(args=["token", "create", "--org", "kumla"])
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("sdk_")
    assert post(client, token, event()).status_code == 202
    stored = db.scalars(sa.select(IngestToken)).one()
    assert token not in repr(stored.model_dump())


def test_token_create_signing_prints_secret(runner, org):
    result = runner.invoke(args=["token", "create", "--org", "kumla", "--signing"])
    lines = result.stdout.strip().splitlines()
    assert lines[-2].startswith("sdk_") and lines[-1].startswith("whsec_")


def test_token_for_unknown_org(runner):
    result = runner.invoke(args=["token", "create", "--org", "nowhere"])
    assert result.exit_code != 0
    assert "no organisation 'nowhere'" in result.output


def test_demo_fills_an_organisation_through_ingest(runner, db):
    result = runner.invoke(
        args=["demo", "--days", "40", "--calls-per-day", "15", "--neighbours", "0"]
    )
    assert result.exit_code == 0, result.output
    org = db.scalars(sa.select(Organisation)).one()
    assert org.slug == "demo"
    events = db.scalar(sa.select(sa.func.count()).select_from(Event))
    phone = db.scalar(sa.select(sa.func.count()).where(Contact.channel == "phone"))
    email = db.scalar(sa.select(sa.func.count()).where(Contact.channel == "email"))
    assert events > 200 and phone > 50 and email > 20
    answered = db.scalar(
        sa.select(sa.func.count()).where(
            Contact.answered_at.is_not(None), Contact.channel == "phone"
        )
    )
    assert 0.6 < answered / phone < 0.99, "some callers give up, most are answered"
    # Every kind of user can sign in with the demo password, and the complete months are frozen.
    roles = dict(db.execute(sa.select(User.email, User.role)).all())
    assert roles == {
        "admin@demo.se": "admin",
        "kvalitet@demo.se": "quality",
        "teamledare@demo.se": "team_leader",
        "bygglov@demo.se": "team_leader",
    }
    assert authenticate(db, "kvalitet@demo.se", "demo-servicedesk") is not None
    assert "demo-servicedesk" in result.output
    first = min(db.scalars(sa.select(Contact.start_date)))
    months = sorted(db.scalars(sa.select(Report.month)))
    expected = []
    month = Month.of(first)
    while month < Month.of(local_date(utcnow(), "Europe/Stockholm")):
        expected.append(str(month))
        month = month.next()
    assert months == expected
    # A newcomer sees targets, a closed day in a frozen month, and a queue with few answers.
    assert len(org_targets(db, org)) == 11
    (closed,) = db.scalars(sa.select(ClosedDay)).all()
    assert closed.day.weekday() == 4 and closed.reason == "Personaldag"
    assert not db.scalar(
        sa.select(sa.func.count()).where(
            Contact.channel == "phone", Contact.start_date == closed.day
        )
    ), "no calls on the closed day"
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "no demo data" in again.output


def test_db_upgrade_is_idempotent(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_commands_on_an_unmigrated_database_fail_in_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from servicedesk.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite'}")
    monkeypatch.setenv("SERVICEDESK_ENV", "development")
    from servicedesk.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["org", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: database: no such table: organisations (has `servicedesk db upgrade` been run?)"
    ]
