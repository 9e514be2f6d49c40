"""Strangers cannot fill the disk: what a refused delivery keeps, per address and per day."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import sqlalchemy as sa

from servicedesk.ingest.models import Delivery, Event, RefusedDay
from servicedesk.observability import metrics
from tests.helpers import event, post

MB = 1_000_000


def _big_body(size: int = MB - 100) -> bytes:
    """A JSON body of about ``size`` bytes (under the 1 MB limit)."""
    filler = "x" * (size - 40)
    return json.dumps({"events": [], "padding": filler}).encode()


def _rejected(db) -> list[Delivery]:
    return list(
        db.scalars(sa.select(Delivery).where(Delivery.status == "rejected").order_by(Delivery.id))
    )


def _stored_bytes(db) -> int:
    return sum(len(d.body) + len(d.reason or "") for d in _rejected(db))


@pytest.mark.parametrize(
    "path", ["/api/v1/events", "/hooks/twilio/wh_nosuchintegration0000000000000000000000/status"]
)
def test_a_strangers_refused_megabyte_keeps_a_prefix_its_size_and_its_hash(client, db, path):
    body = _big_body()
    response = client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"Authorization": "Bearer sdk_wrong", "X-Request-ID": "probe-1"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code in (401, 404)
    (kept,) = _rejected(db)
    assert kept.body == body[:1024]
    assert kept.body_size == len(body)
    assert kept.body_sha256 == hashlib.sha256(body).hexdigest()
    assert kept.source_address == "198.51.100.7"
    assert kept.http_status == response.status_code
    assert kept.headers["x-request-id"] == "probe-1"
    assert "authorization" not in kept.headers
    assert kept.path.startswith(path.split("wh_")[0])
    assert "nosuchintegration0000" not in kept.path, "a hook URL's token is not kept whole"
    assert _stored_bytes(db) < 3_000


def test_a_wrong_signature_is_a_stranger_and_a_proven_senders_refusal_is_kept_whole(
    client, db, org, make_token
):
    token, _secret = make_token(org, signing=True)
    body = _big_body()
    unsigned = client.post(
        "/api/v1/events",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert unsigned.status_code == 401
    plain = make_token(org)
    invalid = {"events": [event(agent="y" * 100_000) for _ in range(5)]}
    assert post(client, plain, invalid).status_code == 422
    stranger, proven = _rejected(db)
    assert stranger.organisation_id == org.id and len(stranger.body) == 1024
    assert json.loads(proven.body) == invalid, "a proven sender's refused delivery is kept whole"
    assert proven.body_size == len(proven.body)


def test_refusals_from_one_address_are_limited_with_retry_after(app, client, db, org, token):
    app.config["REFUSED_RATE_LIMIT"] = "3 per minute"
    here = {"REMOTE_ADDR": "203.0.113.9"}
    answers = [
        client.post(
            "/api/v1/events", json=event(), headers={"Authorization": "Bearer x"}, environ_base=here
        )
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].mimetype == "application/problem+json"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert len(_rejected(db)) == 3
    other = client.post(
        "/api/v1/events",
        json=event(),
        headers={"Authorization": "Bearer x"},
        environ_base={"REMOTE_ADDR": "203.0.113.10"},
    )
    assert other.status_code == 401, "another address has its own count"
    good = post(client, token, event())
    assert good.status_code == 202, "a proven sender is never limited by strangers' refusals"
    ipv6 = [
        client.post(
            "/api/v1/events",
            json=event(),
            headers={"Authorization": "Bearer x"},
            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n}"},
        ).status_code
        for n in range(1, 6)
    ]
    assert ipv6 == [401, 401, 401, 429, 429], "an IPv6 client is counted by its /64"


def test_the_daily_cap_stops_storing_counts_and_logs_once(app, client, db, capsys):
    app.config["REFUSED_RATE_LIMIT"] = ""
    app.config["REFUSED_DAILY_BYTES"] = 8_000
    before = metrics().refused.labels(source="api", outcome="over_cap")._value.get()
    for n in range(10):
        response = client.post(
            "/api/v1/events",
            data=_big_body(50_000),
            content_type="application/json",
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        )
        assert response.status_code == 401, "the answer does not change at the cap"
    kept = _rejected(db)
    assert 2 <= len(kept) < 10
    assert _stored_bytes(db) <= 8_000
    day = db.scalars(sa.select(RefusedDay)).one()
    assert day.kept == len(kept) and day.cap_reached_at is not None
    dropped = metrics().refused.labels(source="api", outcome="over_cap")._value.get() - before
    assert dropped == 10 - len(kept)
    logged = capsys.readouterr().err
    assert logged.count("reached the daily cap") == 1, logged


def test_a_chunked_body_over_the_limit_is_413_not_cut(app, client, db, token):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    batch = json.dumps({"events": [event(contact_id=f"c{n}") for n in range(200)]}).encode()
    assert len(batch) > 10_000
    response = client.post(
        "/api/v1/events",
        input_stream=io.BytesIO(batch),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    (kept,) = _rejected(db)
    assert kept.http_status == 413
    exact = json.dumps({"events": [event()]}).encode()
    app.config["MAX_CONTENT_LENGTH"] = len(exact)
    fits = client.post(
        "/api/v1/events",
        input_stream=io.BytesIO(exact),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert fits.status_code == 202, "a chunked body of exactly the limit is accepted"


def test_strangers_refused_deliveries_go_after_14_days(client, db):
    from datetime import timedelta

    from servicedesk.gdpr.operations import apply_retention
    from servicedesk.timeutil import utcnow

    for _ in range(2):
        client.post("/api/v1/events", json=event())
    first, second = _rejected(db)
    now = utcnow()
    db.execute(
        sa.update(Delivery).where(Delivery.id == first.id).values(received_at=now - timedelta(15))
    )
    db.execute(
        sa.update(Delivery).where(Delivery.id == second.id).values(received_at=now - timedelta(13))
    )
    db.commit()
    apply_retention(db, now=now)
    db.commit()
    assert [d.id for d in _rejected(db)] == [second.id]
