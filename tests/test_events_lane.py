"""The events lane (servicedesk/ingest/lane.py): the common delivery taken beneath Flask, kept
and answered exactly as the app keeps and answers it; everything else handed to the app."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from servicedesk.contacts.models import Contact
from servicedesk.ingest import blueprint, lane
from servicedesk.ingest.models import Delivery, Event
from servicedesk.orgs.models import Organisation
from tests.helpers import event, post

#: Delivery columns that differ between two deliveries of the same request by nature.
_VARYING = {"id", "received_at"}


def _app_only(app: Flask) -> None:
    """The app without its lane: every delivery through Flask, as before the lane."""
    assert isinstance(app.wsgi_app, lane.EventsLane)
    app.wsgi_app = app.wsgi_app.app  # type: ignore[method-assign]


def _viewed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests the app's events view took."""
    calls: list[int] = []
    real = blueprint.receive

    def counted(endpoint: Any) -> Any:
        calls.append(1)
        return real(endpoint)

    monkeypatch.setattr(blueprint, "receive", counted)
    return calls


def _rows(db, model, *order) -> list[dict[str, Any]]:
    db.expire_all()
    rows = db.scalars(sa.select(model).order_by(*order)).all()
    return [{k: v for k, v in r.model_dump().items() if k not in _VARYING} for r in rows]


def _of_org(rows, org_id, differ=frozenset()) -> list[dict[str, Any]]:
    """An organisation's rows without the columns that differ between two organisations."""
    gone = {"organisation_id", *differ}
    mine = [r for r in rows if r["organisation_id"] == org_id]
    return [{k: v for k, v in r.items() if k not in gone} for r in mine]


def _headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "X-Request-ID"}


def test_a_common_delivery_is_taken_by_the_lane_not_the_view(client, token, db, monkeypatch):
    viewed = _viewed(monkeypatch)
    response = post(client, token, event())
    assert response.status_code == 202 and response.get_json() == {"accepted": 1, "duplicates": 0}
    assert viewed == []
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 1


def _deliveries(client, token) -> list[Any]:
    """The same requests, each a case the lane takes: a single event, a batch, a duplicate."""
    one = event(id="same-1", caller="+46701234567", queue="Växel")
    batch = {
        "events": [
            event("call.queued", "c2", id="b-1", queue="Bygglov"),
            event("call.answered", "c2", "2026-06-01T10:00:20+02:00", id="b-2", agent="a7"),
            event("call.ended", "c2", "2026-06-01T10:03:00+02:00", id="b-3"),
            event("call.ended", "c2", "2026-06-01T10:03:00+02:00", id="b-3"),
        ]
    }
    extra = {"X-Request-ID": "req-7", "User-Agent": "växel/2.1", "X-Forwarded-For": "10.1.2.3"}
    return [
        post(client, token, one, **extra),
        post(client, token, batch),
        post(client, token, one),
    ]


def test_the_lane_keeps_and_answers_what_the_app_does(
    app, token, db, make_org, make_token, monkeypatch
):
    viewed_by_app = _viewed(monkeypatch)
    laned = _deliveries(app.test_client(), token)
    assert viewed_by_app == []  # all three taken by the lane, none handed on after a fault

    # The same requests through the app alone, on a new organisation of the same database.
    other = make_org(slug="orebro", name="Örebro kommun")
    _app_only(app)
    viewed = _deliveries(app.test_client(), make_token(other))

    first = db.scalar(sa.select(Delivery.organisation_id).order_by(Delivery.id))
    # Columns that differ between two organisations' rows by nature: the delivery's id on an
    # event, a contact's queue (each organisation has its own) and when it was last folded.
    for model, order, differ in (
        (Delivery, Delivery.id, set()),
        (Event, Event.event_id, {"delivery_id"}),
        (Contact, Contact.contact_id, {"queue_id", "updated_at"}),
    ):
        rows = _rows(db, model, order)
        assert _of_org(rows, other.id, differ) == _of_org(rows, first, differ), model.__name__
    deliveries = _of_org(_rows(db, Delivery, Delivery.id), first)
    assert [d["duplicates"] for d in deliveries] == [0, 1, 1]
    for a, b in zip(laned, viewed, strict=True):
        assert (a.status, a.get_data(), _headers(a)) == (b.status, b.get_data(), _headers(b))
    assert laned[0].headers["X-Request-ID"] == viewed[0].headers["X-Request-ID"] == "req-7"


