"""Standard Webhooks signatures on the events API, checked against the reference library."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from integrations.signing import signed_headers
from servicedesk.ingest.models import Delivery, Event
from tests.helpers import event


@pytest.fixture
def signed(org, make_token):
    return make_token(org, signing=True)


def _send(client, token, body: bytes, headers: dict[str, str]):
    return client.post(
        "/api/v1/events",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def _library_headers(secret: str, msg_id: str, body: bytes, at: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def test_signature_made_by_the_reference_library_is_accepted(client, signed, db):
    token, secret = signed
    body = json.dumps(event()).encode()
    headers = _library_headers(secret, "msg_1", body, datetime.now(UTC))
    response = _send(client, token, body, headers)
    assert response.status_code == 202, response.get_json()
    stored = db.scalars(sa.select(Delivery)).one()
    assert stored.headers["webhook-id"] == "msg_1"


def test_what_we_send_is_signed_as_the_reference_library_checks(client, signed):
    token, secret = signed
    body = json.dumps(event()).encode()
    headers = signed_headers(secret, "msg_0", body)
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    assert _send(client, token, body, headers).status_code == 202


def test_one_of_several_signatures_may_match(client, signed):
    token, secret = signed
    body = json.dumps(event()).encode()
    headers = _library_headers(secret, "msg_2", body, datetime.now(UTC))
    headers["webhook-signature"] = "v1,AAAA v2,xyz " + headers["webhook-signature"]
    assert _send(client, token, body, headers).status_code == 202


@pytest.mark.parametrize(
    "tamper",
    ["missing", "wrong_secret", "body_changed", "stale", "future", "garbage", "no_timestamp"],
)
def test_bad_signatures_are_refused_and_kept(client, signed, db, tamper):
    token, secret = signed
    body = json.dumps(event()).encode()
    now = datetime.now(UTC)
    headers = _library_headers(secret, "msg_3", body, now)
    if tamper == "missing":
        headers = {}
    elif tamper == "wrong_secret":
        headers = _library_headers("whsec_" + "A" * 43 + "=", "msg_3", body, now)
    elif tamper == "body_changed":
        body = body.replace(b"c1", b"c2")
    elif tamper == "stale":
        headers = _library_headers(secret, "msg_3", body, now - timedelta(minutes=6))
    elif tamper == "future":
        headers = _library_headers(secret, "msg_3", body, now + timedelta(minutes=6))
    elif tamper == "garbage":
        headers["webhook-signature"] = "v1,not base64!!"
    elif tamper == "no_timestamp":
        del headers["webhook-timestamp"]
    response = _send(client, token, body, headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    delivery = db.scalars(sa.select(Delivery)).one()
    assert delivery.status == "rejected" and delivery.body == body


def test_within_tolerance_is_accepted(client, signed):
    token, secret = signed
    body = json.dumps(event()).encode()
    headers = _library_headers(secret, "msg_4", body, datetime.now(UTC) - timedelta(minutes=4))
    assert _send(client, token, body, headers).status_code == 202


def test_unsigned_token_ignores_signature_headers(client, token):
    body = json.dumps(event()).encode()
    headers = {
        "webhook-id": "x",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "v1,bogus",
    }
    assert _send(client, token, body, headers).status_code == 202
