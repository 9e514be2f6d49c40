"""The generic events API, field by field, as docs/api.md defines it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from servicedesk.cache import cache
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.db import get_session
from servicedesk.ingest.models import Delivery, Event, IngestToken
from servicedesk.ingest.tokens import find_sender, hash_token, revoke_token, sender_key
from servicedesk.orgs.models import Organisation
from tests.helpers import event, post


def _count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_single_event_is_accepted(client, token, db):
    response = post(client, token, event(queue="Bygglov", agent="a1"))
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 1, "duplicates": 0}
    stored = db.scalars(sa.select(Event)).one()
    assert stored.queue == "Bygglov" and stored.channel == "phone"
    assert _count(db, Contact) == 1


def test_batch_is_accepted_and_counted(client, token, db):
    batch = [event(contact_id=f"c{n}") for n in range(50)]
    response = post(client, token, {"events": batch})
    assert response.get_json() == {"accepted": 50, "duplicates": 0}
    assert _count(db, Event) == 50
    assert _count(db, Contact) == 50


def test_repeated_delivery_counts_duplicates(client, token, db):
    batch = [event(contact_id="c1"), event("call.answered", contact_id="c1")]
    assert post(client, token, {"events": batch}).get_json() == {"accepted": 2, "duplicates": 0}
    assert post(client, token, {"events": batch}).get_json() == {"accepted": 0, "duplicates": 2}
    twice = {"events": [batch[0], batch[0]]}
    assert post(client, token, twice).get_json() == {"accepted": 0, "duplicates": 2}
    assert _count(db, Event) == 2
    deliveries = db.scalars(sa.select(Delivery).order_by(Delivery.id)).all()
    assert [(d.accepted, d.duplicates) for d in deliveries] == [(2, 0), (0, 2), (0, 2)]


def test_same_event_id_in_other_organisation_is_not_a_duplicate(
    client, token, make_org, make_token
):
    other = make_token(make_org(slug="orebro", name="Örebro"))
    e = event()
    assert post(client, token, e).get_json()["accepted"] == 1
    assert post(client, other, e).get_json()["accepted"] == 1


BAD_EVENTS = [
    ("id", {"id": ""}),
    ("id", {"id": "x" * 129}),
    ("id", {"id": 17}),
    ("type", {"type": "call.started"}),
    ("contact_id", {"contact_id": ""}),
    ("occurred_at", {"occurred_at": "2026-06-01T10:00:00"}),
    ("occurred_at", {"occurred_at": "yesterday"}),
    ("occurred_at", {"occurred_at": 1780000000}),
    ("occurred_at", {"occurred_at": "1900-01-01T00:00:00Z"}),
    ("queue", {"queue": ""}),
    ("queue", {"queue": "q" * 129}),
    ("agent", {"agent": 5}),
    ("caller", {"caller": ["+46701234567"]}),
    ("direct_answer", {"direct_answer": True}),
    ("direct_answer", {"type": "call.ended", "direct_answer": "yes"}),
    ("question", {"question": "treatment"}),
    ("score", {"score": 4}),
    ("question", {"type": "survey.response", "score": 4}),
    ("score", {"type": "survey.response", "question": "treatment"}),
    ("score", {"type": "survey.response", "question": "treatment", "score": 0}),
    ("score", {"type": "survey.response", "question": "treatment", "score": 6}),
    ("score", {"type": "survey.response", "question": "treatment", "score": "4"}),
    ("score", {"type": "survey.response", "question": "treatment", "score": 4.0}),
    ("question", {"type": "survey.response", "question": "speed", "score": 4}),
    ("channel", {"type": "survey.response", "question": "ease", "score": 4, "channel": "fax"}),
    ("colour", {"colour": "blue"}),
]


@pytest.mark.parametrize(("field", "change"), BAD_EVENTS, ids=[f for f, _ in BAD_EVENTS])
def test_field_rules_are_enforced_and_named(client, token, db, field, change):
    bad = event() | change
    response = post(client, token, {"events": [event(), bad]})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert {"index": 1, "field": field} in [{k: e[k] for k in ("index", "field")} for e in errors]
    assert _count(db, Event) == 0, "nothing of a rejected batch is stored"
    delivery = db.scalars(sa.select(Delivery)).one()
    assert delivery.status == "rejected" and delivery.http_status == 422
    assert json.loads(delivery.body)["events"][1] == bad


STORABLE_AND_PLAUSIBLE = [
    ("queue", {"queue": "Bygg\x00lov"}, "must not contain NUL (U+0000)"),
    ("caller", {"caller": "+4670\ud800"}, "must be valid Unicode text (no lone surrogates)"),
    ("occurred_at", {"occurred_at": "1969-12-31T23:59:59Z"}, "must be between 1970 and 2100"),
    ("occurred_at", {"occurred_at": "2100-01-01T01:00:01+01:00"}, "must be between 1970 and 2100"),
]


@pytest.mark.parametrize(
    ("field", "change", "message"),
    STORABLE_AND_PLAUSIBLE,
    ids=["nul", "surrogate", "before-1970", "after-2100"],
)
def test_text_and_instant_rules_name_the_field_in_words(client, token, db, field, change, message):
    """pydantic checks these rules itself (issue 17); the sender still reads what is wrong."""
    body = json.dumps({"events": [event(), event() | change]}, ensure_ascii=True)
    response = client.post(
        "/api/v1/events",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert {"index": 1, "field": field, "message": message} in response.get_json()["errors"]
    assert _count(db, Event) == 0


def test_the_first_and_last_plausible_instants_are_accepted(client, token, db):
    early = event(at="1970-01-01T01:00:00+01:00")
    late = event(at="2100-01-01T00:00:00Z")
    assert post(client, token, {"events": [early, late]}).status_code == 202


@pytest.mark.parametrize("missing", ["id", "type", "contact_id", "occurred_at"])
def test_required_fields(client, token, missing):
    e = event()
    del e[missing]
    response = post(client, token, e)
    assert response.status_code == 422
    assert response.get_json()["errors"][0] == {
        "index": None,
        "field": missing,
        "message": "Field required",
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([event()], "(body)"),
        ({"events": []}, "events"),
        ({"events": {"a": 1}}, "events"),
        ({"events": [event()], "extra": 1}, "extra"),
        ({"events": [event() for _ in range(1001)]}, "events"),
    ],
)
def test_envelope_rules(client, token, payload, field):
    response = post(client, token, payload)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == field


def test_batch_of_1000_is_accepted(client, token, db):
    batch = [
        event(contact_id=f"c{n % 300}", at=f"2026-06-01T10:{n % 60:02d}:00Z") for n in range(1000)
    ]
    assert post(client, token, {"events": batch}).get_json()["accepted"] == 1000
    assert _count(db, Contact) == 300


def test_malformed_json_and_wrong_type(client, token, db):
    auth = {"Authorization": f"Bearer {token}"}
    bad = client.post(
        "/api/v1/events", data=b"{not json", headers=auth, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "(body)"
    form = client.post("/api/v1/events", data={"a": "b"}, headers=auth)
    assert form.status_code == 415
    assert form.mimetype == "application/problem+json"
    assert [d.http_status for d in db.scalars(sa.select(Delivery).order_by(Delivery.id))] == [
        422,
        415,
    ]


def test_too_large_body_is_413_and_kept_as_rejected(client, token, db, app):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    big = {"events": [event(agent="x" * 100) for _ in range(200)]}
    response = post(client, token, big)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    delivery = db.scalars(sa.select(Delivery)).one()
    assert (delivery.status, delivery.http_status) == ("rejected", 413)
    assert _count(db, Event) == 0


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer sdk_wrong"]
)
def test_missing_or_bad_token_is_401(client, db, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/v1/events", json=event(), headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    delivery = db.scalars(sa.select(Delivery)).one()
    assert delivery.status == "rejected" and delivery.organisation_id is None
    assert "authorization" not in {k.lower() for k in delivery.headers}


def test_revoked_token_is_refused(client, token, db, runner, org):
    assert post(client, token, event()).status_code == 202
    result = runner.invoke(args=["token", "revoke", "--org", "kumla", "1"])
    assert result.exit_code == 0, result.output
    assert post(client, token, event()).status_code == 401


def test_caller_is_pseudonymised_everywhere(client, token, db, engine_name):
    number = "+46 70-123 45 67"
    address = "Anna.Andersson@Example.se"
    post(
        client,
        token,
        {
            "events": [
                event(caller=number, contact_id="call1"),
                event("email.received", contact_id="mail1", caller=address),
            ]
        },
    )
    contacts = {c.contact_id: c for c in db.scalars(sa.select(Contact))}
    assert contacts["call1"].caller_hash and contacts["mail1"].caller_hash
    assert contacts["call1"].caller_hash != contacts["mail1"].caller_hash
    # The clear text is gone from every table except the raw delivery body, which keeps the
    # delivery as it arrived (and is purged by retention, see docs/privacy.md).
    for table in ("events", "contacts", "survey_responses"):
        rows = db.execute(sa.text(f"SELECT * FROM {table}")).all()
        text = repr(rows)
        for clear in ("70-123", "701234567", "anna.andersson", "Anna.Andersson"):
            assert clear not in text


def test_same_caller_written_differently_gets_one_pseudonym(client, token, db):
    post(
        client,
        token,
        {
            "events": [
                event(contact_id="a", caller="+46701234567"),
                event(contact_id="b", caller="070-123 45 67"),
                event(contact_id="c", caller="0046 70 123 45 67"),
            ]
        },
    )
    hashes = set(db.scalars(sa.select(Contact.caller_hash)))
    assert len(hashes) == 1


def test_survey_response_is_stored_and_latest_wins(client, token, db):
    base = {"type": "survey.response", "contact_id": "c1", "question": "treatment"}
    post(client, token, event(**base, score=2, at="2026-06-01T12:00:00Z"))
    post(client, token, event(**base, score=5, at="2026-06-01T13:00:00Z"))
    post(client, token, event(**base, score=1, at="2026-06-01T11:00:00Z"))
    response = db.scalars(sa.select(SurveyResponse)).one()
    assert response.score == 5


def test_email_contact_answer_is_first_reply_after_received(client, token, db):
    post(
        client,
        token,
        {
            "events": [
                event("email.replied", contact_id="m1", at="2026-06-01T09:00:00Z"),
                event("email.received", contact_id="m1", at="2026-06-01T10:00:00Z"),
                event("email.replied", contact_id="m1", at="2026-06-02T10:00:00Z"),
                event("email.replied", contact_id="m1", at="2026-06-01T15:00:00Z"),
            ]
        },
    )
    contact = db.scalars(sa.select(Contact)).one()
    assert contact.started_at.isoformat() == "2026-06-01T10:00:00+00:00"
    assert contact.answered_at.isoformat() == "2026-06-01T15:00:00+00:00"


def test_phone_contact_fields(client, token, db):
    post(
        client,
        token,
        {
            "events": [
                event("call.queued", contact_id="k", at="2026-06-30T23:59:00+02:00", queue="Växel"),
                event("call.answered", contact_id="k", at="2026-06-30T23:59:45+02:00", agent="a7"),
                event(
                    "call.ended", contact_id="k", at="2026-07-01T00:05:00+02:00", direct_answer=True
                ),
            ]
        },
    )
    contact = db.scalars(sa.select(Contact)).one()
    assert contact.wait_seconds == 45
    assert contact.direct_answer is True
    assert contact.agent == "a7"
    # The start belongs to June in Stockholm although it is 21:59 UTC.
    assert contact.start_date.isoformat() == "2026-06-30"
    assert contact.event_count == 3


def test_the_sender_is_built_once_and_follows_its_row(app, db, org, token):
    """A worker reuses the sender it built while the shared cache's row is the same; a change
    that drops the row (an organisation edited, a token revoked) is seen at the next delivery."""
    with app.test_request_context():
        session = get_session()
        first = find_sender(session, token)
        assert first is not None and first.organisation.name == "Kumla kommun"
        assert find_sender(session, token) is first

        db.execute(sa.update(Organisation).where(Organisation.id == org.id).values(name="Kumla"))
        db.commit()
        assert find_sender(session, token) is first  # the shared row is still the old one
        cache.delete(sender_key(hash_token(token)))
        session.rollback()  # (a delivery's session is new: this one read before the change)
        changed = find_sender(session, token)
        assert changed is not None and changed is not first
        assert changed.organisation.name == "Kumla"

        row = db.scalars(sa.select(IngestToken)).one()
        revoke_token(db, row)
        db.commit()
        session.rollback()
        assert find_sender(session, token) is None
