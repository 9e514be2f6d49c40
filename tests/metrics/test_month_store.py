"""The closed months' stored aggregates (servicedesk/metrics/month_store.py): a period read
from them has exactly the figures computed from its contacts, and no way of changing a closed
month's contacts or the figures' settings leaves a stale aggregate behind. Both engines."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from servicedesk.calendars.service import add_closed_day
from servicedesk.dashboard.periodpage import _distributions
from servicedesk.gdpr.erasure import erase
from servicedesk.gdpr.retention import purge, set_policy
from servicedesk.metrics.models import MA
from servicedesk.metrics.month_store import (
    _store,
    build_missing,
    compute_month,
    decode,
    encode,
    fingerprint,
    months_data,
)
from servicedesk.metrics.period_figures import compared, daily_counts, period_figures
from servicedesk.metrics.periods import Month, Period
from servicedesk.metrics.stored_periods import period_parts, split
from servicedesk.orgs.operations import update_organisation
from servicedesk.reports.scheduler import run_due_reports
from servicedesk.reports.service import generate_report
from tests.conftest import PSEUDONYM_KEY
from tests.helpers import event, ingest
from tests.metrics.test_queries import grade, mail

TZ = ZoneInfo("Europe/Stockholm")
#: The clock of these tests: June 2026 is the running month, January to May are closed.
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=TZ)
TODAY = NOW.date()
QUEUES = ["Bygglov", "Skola", "Parkering"]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: date, seconds: float) -> str:
    """Local ISO time ``seconds`` after midnight of ``day`` (the zone's offset on that instant)."""
    start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    return datetime.fromtimestamp(start.timestamp() + seconds, TZ).isoformat()


def a_call(rng: random.Random, cid: str, day: date, caller: str | None = None) -> list:
    """A call on ``day``: abandoned, answered and ended, or answered and never ended; waits in
    whole seconds (ties) or with fractions, at any time of day (both edges of midnight)."""
    queued = rng.uniform(0, 86_399)
    extra = {"caller": caller} if caller else {}
    queue = rng.choice([*QUEUES, None])
    q = {"queue": queue} if queue else {}
    events = [event("call.queued", cid, at(day, queued), **q, **extra)]
    kind = rng.random()
    wait = rng.choice([rng.randint(0, 200), round(rng.uniform(0, 300), 3)])
    if kind < 0.2:
        events.append(event("call.ended", cid, at(day, queued + wait)))
        return events
    events.append(
        event("call.answered", cid, at(day, queued + wait), agent=f"a{rng.randint(1, 4)}")
    )
    if kind < 0.95:
        talk = rng.choice([rng.randint(10, 600), round(rng.uniform(5, 900), 2)])
        direct = {"direct_answer": rng.random() < 0.6} if rng.random() < 0.8 else {}
        events.append(event("call.ended", cid, at(day, queued + wait + talk), **direct))
    return events


def a_world(rng: random.Random, first: date, last: date, calls: int, mails: int) -> list:
    days = (last - first).days + 1
    events: list = []
    for i in range(calls):
        day = first + timedelta(rng.randrange(days))
        events += a_call(rng, f"c{i}", day)
        if rng.random() < 0.3:
            events.append(grade(f"c{i}", rng.choice(["treatment", "ease"]), rng.randint(1, 5),
                                at(day, 86_000), "phone"))  # fmt: skip
    for i in range(mails):
        day = first + timedelta(rng.randrange(days))
        sent = at(day, rng.uniform(0, 86_399))
        replied = (
            at(day + timedelta(rng.randint(0, 6)), rng.uniform(0, 86_399))
            if rng.random() < 0.8
            else None
        )
        if replied and replied < sent:
            replied = None
        events += mail(f"m{i}", sent, replied, queue=rng.choice(QUEUES))
    return events


def stored_months(db, org) -> dict[int, bool]:
    """{month key: has data} of the organisation's rows."""
    rows = db.execute(sa.select(MA.c.month, MA.c.data).where(MA.c.organisation_id == org.id))
    return {int(m): data is not None for m, data in rows}


PERIODS = [
    "ytd",  # five closed months and the running month's 20 days
    "2026-Q1",  # whole closed months
    "2026-03-10..2026-04-12",  # over the change to summer time, partial months read stored
    "2026-02-26..2026-05-03",  # short edges (3 days) read live, whole months stored
    "2026-W14",  # a week: live (less than MIN_DAYS of any month)
    "2026-05-25..2026-06-20",  # a closed month's edge and the running month
]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_period_from_stored_months_equals_it_from_the_contacts(db, org, seed) -> None:
    rng = random.Random(seed)
    ingest(db, org, *a_world(rng, date(2025, 12, 20), TODAY, calls=420, mails=140))
    db.commit()
    queue_ids = sorted(db.execute(sa.text("SELECT id FROM queues")).scalars())
    scopes = [None, queue_ids[:1], queue_ids[1:]]
    live = {}
    for text in PERIODS:
        period = Period.parse(text, TODAY)
        for scope in scopes:
            live[text, str(scope)] = (
                compared(db, org, period, scope),
                daily_counts(db, org, period.first, period.last, scope),
                _distributions(db, org, period, scope, None),
            )
    # The fold of the closed months' contacts left their rows dropped; nothing was built.
    assert not any(stored_months(db, org).values()), "nothing stored without build"
    for round_ in ("built now", "read back"):
        for text in PERIODS:
            period = Period.parse(text, TODAY)
            for scope in scopes:
                parts = period_parts(db, org, period.first, period.last, scope, build=True)
                mine = (
                    compared(db, org, period, scope, build=True),
                    daily_counts(db, org, period.first, period.last, scope, build=True),
                    _distributions(db, org, period, scope, parts),
                )
                assert mine == live[text, str(scope)], (round_, text, scope)
        db.commit()
        # Every closed month a period covered for a week or more is stored; the running month
        # never.
        # never (the year before's months, without contacts, are stored too).
        rows = stored_months(db, org)
        assert all(rows[m] for m in (202512, 202601, 202602, 202603, 202604, 202605))
        assert 202606 not in rows and all(rows.values())


def test_split_reads_short_edges_and_the_running_month_live(org) -> None:
    stored, live = split(org, date(2026, 2, 26), date(2026, 6, 20))
    assert [(str(m), a, b) for m, a, b in stored] == [
        ("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 30)),
        ("2026-05", date(2026, 5, 1), date(2026, 5, 31)),
    ]
    assert live == [(date(2026, 2, 26), date(2026, 2, 28)), (date(2026, 6, 1), date(2026, 6, 20))]


def test_a_stored_month_decodes_to_what_was_encoded(db, org) -> None:
    ingest(db, org, *a_world(random.Random(7), date(2026, 3, 1), date(2026, 3, 31), 80, 30))
    db.commit()
    data = months_data(db, org, [Month(2026, 3)])[Month(2026, 3)]
    back = decode(encode(data))
    assert back.cells == data.cells and back.surveys == data.surveys
    assert back.month_cells == data.month_cells and back.month_surveys == data.month_surveys
    assert back.segments == data.segments
    for kind, values in data.arrays.items():
        assert back.arrays[kind].tolist() == values.tolist()
        assert back.queue_ranges(kind) == data.queue_ranges(kind)
    # The month's roll-ups are its days added up.
    assert sum(c.phone.offered for c in back.month_cells.values()) == sum(
        c.phone.offered for c in back.cells.values()
    )


# ---------------------------------------------------------------------------------------------
# never stale


def _built(db, org, text: str = "2026-Q2") -> dict:
    figs = period_figures(db, org, Period.parse(text, TODAY), build=True)
    db.commit()
    return figs.total


def _fresh(db, org, text: str = "2026-Q2") -> dict:
    """The figures from the contacts alone (no stored month read)."""
    db.execute(sa.delete(MA))
    figs = period_figures(db, org, Period.parse(text, TODAY)).total
    db.rollback()
    return figs


def _world(db, org) -> None:
    ingest(db, org, *a_world(random.Random(3), date(2026, 4, 1), TODAY, 150, 40))
    db.commit()


def _check_stale_then_right(db, org, before: dict, months: set[int]) -> None:
    rows = stored_months(db, org)
    for key in months:
        assert rows[key] is False, f"{key} still stored"
    after = _built(db, org)
    assert after != before
    assert after == _fresh(db, org)


def test_a_late_call_into_a_closed_month_drops_it(db, org) -> None:
    _world(db, org)
    before = _built(db, org)
    assert stored_months(db, org) == {202604: True, 202605: True}
    ingest(db, org, *a_call(random.Random(1), "late", date(2026, 5, 30)))  # one event batch
    db.commit()
    # May, and no month before it.
    assert stored_months(db, org) == {202604: True, 202605: False}
    _check_stale_then_right(db, org, before, {202605})


def test_a_late_batch_and_a_contact_moving_to_an_earlier_month(db, org) -> None:
    _world(db, org)
    ingest(db, org, *a_call(random.Random(2), "mover", date(2026, 5, 2)))
    db.commit()
    before = _built(db, org)
    # The same call queued a day earlier (an event the telephony sent late) moves it into April:
    # April gains it, and May, which loses it, is dropped too.
    late = [event("call.queued", "mover", at(date(2026, 4, 28), 3600), queue="Skola"),
            *a_call(random.Random(3), "another", date(2026, 4, 15))]  # fmt: skip
    ingest(db, org, *late)
    db.commit()
    _check_stale_then_right(db, org, before, {202604, 202605})


def test_a_late_survey_answer_about_a_closed_month_drops_it(db, org) -> None:
    _world(db, org)
    ingest(db, org, *a_call(random.Random(5), "graded", date(2026, 4, 20)))
    db.commit()
    before = _built(db, org)
    ingest(db, org, grade("graded", "treatment", 1, at(TODAY, 3600), "phone"))
    db.commit()
    assert stored_months(db, org)[202604] is False
    after = _built(db, org)
    assert after["survey"] != before["survey"]
    assert after == _fresh(db, org)


def test_a_call_of_the_running_month_drops_nothing(db, org) -> None:
    _world(db, org)
    _built(db, org)
    ingest(db, org, *a_call(random.Random(6), "today", TODAY))
    db.commit()
    assert stored_months(db, org) == {202604: True, 202605: True}


def test_erasure_drops_the_organisations_months(db, org) -> None:
    _world(db, org)
    ingest(db, org, *a_call(random.Random(8), "anna", date(2026, 4, 9), caller="0701234567"))
    db.commit()
    before = _built(db, org)
    erase(db, org, "0701234567", [PSEUDONYM_KEY], actor="test")
    db.commit()
    _check_stale_then_right(db, org, before, {202604, 202605})


def test_retention_drops_the_organisations_months(db, org) -> None:
    _world(db, org)
    ingest(db, org, *a_world(random.Random(9), date(2024, 1, 1), date(2024, 2, 1), 20, 5))
    db.commit()
    before = _built(db, org, "2024-01-01..2024-02-29")
    assert before["phone"]["offered"] > 0
    _built(db, org)
    set_policy(db, org, contact_months=13, actor="test")
    purge(db, org, now=NOW)
    db.commit()
    rows = stored_months(db, org)
    assert not any(rows.values())
    assert _built(db, org, "2024-01-01..2024-02-29")["phone"]["offered"] == 0


def test_a_new_service_level_threshold_is_not_read_from_old_months(db, org) -> None:
    _world(db, org)
    before = _built(db, org)
    old = fingerprint(org)
    update_organisation(db, org, name=org.name, service_level_seconds=20)
    db.commit()
    assert fingerprint(org) != old
    after = _built(db, org)
    assert after["phone"]["service_level"] != before["phone"]["service_level"]
    assert after == _fresh(db, org)


def test_a_closed_day_drops_the_organisations_months(db, org) -> None:
    _world(db, org)
    before = _built(db, org)
    add_closed_day(db, org, date(2026, 4, 14), "Personaldag")
    db.commit()
    rows = stored_months(db, org)
    assert rows and not any(rows.values())
    after = _built(db, org)
    assert after["email"] != before["email"]
    assert after == _fresh(db, org)


def test_a_build_that_raced_a_drop_stores_nothing(db, org) -> None:
    _world(db, org)
    _built(db, org)
    april = sa.select(MA.c.version, MA.c.data).where(MA.c.month == 202604)
    read = db.execute(april).one().version
    db.rollback()
    # A build read April's version; a late call dropped April before the build stored.
    ingest(db, org, *a_call(random.Random(4), "late", date(2026, 4, 3)))
    db.commit()
    assert months_data(db, org, [Month(2026, 4)], build=False) == {}
    _store(db, org, fingerprint(org), [(202604, read, b"stale")])
    row = db.execute(april).one()
    assert row.version == read + 1 and row.data is None
    # A build over the version it read stores.
    _store(
        db,
        org,
        fingerprint(org),
        [(202604, read + 1, encode(compute_month(db, org, Month(2026, 4))))],
    )
    db.rollback()
    assert db.execute(april).one().data is not None


def test_the_scheduler_builds_the_closed_months_and_no_more(db, org) -> None:
    _world(db, org)
    run_due_reports(db.get_bind(), now=NOW.astimezone(UTC))
    db.rollback()
    rows = stored_months(db, org)
    # The 25 closed months before June 2026, none of June; April and May from their contacts.
    assert len(rows) == 25 and all(rows.values()) and 202606 not in rows
    assert min(rows) == 202405 and max(rows) == 202605
    assert _built(db, org) == _fresh(db, org)
    # Nothing left to build at the next run.
    assert build_missing(db, org, NOW) == []


def test_a_call_list_import_into_closed_months_drops_them(db, org) -> None:
    from tests.callimport.calls import FIXTURES
    from tests.callimport.test_import import _import

    _world(db, org)
    spring = "2026-03-01..2026-05-31"
    before = _built(db, org, spring)
    assert stored_months(db, org)[202603] is True
    _import(db, org, (FIXTURES / "generic.csv").read_bytes())  # calls of March and April
    rows = stored_months(db, org)
    assert rows[202603] is False and rows[202604] is False
    after = _built(db, org, spring)
    assert after["phone"]["offered"] > before["phone"]["offered"]
    assert after == _fresh(db, org, spring)


def test_a_whole_month_from_its_aggregates_equals_its_frozen_report(db, org) -> None:
    _world(db, org)
    report, _ = generate_report(db, org, Month(2026, 5), now=NOW.astimezone(UTC))
    db.commit()
    _built(db, org, "2026-05")  # stored now
    may = period_figures(db, org, Period.parse("2026-05", TODAY), build=True)
    assert stored_months(db, org)[202605] is True
    for part in ("phone", "email", "survey", "survey_headline"):
        mine = {k: v for k, v in may.total[part].items() if k != "handle_seconds"}
        assert mine == report.document[part], part
    queues = {
        name: {k: v for k, v in figs["phone"].items() if k != "handle_seconds"}
        for name, figs in may.queues
    }
    assert queues == {name: figs["phone"] for name, figs in report.document["queues"].items()}


def test_a_drop_during_a_months_first_build_stores_nothing(db, org, monkeypatch) -> None:
    """An erasure's drop landing while a month that never had a row is built for the first
    time: the build must not store what it read before (the drop raises the empty row's
    version, which the build then does not match)."""
    from servicedesk.contacts.models import Contact
    from servicedesk.metrics import month_store
    from servicedesk.metrics.models import drop_all

    _world(db, org)
    db.execute(sa.delete(MA))  # April has never had a row
    db.commit()
    real = month_store.compute_month
    calls = []

    def erased_meanwhile(session, org_, month):
        if not calls:
            # Another transaction, as an erasure: a contact of April goes and the aggregates
            # are dropped, after the build has begun and before it reads the contacts.
            from sqlmodel import Session

            with Session(db.get_bind()) as other:
                victim = other.execute(
                    sa.select(Contact.id).where(Contact.start_month == 202604).limit(1)
                ).scalar_one()
                other.execute(sa.delete(Contact).where(Contact.id == victim))
                drop_all(other, org_.id)
                other.commit()
        calls.append(month)
        return real(session, org_, month)

    monkeypatch.setattr(month_store, "compute_month", erased_meanwhile)
    months_data(db, org, [Month(2026, 4)])
    db.rollback()
    april = db.execute(sa.select(MA.c.version, MA.c.data).where(MA.c.month == 202604)).one()
    assert april.data is None and april.version == 1
    # The next view builds it again, from the contacts as they are now.
    monkeypatch.setattr(month_store, "compute_month", real)
    db.rollback()
    assert months_data(db, org, [Month(2026, 4)], build=True)[Month(2026, 4)].cells == (
        compute_month(db, org, Month(2026, 4)).cells
    )
