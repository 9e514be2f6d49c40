"""Privacy: erasing one person, retention purges, pseudonym key rotation, and the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from servicedesk.audit import record
from servicedesk.audit.models import AuditEntry
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.gdpr.erasure import caller_forms
from servicedesk.gdpr.retention import contact_cutoff
from servicedesk.ingest.models import Delivery, Event
from servicedesk.privacy import key_id, pseudonymise
from servicedesk.reports.models import Report
from servicedesk.timeutil import utcnow
from tests.conftest import PSEUDONYM_KEY
from tests.helpers import event, post

ANNA = "+46701234567"
BERIT = "berit@example.se"
OLD_KEY = b"old-pseudonym-key-0123456789"


def _count(db, model, *where) -> int:
    db.rollback()  # a fresh snapshot: the CLI and the client wrote in other sessions
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _call(client, token, contact: str, caller: str, at: str = "2026-06-01T10:00:00+02:00"):
    events = [
        event("call.queued", contact_id=contact, at=at, caller=caller),
        event("call.answered", contact_id=contact, at=at),
        event("survey.response", contact_id=contact, at=at, question="ease", score=4),
    ]
    assert post(client, token, {"events": events}).status_code == 202


def test_erase_removes_one_person_everywhere_and_logs_it(client, token, runner, db, org):
    _call(client, token, "a1", "070-123 45 67")
    _call(client, token, "a2", ANNA)
    _call(client, token, "b1", BERIT)
    # A rejected delivery that names her is raw data about her too.
    bad = {"id": "x", "type": "call.queued", "contact_id": "a3", "caller": ANNA}
    assert post(client, token, bad).status_code == 422

    result = runner.invoke(args=["gdpr", "erase", "--org", "kumla", "--caller", "0701234567"])
    assert result.exit_code == 0, result.output
    assert "contacts 2" in result.output and "deliveries 3" in result.output

    assert {c.contact_id for c in db.scalars(sa.select(Contact))} == {"b1"}
    assert {e.contact_id for e in db.scalars(sa.select(Event))} == {"b1"}
    assert {s.contact_id for s in db.scalars(sa.select(SurveyResponse))} == {"b1"}
    bodies = [bytes(d.body) for d in db.scalars(sa.select(Delivery))]
    assert len(bodies) == 1 and b"berit" in bodies[0]
    entry = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "gdpr.erase")).one()
    assert entry.organisation_id == org.id and entry.actor.startswith("cli")
    assert entry.details["contacts"] == 2 and entry.details["events"] == 6
    assert entry.details["pseudonym"] == pseudonymise(ANNA, PSEUDONYM_KEY, "SE")
    assert "0701234567" not in json.dumps(entry.details) and ANNA not in json.dumps(entry.details)


def test_erase_of_someone_unknown_removes_nothing(client, token, runner, db):
    _call(client, token, "b1", BERIT)
    result = runner.invoke(args=["gdpr", "erase", "--org", "kumla", "--caller", "+4799999999"])
    assert result.exit_code == 0 and "contacts 0" in result.output
    assert _count(db, Event) == 3 and _count(db, AuditEntry, AuditEntry.action == "gdpr.erase") == 1


def test_erase_needs_a_known_organisation(runner):
    result = runner.invoke(args=["gdpr", "erase", "--org", "nowhere", "--caller", ANNA])
    assert result.exit_code != 0 and "nowhere" in result.output


def test_raw_forms_of_a_number_cover_how_providers_write_it():
    forms = caller_forms("070-123 45 67", "SE")
    assert {b"+46701234567", b"0701234567", b"%2B46701234567", b"0046701234567"} <= forms
    assert b"berit%40example.se" in caller_forms("Berit@Example.se", "SE")


def test_rows_hashed_with_a_previous_key_are_found_and_moved_to_the_new_key(
    app, client, token, runner, db
):
    app.config["PSEUDONYM_KEY"] = OLD_KEY
    _call(client, token, "a1", ANNA)
    _call(client, token, "b1", BERIT)
    app.config["PSEUDONYM_KEY"] = PSEUDONYM_KEY
    app.config["PSEUDONYM_PREVIOUS_KEYS"] = [OLD_KEY]
    old, new = key_id(OLD_KEY), key_id(PSEUDONYM_KEY)

    listing = runner.invoke(args=["gdpr", "keys"]).output
    assert f"{old}  previous  4 rows" in listing and f"{new}  current   0 rows" in listing

    # Anna calls again: her earlier rows move to the new key; Berit's stay until she returns.
    _call(client, token, "a2", ANNA)
    db.rollback()
    hashes = {c.contact_id: c.caller_hash for c in db.scalars(sa.select(Contact))}
    assert hashes["a1"] == hashes["a2"] == pseudonymise(ANNA, PSEUDONYM_KEY, "SE")
    assert hashes["b1"].startswith(old + ":")
    assert runner.invoke(args=["gdpr", "erase", "--org", "kumla", "--caller", BERIT]).exit_code == 0
    assert _count(db, Contact) == 2
    listing = runner.invoke(args=["gdpr", "keys"]).output
    assert f"{old}  previous  0 rows" in listing and f"{new}  current   4 rows" in listing


def test_purge_applies_retention_and_keeps_the_frozen_reports(app, client, token, runner, db, org):
    now = utcnow()
    old_at = (now - timedelta(days=500)).isoformat()
    recent_at = (now - timedelta(days=20)).isoformat()
    _call(client, token, "old", ANNA, at=old_at)
    _call(client, token, "recent", BERIT, at=recent_at)
    # A late event of the old contact goes with it.
    late = event("call.ended", contact_id="old", at=recent_at)
    assert post(client, token, late).status_code == 202
    db.execute(sa.update(Delivery).values(received_at=now - timedelta(days=40)))
    db.commit()
    old_month = (now - timedelta(days=500)).strftime("%Y-%m")
    assert (
        runner.invoke(args=["report", "generate", "--org", "kumla", "--month", old_month]).exit_code
        == 0
    )

    setting = runner.invoke(
        args=["gdpr", "retention", "--org", "kumla", "--raw-days", "30", "--contact-months", "13"]
    )
    assert setting.exit_code == 0 and "30 days" in setting.output and "13 months" in setting.output
    result = runner.invoke(args=["gdpr", "purge"])
    assert result.exit_code == 0, result.output

    assert {c.contact_id for c in db.scalars(sa.select(Contact))} == {"recent"}
    assert {e.contact_id for e in db.scalars(sa.select(Event))} == {"recent"}
    assert {s.contact_id for s in db.scalars(sa.select(SurveyResponse))} == {"recent"}
    assert _count(db, Delivery) == 0
    assert _count(db, Report) == 1
    actions = [e.action for e in db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["gdpr.retention", "gdpr.purge"]
    # Purging again finds nothing more and logs nothing more.
    assert runner.invoke(args=["gdpr", "purge", "--org", "kumla"]).exit_code == 0
    assert _count(db, AuditEntry) == 2


def test_default_retention_keeps_recent_data(client, token, runner, db):
    _call(client, token, "recent", ANNA)
    shown = runner.invoke(args=["gdpr", "retention", "--org", "kumla"]).output
    assert "90 days" in shown and "25 months" in shown
    runner.invoke(args=["gdpr", "purge"])
    assert _count(db, Delivery) == 1 and _count(db, Contact) == 1


def test_retention_refuses_nonsense(runner):
    result = runner.invoke(args=["gdpr", "retention", "--org", "kumla", "--raw-days", "0"])
    assert result.exit_code != 0


def test_contact_cutoff_is_the_start_of_a_local_month(org):
    from datetime import UTC, datetime

    cutoff = contact_cutoff(org, 12, datetime(2026, 6, 15, 12, tzinfo=UTC))
    assert cutoff == datetime(2025, 5, 31, 22, tzinfo=UTC)  # 1 June 2025, 00:00 in Stockholm


def test_audit_record_and_list(runner, db, org):
    record(db, org.id, "anna@kumla.se", "report.export", {"month": "2026-06", "format": "xlsx"})
    record(db, None, "system", "org.create", {"slug": "x"})
    db.commit()
    listed = runner.invoke(args=["audit", "list", "--org", "kumla"]).output.splitlines()
    assert len(listed) == 1 and "report.export" in listed[0] and "anna@kumla.se" in listed[0]
    assert len(runner.invoke(args=["audit", "list"]).output.splitlines()) == 2


def test_the_scheduler_purges_daily_and_counts_its_runs(app, client, token, db, org):
    from servicedesk.jobs import build_scheduler, run_task

    job = build_scheduler(app, background=True).get_job("retention")
    assert job is not None
    _call(client, token, "old", ANNA, at=(utcnow() - timedelta(days=900)).isoformat())
    done = run_task(*job.args)
    assert done["kumla"].contacts == 1 and _count(db, Contact) == 0
    assert 'servicedesk_scheduler_runs_total{job="retention",outcome="ok"}' in client.get(
        "/metrics"
    ).get_data(as_text=True)


def test_erase_leaves_no_score_whose_response_is_gone(client, token, runner, db, org):
    """A call and an e-mail share an id; the response without a channel is the call's. Erasing
    the e-mail's sender deletes the e-mail and every response that may be hers (the ones
    without a channel too): the call keeps no score whose response is gone."""
    at = "2026-06-01T10:00:00+02:00"
    events = [
        event("call.queued", contact_id="t1", at=at, caller=ANNA),
        event("email.received", contact_id="t1", at=at, caller=BERIT),
        event("survey.response", contact_id="t1", at=at, question="ease", score=5),
        event("survey.response", contact_id="t1", at=at, question="clarity", score=2,
              channel="email"),
    ]  # fmt: skip
    assert post(client, token, {"events": events}).status_code == 202
    db.rollback()
    scores = sa.select(Contact.channel, Contact.ease_score, Contact.clarity_score)
    assert sorted(tuple(r) for r in db.execute(scores)) == [("email", None, 2), ("phone", 5, None)]
    result = runner.invoke(args=["gdpr", "erase", "--org", "kumla", "--caller", BERIT])
    assert result.exit_code == 0, result.output
    db.rollback()
    assert [tuple(r) for r in db.execute(scores)] == [("phone", None, None)]


def test_purge_makes_responses_about_purged_contacts_unmatched_again(
    client, token, runner, db, org
):
    now = utcnow()
    old_at = (now - timedelta(days=500)).isoformat()
    _call(client, token, "gone", ANNA, at=old_at)
    later = event("survey.response", contact_id="gone", at=(now - timedelta(days=5)).isoformat(),
                  question="treatment", score=3)  # fmt: skip
    assert post(client, token, later).status_code == 202
    runner.invoke(args=["gdpr", "retention", "--org", "kumla", "--contact-months", "13"])
    assert runner.invoke(args=["gdpr", "purge"]).exit_code == 0
    db.rollback()
    assert db.scalars(sa.select(SurveyResponse.matched)).all() == [False]
