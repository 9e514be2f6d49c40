"""The write path's shortcuts give the contacts a fold from all stored events gives.

A new delivery's contacts are computed before the writer's turn from its own events, and its
events are not read back (``plan_contacts``, ``fold_contacts``' ``fresh``); on SQLite the
contacts no other delivery has events of are inserted first with ``DO NOTHING``. Each test
here puts one of those shortcuts where it must not be taken and checks the row against a
fold of every stored event.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from servicedesk.contacts.fold import fold_contacts
from servicedesk.contacts.models import Contact
from servicedesk.ingest.models import Event
from servicedesk.orgs.models import Organisation
from tests.helpers import event, post

COLUMNS = (
    "started_at", "answered_at", "ended_at", "wait_seconds", "handle_seconds", "direct_answer",
    "queue_id", "agent", "caller_hash", "event_count", "start_date",
)  # fmt: skip


def _row(db: Session, contact_id: str) -> dict[str, Any]:
    db.expire_all()
    contact = db.exec(select(Contact).where(Contact.contact_id == contact_id)).one()
    return {name: getattr(contact, name) for name in COLUMNS}


def _refolded(db: Session, org: Organisation, contact_id: str) -> dict[str, Any]:
    """The row as a fold of every stored event makes it (no shortcut: nothing in hand)."""
    fold_contacts(db, org, {("phone", contact_id)})
    db.flush()
    return _row(db, contact_id)


def test_a_contact_kept_without_its_events_is_updated_not_skipped(client, db, org, token):
    first = [event("call.queued", "k1", "2026-06-01T10:00:00+02:00", queue="Växel"),
             event("call.answered", "k1", "2026-06-01T10:00:40+02:00", agent="a1")]  # fmt: skip
    assert post(client, token, {"events": first}).status_code == 202
    # The events go (as a purge might take them), the contact stays: the next delivery finds
    # no other delivery's events of it, so it is first tried as new, and must then be updated.
    db.execute(sa.delete(Event).where(Event.contact_id == "k1"))
    db.commit()
    later = [event("call.queued", "k1", "2026-06-01T10:05:00+02:00", queue="Bygglov"),
             event("call.ended", "k1", "2026-06-01T10:09:00+02:00")]  # fmt: skip
    assert post(client, token, {"events": later}).status_code == 202
    row = _row(db, "k1")
    assert row["event_count"] == 2
    assert row["answered_at"] is None and row["agent"] is None
    assert row == _refolded(db, org, "k1")


def test_a_batch_of_new_and_known_contacts_and_repeats_folds_as_a_whole(client, db, org, token):
    earlier = [event("call.queued", "m1", "2026-06-01T10:00:00+02:00", queue="Växel"),
               event("call.queued", "m2", "2026-06-01T10:01:00+02:00", queue="Skola")]  # fmt: skip
    assert post(client, token, {"events": earlier}).status_code == 202
    batch = [
        earlier[0],  # a repeat: stored by the other delivery
        event("call.answered", "m1", "2026-06-01T10:00:30+02:00", agent="a1"),
        event("call.ended", "m1", "2026-06-01T10:03:00+02:00"),
        event("call.ended", "m2", "2026-06-01T10:02:00+02:00"),
        event("call.queued", "m3", "2026-06-01T10:04:00+02:00", queue="Bygglov"),
        event("call.answered", "m3", "2026-06-01T10:04:05+02:00", agent="a2"),
    ]
    response = post(client, token, {"events": batch})
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 5, "duplicates": 1}
    rows = {cid: _row(db, cid) for cid in ("m1", "m2", "m3")}
    assert rows["m1"]["event_count"] == 3 and rows["m1"]["wait_seconds"] == 30
    assert rows["m2"]["event_count"] == 2 and rows["m2"]["answered_at"] is None
    assert rows["m3"]["event_count"] == 2 and rows["m3"]["wait_seconds"] == 5
    for cid, row in rows.items():
        assert row == _refolded(db, org, cid), cid
