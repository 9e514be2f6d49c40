"""The scheduler: the due time per organisation, catch-up, and two schedulers racing."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from servicedesk.db import make_engine
from servicedesk.jobs import build_scheduler
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report
from servicedesk.reports.scheduler import due_at, run_due_reports
from tests.helpers import ingest
from tests.metrics.test_queries import call, mail


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("country", "month", "closed", "expected"),
    [
        ("SE", Month(2026, 6), [], utc(2026, 7, 3, 4)),  # Wed 1, Thu 2, Fri 3; 06:00 CEST
        # Fri 1 Jan and Wed 6 Jan (Epiphany) are holidays: Mon 4, Tue 5, Thu 7; 06:00 CET
        ("SE", Month(2026, 12), [], utc(2027, 1, 7, 5)),
        ("NO", Month(2026, 12), [], utc(2027, 1, 6, 5)),  # Mon 4, Tue 5, Wed 6
        ("SE", Month(2026, 4), [], utc(2026, 5, 6, 4)),  # Fri 1 May is a holiday
        ("SE", Month(2026, 2), [], utc(2026, 3, 4, 5)),  # Mon 2, Tue 3, Wed 4 (still CET)
        ("SE", Month(2026, 2), [date(2026, 3, 3)], utc(2026, 3, 5, 5)),  # a closed day
        ("NO", Month(2026, 9), [], utc(2026, 10, 5, 4)),  # Thu 1, Fri 2, Mon 5
    ],
)
def test_due_at(country, month, closed, expected) -> None:
    org = Organisation(
        slug="x",
        name="X",
        country=country,
        timezone={"SE": "Europe/Stockholm", "NO": "Europe/Oslo"}[country],
    )
    assert due_at(org, month, closed) == expected


def _reports(db) -> list[tuple[str, str, int]]:
    db.rollback()  # a fresh snapshot: what the schedulers have committed since
    rows = db.execute(
        sa.select(Organisation.slug, Report.month, Report.version)
        .join(Organisation, Organisation.id == Report.organisation_id)
        .order_by(Organisation.slug, Report.month, Report.version)
    )
    return [tuple(r) for r in rows]


def test_each_organisation_at_its_own_due_hour(app, db, make_org) -> None:
    engine = app.extensions["servicedesk.engine"]
    se, no = make_org(slug="kumla", country="SE"), make_org(slug="bergen", country="NO")
    for org in (se, no):
        ingest(db, org, *call("d", "2026-12-10T10:00:00+01:00", "2026-12-10T10:00:30+01:00"))
    db.commit()
    with time_machine.travel(utc(2027, 1, 6, 4, 59, 59), tick=False):
        assert [o for o in run_due_reports(engine) if o.month == "2026-12"] == []
    with time_machine.travel(utc(2027, 1, 6, 5, 0), tick=False):
        run_due_reports(engine)
    assert ("bergen", "2026-12", 1) in _reports(db)
    assert ("kumla", "2026-12", 1) not in _reports(db)
    with time_machine.travel(utc(2027, 1, 7, 5, 0), tick=False):
        made = [(o.organisation, o.month) for o in run_due_reports(engine) if o.made]
    assert made == [("kumla", "2026-12")]
    report = db.execute(sa.select(Report).where(Report.month == "2026-12")).scalars().first()
    assert report.trigger == "scheduler"


def test_catch_up_after_downtime_and_recheck_at_next_run(app, db, org) -> None:
    engine = app.extensions["servicedesk.engine"]
    for n, month in enumerate((6, 7, 8, 9)):
        ingest(db, org, *mail(f"m{n}", f"2026-{month:02d}-10T10:00:00+02:00"))
    db.commit()
    # Down from June until 20 October: every due month is made at start, oldest first.
    with time_machine.travel(utc(2026, 10, 20, 12, 0), tick=False):
        outcomes = run_due_reports(engine)
    assert [(o.month, o.version, o.made) for o in outcomes] == [
        ("2026-06", 1, True),
        ("2026-07", 1, True),
        ("2026-08", 1, True),
        ("2026-09", 1, True),
    ]
    with time_machine.travel(utc(2026, 10, 21, 12, 0), tick=False):
        assert run_due_reports(engine) == []
    # A late e-mail for July; the next monthly run (October's, Wed 4 Nov 06:00) makes July v2.
    ingest(db, org, *mail("late", "2026-07-20T10:00:00+02:00"))
    db.commit()
    with time_machine.travel(utc(2026, 11, 4, 5, 0), tick=False):
        outcomes = run_due_reports(engine)
    made = [(o.month, o.version) for o in outcomes if o.made]
    assert made == [("2026-07", 2), ("2026-10", 1)]
    assert ("kumla", "2026-07", 1) in _reports(db)


def test_two_schedulers_racing_make_each_report_once(app, db, org, database_url) -> None:
    for month in (6, 7, 8):
        ingest(db, org, *call(f"c{month}", f"2026-{month:02d}-10T10:00:00+02:00"))
    db.commit()
    engines = [make_engine(database_url), make_engine(database_url)]
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def scheduler(engine) -> None:
        try:
            barrier.wait()
            results.append(run_due_reports(engine, now=utc(2026, 10, 20, 12)))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert _reports(db) == [
        ("kumla", "2026-06", 1),
        ("kumla", "2026-07", 1),
        ("kumla", "2026-08", 1),
        ("kumla", "2026-09", 1),  # due on 5 October; empty, but a report all the same
    ]
    made = [o for run in results for o in run if o.made]
    assert sorted(o.month for o in made) == ["2026-06", "2026-07", "2026-08", "2026-09"]


def test_scheduler_process_catches_up_at_start(app, db, org) -> None:
    ingest(db, org, *call("c", "2026-06-10T10:00:00+02:00"))
    db.commit()
    scheduler = build_scheduler(app, background=True)
    job = scheduler.get_job("monthly-reports")
    # On the hour, every hour: 04:00 UTC is 06:00 in Stockholm in summer.
    assert job.trigger.get_next_fire_time(None, utc(2026, 7, 3, 3, 30)) == utc(2026, 7, 3, 4)
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while ("kumla", "2026-06", 1) not in _reports(db) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert ("kumla", "2026-06", 1) in _reports(db)


def test_scheduler_once_command(runner, db, org) -> None:
    ingest(db, org, *call("c", "2026-06-10T10:00:00+02:00"))
    db.commit()
    with time_machine.travel(utc(2026, 7, 3, 4, 0), tick=False):
        result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert "kumla 2026-06: made version 1" in result.output
