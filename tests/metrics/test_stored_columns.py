"""The columns the fold keeps for the report (scores, matched, e-mail working time) are what
recomputing them from the stored rows gives, whatever the order things arrived in."""

from __future__ import annotations

import threading
import time
from datetime import date

import sqlalchemy as sa

from servicedesk.calendars.service import add_closed_day, ensure_calendar, remove_closed_day
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.db import unit_of_work
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation
from servicedesk.reports.service import unmatched_responses
from tests.helpers import event, ingest

JUNE = Month(2026, 6)


def _scores(db, contact_id: str) -> dict[str, tuple]:
    rows = db.execute(
        sa.select(
            Contact.channel, Contact.treatment_score, Contact.ease_score, Contact.clarity_score
        ).where(Contact.contact_id == contact_id)
    ).all()
    return {channel: tuple(rest) for channel, *rest in rows}


def _matched(db, contact_id: str) -> set[bool]:
    rows = db.execute(
        sa.select(SurveyResponse.matched).where(SurveyResponse.contact_id == contact_id)
    ).scalars()
    return set(rows)


def test_response_before_its_contact_is_attached_when_the_contact_comes(db, org) -> None:
    ingest(db, org, event("survey.response", "r1", "2026-06-03T12:00:00+02:00",
                          question="treatment", score=4))  # fmt: skip
    assert _matched(db, "r1") == {False}
    assert unmatched_responses(db, org, JUNE) == 1
    ingest(db, org, event("call.queued", "r1", "2026-06-03T10:00:00+02:00"))
    assert _scores(db, "r1") == {"phone": (4, None, None)}
    assert _matched(db, "r1") == {True}
    assert unmatched_responses(db, org, JUNE) == 0


def test_response_without_channel_moves_to_a_phone_contact_that_appears_later(db, org) -> None:
    ingest(
        db,
        org,
        event("email.received", "x", "2026-06-03T10:00:00+02:00"),
        event("survey.response", "x", "2026-06-03T12:00:00+02:00", question="ease", score=5),
        event("survey.response", "x", "2026-06-03T12:00:00+02:00", question="clarity", score=2,
              channel="email"),
    )  # fmt: skip
    assert _scores(db, "x") == {"email": (None, 5, 2)}
    ingest(db, org, event("call.queued", "x", "2026-06-03T09:00:00+02:00"))
    # The response that named no channel is the call's now; the one that named e-mail stays.
    assert _scores(db, "x") == {"email": (None, None, 2), "phone": (None, 5, None)}


def test_a_later_answer_replaces_the_score_and_an_older_one_does_not(db, org) -> None:
    ingest(db, org, event("call.queued", "s", "2026-06-03T10:00:00+02:00"))
    ingest(db, org, event("survey.response", "s", "2026-06-03T13:00:00+02:00",
                          question="treatment", score=2))  # fmt: skip
    ingest(db, org, event("survey.response", "s", "2026-06-03T12:00:00+02:00",
                          question="treatment", score=5))  # fmt: skip
    assert _scores(db, "s") == {"phone": (2, None, None)}
    ingest(db, org, event("survey.response", "s", "2026-06-03T14:00:00+02:00",
                          question="treatment", score=3))  # fmt: skip
    assert _scores(db, "s") == {"phone": (3, None, None)}


def _answer_seconds(db, contact_id: str) -> float | None:
    """What the figures read (the calendar is current: the operations that change it rebuild it)."""
    ensure_calendar(db, db.execute(sa.select(Organisation)).scalar_one())
    return db.execute(
        sa.select(Contact.answer_seconds).where(Contact.contact_id == contact_id)
    ).scalar_one()