def test_the_lane_logs_the_request_line_and_counts_the_delivery(client, token, capsys):
    capsys.readouterr()
    post(client, token, event(), **{"X-Request-ID": "lane-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    request_lines = [line for line in lines if line["event"] == "request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["request_id"] == "lane-1" and line["status"] == 202 and line["method"] == "POST"
    assert line["path"] == "/api/v1/events" and line["ms"] >= 0


def test_over_https_the_lane_adds_hsts(client, token):
    response = client.post(
        "/api/v1/events",
        json=event(),
        headers={"Authorization": f"Bearer {token}"},
        base_url="https://localhost",
    )
    assert response.status_code == 202
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in post(client, token, event()).headers


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no token", 401),
        ("unknown token", 401),
        ("form body", 415),
        ("not json", 422),
        ("invalid event", 422),
        ("empty batch", 422),
        ("too large", 413),
    ],
)
def test_what_is_not_a_common_delivery_goes_to_the_app(
    app, client, token, monkeypatch, case, status
):
    viewed = _viewed(monkeypatch)
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    auth = {"Authorization": f"Bearer {token}"}
    requests: dict[str, dict[str, Any]] = {
        "no token": {"json": event()},
        "unknown token": {"json": event(), "headers": {"Authorization": "Bearer sdk_nobody"}},
        "form body": {"data": {"id": "x"}, "headers": auth},
        "not json": {"data": b"{not json", "content_type": "application/json", "headers": auth},
        "invalid event": {"json": event(type="call.exploded"), "headers": auth},
        "empty batch": {"json": {"events": []}, "headers": auth},
        "too large": {"json": event(queue="x" * 3_000), "headers": auth},
    }
    response = client.post("/api/v1/events", **requests[case])
    assert response.status_code == status
    assert viewed == [1]


def test_a_token_that_must_sign_goes_to_the_app(client, org, make_token, monkeypatch):
    viewed = _viewed(monkeypatch)
    token, _secret = make_token(org, signing=True)
    response = post(client, token, event())
    assert response.status_code == 401 and "signature" in response.get_json()["detail"].lower()
    assert viewed == [1]


def test_an_outage_in_the_lane_is_answered_503_at_once(client, token, db, monkeypatch):
    tries: list[int] = []

    def down(*_args: Any, **_kwargs: Any) -> Any:
        tries.append(1)
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(lane, "find_sender", down)
    monkeypatch.setattr(blueprint, "find_sender", down)
    response = post(client, token, event())
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.mimetype == "application/problem+json"
    assert tries == [1]  # the app did not wait for the database a second time
    assert db.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_a_fault_after_the_lanes_statements_leaves_nothing_and_the_app_stores_it_once(
    client, token, db, monkeypatch, capsys
):
    viewed = _viewed(monkeypatch)
    real = lane.ingest_events

    def fails_after(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # every statement run, then a fault before the commit
        raise RuntimeError("a fault of the lane's own")

    monkeypatch.setattr(lane, "ingest_events", fails_after)
    capsys.readouterr()
    response = post(client, token, event(id="once-1"))
    assert response.status_code == 202 and response.get_json() == {"accepted": 1, "duplicates": 0}
    assert viewed == [1]
    assert db.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1
    assert db.scalars(sa.select(Event.event_id)).all() == ["once-1"]
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [line["event"] for line in logged].count("request") == 1
    assert any(line.get("error") == "RuntimeError" for line in logged)
    # The lane's line and the app's share the id the lane gave the request.
    assert len({line["request_id"] for line in logged}) == 1
    assert response.headers["X-Request-ID"] == logged[0]["request_id"]


def test_the_lane_sees_the_client_behind_a_trusted_proxy(database_url, tmp_path, org, make_token):
    from servicedesk import create_app
    from tests.conftest import PSEUDONYM_KEY

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SECRET_KEY": "test-secret-key-0123456789",
            "TRUSTED_PROXIES": 1,
        }
    )
    try:
        token = make_token(org)
        response = post(app.test_client(), token, event(), **{"X-Forwarded-For": "192.0.2.9"})
        assert response.status_code == 202
        engine = app.extensions["servicedesk.engine"]
        with engine.connect() as conn:
            address = conn.execute(sa.select(Delivery.source_address)).scalar_one()
        assert address == "192.0.2.9"
    finally:
        app.extensions["servicedesk.engine"].dispose()


def test_a_body_shorter_than_its_length_is_answered_as_the_app_answers_it(app, token, db):
    def short(client) -> Any:
        body = json.dumps(event()).encode()
        return client.post(
            "/api/v1/events",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
            environ_overrides={"CONTENT_LENGTH": str(len(body) + 50)},
        )

    laned = short(app.test_client())
    _app_only(app)
    viewed = short(app.test_client())
    assert laned.status_code == viewed.status_code >= 400
    assert laned.get_json() == viewed.get_json()
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_a_length_of_other_digits_than_ascii_goes_to_the_app(client, token, monkeypatch):
    viewed = _viewed(monkeypatch)
    body = json.dumps(event()).encode()
    response = client.post(
        "/api/v1/events",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        environ_overrides={"CONTENT_LENGTH": "\u00b2"},  # "²": str.isdigit() says yes
    )
    assert response.status_code < 500
    assert viewed == [1]


def test_the_shared_sender_stays_outside_every_session(app, client, token, db):
    """The worker's threads share one built sender per token (``tokens._BUILT``): the write
    path may read its organisation but never attach it to a session (nor change it)."""
    from servicedesk.ingest import tokens

    post(client, token, event(caller="+46701112233", queue="Växel"))
    post(client, token, {"events": [event("call.answered", agent="a1")]})
    with app.app_context():
        sender = tokens.find_sender(db, token)
    assert sender is not None
    assert sa.inspect(sender.organisation).transient  # never added to a session
    stored = db.get(Organisation, sender.organisation.id)
    assert sender.organisation.model_dump() == stored.model_dump()  # nor changed
    with app.app_context():
        assert tokens.find_sender(db, token) is sender  # the same object the lane used
