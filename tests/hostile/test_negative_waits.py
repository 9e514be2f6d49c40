"""An answer before the queue time never makes a wait negative, in any figure or export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from servicedesk.contacts.models import Contact
from servicedesk.metrics.periods import Month
from servicedesk.reports.exports import audit_csv
from servicedesk.reports.service import generate_report
from tests.helpers import event, ingest

JUNE = Month(2026, 6)


def _call(cid: str, queued: str, answered: str) -> list[dict]:
    return [
        event("call.queued", cid, f"2026-06-10T{queued}+02:00", queue="Bygglov"),
        event("call.answered", cid, f"2026-06-10T{answered}+02:00", agent="a1"),
    ]


def test_answers_before_the_queue_time(db, org):
    ingest(
        db,
        org,
        *_call("normal", "09:00:00", "09:02:00"),  # wait 120 s
        *_call("skewed", "10:00:05", "10:00:00"),  # 5 s early: two clocks, answered at once
        *_call("bug", "11:00:00", "10:00:00"),  # an hour early: a sender's error
    )
    db.commit()
    waits = dict(db.execute(sa.select(Contact.contact_id, Contact.wait_seconds)).all())
    assert waits == {"normal": 120.0, "skewed": 0.0, "bug": None}
    report, _ = generate_report(db, org, JUNE)
    phone = report.document["phone"]
    assert (phone["offered"], phone["answered"]) == (3, 2)
    assert phone["wait_seconds"] == {"mean": 60.0, "median": 60.0, "p90": 108.0}
    assert phone["service_level"] == pytest.approx(100 / 3, abs=0.05), "only the skewed call"
    assert min(v for v in phone["wait_seconds"].values()) >= 0
    counts = report.document["counts"]
    assert counts["phone_answered_before_queue"] == 1
    assert counts["phone_answers_before_queue_ignored"] == 1
    rows = {r["contact_id"]: r for r in csv.DictReader(io.StringIO(audit_csv(db, org, JUNE)))}
    assert rows["skewed"]["wait_seconds"] == "0.0"
    assert rows["bug"]["wait_seconds"] == "" and rows["bug"]["answered_at_utc"] == ""


def test_the_hour_early_answer_is_not_within_the_service_level(db, org):
    ingest(db, org, *_call("bug", "11:00:00", "10:00:00"))
    db.commit()
    report, _ = generate_report(db, org, JUNE)
    phone = report.document["phone"]
    assert phone["service_level"] == 0.0
    assert phone["wait_seconds"] == {"mean": None, "median": None, "p90": None}