def test_email_working_time_follows_the_calendar(db, org) -> None:
    # Monday 8 June 10:00 -> Wednesday 10 June 09:00 (Stockholm): 47 working hours.
    ingest(
        db,
        org,
        event("email.received", "m", "2026-06-08T10:00:00+02:00"),
        event("email.replied", "m", "2026-06-10T09:00:00+02:00"),
        # Received after the closed day: its working time must not move.
        event("email.received", "later", "2026-06-15T10:00:00+02:00"),
        event("email.replied", "later", "2026-06-16T10:00:00+02:00"),
    )
    assert _answer_seconds(db, "m") == 47 * 3600
    add_closed_day(db, org, date(2026, 6, 9), "klämdag")
    assert _answer_seconds(db, "m") == 23 * 3600
    assert _answer_seconds(db, "later") == 24 * 3600
    remove_closed_day(db, org, date(2026, 6, 9))
    assert _answer_seconds(db, "m") == 47 * 3600


def test_phone_answer_seconds_is_the_wait(db, org) -> None:
    ingest(
        db,
        org,
        event("call.queued", "p", "2026-06-08T10:00:00+02:00"),
        event("call.answered", "p", "2026-06-08T10:00:42.5+02:00"),
    )
    assert _answer_seconds(db, "p") == 42.5
    row = db.execute(sa.select(Contact.start_month).where(Contact.contact_id == "p")).scalar_one()
    assert row == 202606


def test_two_deliveries_about_one_call_at_once_both_count(app, db, org) -> None:
    """The second fold waits for the first (a per-contact lock on PostgreSQL, the write lock on
    SQLite) and then sees both events, instead of overwriting the contact with its own."""
    engine = app.extensions["servicedesk.engine"]
    org_id = org.id
    done = threading.Event()

    def second() -> None:
        with unit_of_work(engine) as session:
            ingest(session, session.get(Organisation, org_id),
                   event("call.answered", "race", "2026-06-08T10:00:20+02:00"))  # fmt: skip
        done.set()

    with unit_of_work(engine) as first:  # as every writer does (its turn held until commit)
        ingest(first, first.get(Organisation, org_id),
               event("call.queued", "race", "2026-06-08T10:00:00+02:00"))  # fmt: skip
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert not done.is_set(), "the second delivery did not wait for the first"
    thread.join(timeout=30)
    assert done.is_set()
    db.expire_all()
    row = db.execute(
        sa.select(
            Contact.started_at, Contact.answered_at, Contact.wait_seconds, Contact.event_count
        ).where(Contact.contact_id == "race")
    ).one()
    assert row.wait_seconds == 20.0
    assert row.event_count == 2


def _handle(db, contact_id: str) -> float | None:
    return db.execute(
        sa.select(Contact.handle_seconds).where(Contact.contact_id == contact_id)
    ).scalar_one()


def test_handle_seconds_is_answered_to_ended_whatever_the_order(db, org) -> None:
    # The end first, then the answer, then the queue: the same row as in order.
    ingest(db, org, event("call.ended", "h", "2026-06-08T10:04:00.25+02:00"))
    assert _handle(db, "h") is None
    ingest(db, org, event("call.answered", "h", "2026-06-08T10:00:30+02:00"))
    ingest(db, org, event("call.queued", "h", "2026-06-08T10:00:00+02:00"))
    assert _handle(db, "h") == 210.25
    # A later end (a transfer's) is the call's end.
    ingest(db, org, event("call.ended", "h", "2026-06-08T10:05:00+02:00"))
    assert _handle(db, "h") == 270.0
    # Answered, not ended yet; not answered; an e-mail: no handle time.
    ingest(
        db,
        org,
        event("call.queued", "open", "2026-06-08T11:00:00+02:00"),
        event("call.answered", "open", "2026-06-08T11:00:05+02:00"),
        event("call.queued", "lost", "2026-06-08T11:00:00+02:00"),
        event("call.ended", "lost", "2026-06-08T11:01:00+02:00"),
        event("email.received", "mail", "2026-06-08T11:00:00+02:00"),
        event("email.replied", "mail", "2026-06-08T12:00:00+02:00"),
    )
    assert _handle(db, "open") is _handle(db, "lost") is _handle(db, "mail") is None
