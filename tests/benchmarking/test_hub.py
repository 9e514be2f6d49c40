"""Two installations in one test: a publisher and a comparison hub, each an app instance with a
database of its own, talking real HTTP on loopback (werkzeug's server in a thread). Forged,
replayed, other-member and inconsistent publications are refused with problem+json."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select
from werkzeug.serving import make_server

from integrations.benchmark_hub import HubClient, messages_url
from integrations.signing import signed_headers
from servicedesk import create_app
from servicedesk.benchmarking.comparison import compare
from servicedesk.benchmarking.hub import add_participant, register_member
from servicedesk.benchmarking.models import (
    BenchmarkOutbox,
    BenchmarkParticipant,
    BenchmarkPublication,
)
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.publish import Hub, dispatch, publication
from servicedesk.benchmarking.sharing import share, withdraw
from tests.benchmarking.frozen import freeze
from tests.conftest import PSEUDONYM_KEY, fresh_database


@pytest.fixture
def hub(engine_name, request, tmp_path) -> Iterator[dict]:
    """The hub: its own app and database, served on 127.0.0.1, with two members."""
    (tmp_path / "hub").mkdir()
    url = fresh_database(engine_name, request, tmp_path / "hub")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SECRET_KEY": "hub-secret-key-0123456789",
        }
    )
    app.instance_path = str(tmp_path / "hub-instance")
    engine = app.extensions["servicedesk.engine"]
    with Session(engine, expire_on_commit=False) as db:
        region, region_secret = register_member(
            db, "region", "Regionens IT", secret_key=app.config["SECRET_KEY"]
        )
        add_participant(db, region, "kumla", group="B5")
        other, other_secret = register_member(
            db, "other", "Another cooperation", secret_key=app.config["SECRET_KEY"]
        )
        add_participant(db, other, "modum")
        db.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "app": app,
            "engine": engine,
            "url": f"http://127.0.0.1:{server.server_port}",
            "secret": region_secret,
            "other_secret": other_secret,
        }
    finally:
        server.shutdown()
        thread.join(5)
        engine.dispose()


@pytest.fixture
def publisher(app, db, org, hub) -> Hub:
    """This installation (``app``): Kumla shares June, frozen once."""
    freeze(db, org, "2026-06", direct=(62, 100), within1=(30, 40), ease=(40, 40 * 75))
    share(db, org, group="B5")
    db.commit()
    return Hub(hub["url"], "region", hub["secret"])


def hub_rows(hub, model):
    with Session(hub["engine"]) as db:
        return list(db.exec(select(model)))


def test_publish_round_trip_late_version_and_withdrawal(app, db, org, hub, publisher):
    engine = app.extensions["servicedesk.engine"]
    counts = dispatch(engine, publisher)
    assert counts == {"queued": 1, "delivered": 1, "retrying": 0, "failed": 0}
    [pub] = hub_rows(hub, BenchmarkPublication)
    assert (pub.month, pub.report_version) == ("2026-06", 1)
    assert pub.figures["phone.direct_answer_rate"] == {
        "value": 62.0,
        "numerator": 62,
        "denominator": 100,
    }
    # Nothing new: nothing sent again.
    assert dispatch(engine, publisher)["queued"] == 0

    with Session(hub["engine"]) as hdb:
        result = compare(hdb, Period.parse("2026-06"), "region/kumla", min_participants=1)
    direct = next(r for r in result.rankings if r.key == "phone.direct_answer_rate")
    assert direct.place_of("region/kumla").entry.value == 62.0
    assert result.labels["region/kumla"] == ("Kumla kommun", "B5")

    # A late version: the hub keeps both, and the comparison takes the newer one.
    freeze(db, org, "2026-06", version=2, direct=(71, 100), within1=(30, 40), ease=(40, 3000))
    assert dispatch(engine, publisher)["delivered"] == 1
    pubs = sorted(hub_rows(hub, BenchmarkPublication), key=lambda p: p.report_version)
    assert [p.report_version for p in pubs] == [1, 2]
    with Session(hub["engine"]) as hdb:
        result = compare(hdb, Period.parse("2026-06"), "region/kumla", min_participants=1)
    direct = next(r for r in result.rankings if r.key == "phone.direct_answer_rate")
    assert direct.place_of("region/kumla").entry.sources[0][1] == 2
    assert direct.place_of("region/kumla").entry.value == 71.0

    # Withdrawing reaches the hub: no figures of Kumla in the comparison from then on.
    withdraw(db, org)
    db.commit()
    assert dispatch(engine, publisher)["delivered"] == 1
    [participant] = [p for p in hub_rows(hub, BenchmarkParticipant) if p.code == "region/kumla"]
    assert participant.sharing is False
    with Session(hub["engine"]) as hdb:
        assert compare(hdb, Period.parse("2026-06"), min_participants=1).participants == 0


def _message(db, org, month="2026-05"):
    participant = db.exec(select(BenchmarkParticipant)).one()
    report = freeze(db, org, month, direct=(10, 20))
    return publication(participant, report)


def _post(hub, secret, message_id, message, *, member="region", at=None):
    body = json.dumps(message).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, message_id, body, at)}
    return httpx.post(messages_url(hub["url"], member), content=body, headers=headers, timeout=10)


def _problem(response, status, field):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    return response.json()


def test_forged_publications_are_refused(db, org, hub, publisher):
    message = _message(db, org)
    wrong = "whsec_" + "A" * 43 + "="
    _problem(_post(hub, wrong, "msg_forged", message), 401, "webhook-signature")
    # Signed rightly, then changed on the way.
    body = json.dumps(message).encode()
    headers = signed_headers(hub["secret"], "msg_changed", body)
    message["data"]["figures"]["phone.direct_answer_rate"]["value"] = 99.0
    response = httpx.post(
        messages_url(hub["url"], "region"),
        content=json.dumps(message).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    _problem(response, 401, "webhook-signature")
    # Unsigned.
    response = httpx.post(messages_url(hub["url"], "region"), json=message)
    _problem(response, 401, "webhook-signature")
    assert hub_rows(hub, BenchmarkPublication) == []


def test_replayed_and_stale_publications_are_refused(db, org, hub, publisher):
    message = _message(db, org)
    first = _post(hub, hub["secret"], "msg_once", message)
    assert first.status_code == 201, first.text
    again = _problem(_post(hub, hub["secret"], "msg_once", message), 409, "webhook-id")
    assert again["code"] == "already_received"
    # A captured message re-sent later: its timestamp is outside the tolerance.
    old = datetime.now(UTC) - timedelta(minutes=6)
    _problem(_post(hub, hub["secret"], "msg_old", message, at=old), 401, "webhook-signature")
    assert len(hub_rows(hub, BenchmarkPublication)) == 1
    # The publisher's own client takes "already received" for delivered (a lost answer).
    with httpx.Client() as http:
        outcome = HubClient(http).send(hub["url"], "region", hub["secret"], "msg_once", message)
    assert outcome.ok and outcome.status == 409


def test_another_members_figures_are_refused(db, org, hub, publisher):
    message = _message(db, org)
    # "other" signs correctly, but kumla is region's participant.
    response = _post(hub, hub["other_secret"], "msg_other", message, member="other")
    assert "not one of the participants" in _problem(response, 403, "data.participant")["detail"]
    # region's secret does not sign for "other" either.
    _problem(_post(hub, hub["secret"], "msg_x", message, member="other"), 401, "webhook-signature")
    _problem(_post(hub, hub["secret"], "msg_y", message, member="nobody"), 404, "member")
    assert hub_rows(hub, BenchmarkPublication) == []


def test_inconsistent_figures_are_refused(db, org, hub, publisher):
    message = _message(db, org)
    message["data"]["figures"]["phone.direct_answer_rate"]["value"] = 95.0
    problem = _problem(
        _post(hub, hub["secret"], "msg_bad", message),
        422,
        "data.figures.phone.direct_answer_rate.value",
    )
    assert "does not follow from 10 / 20" in problem["detail"]
    message = _message(db, org, "2026-04")
    message["data"]["report"]["definitions_version"] = "something-else/1"
    _problem(_post(hub, hub["secret"], "msg_def", message), 422, "data.report.definitions_version")
    # The same version published again with other figures.
    message = _message(db, org, "2026-03")
    assert _post(hub, hub["secret"], "msg_v1", message).status_code == 201
    message["data"]["report"]["sha256"] = "0" * 64
    _problem(_post(hub, hub["secret"], "msg_v1b", message), 409, "data.report.sha256")
    for garbage, field in ((b"not json", "body"), (b"[]", "")):
        headers = signed_headers(hub["secret"], f"msg_{len(garbage)}", garbage)
        response = httpx.post(messages_url(hub["url"], "region"), content=garbage, headers=headers)
        assert response.status_code in (400, 422) and response.json()["errors"][0]["field"] == field


def test_a_hub_that_refuses_is_not_retried_and_one_that_is_down_is(app, db, org, hub):
    engine = app.extensions["servicedesk.engine"]
    freeze(db, org, "2026-06", direct=(62, 100))
    share(db, org)
    db.commit()
    wrong = Hub(hub["url"], "region", "whsec_" + "B" * 43 + "=")
    assert dispatch(engine, wrong)["failed"] == 1
    [row] = db.exec(select(BenchmarkOutbox)).all()
    assert row.status == "failed" and row.last_status == 401
    down = Hub("http://127.0.0.1:9", "region", hub["secret"])
    db.delete(row)
    db.commit()
    assert dispatch(engine, down)["retrying"] == 1


def test_hostile_text_and_numbers_are_refused_not_stored(db, org, hub, publisher):
    message = _message(db, org, "2026-02")
    message["data"]["name"] = "Kumla\x00kommun"
    _problem(_post(hub, hub["secret"], "msg_nul", message), 422, "data.name")
    message = _message(db, org, "2026-01")
    body = json.dumps(message).replace('"value": 50.0', '"value": NaN').encode()
    headers = {"Content-Type": "application/json", **signed_headers(hub["secret"], "msg_nan", body)}
    response = httpx.post(messages_url(hub["url"], "region"), content=body, headers=headers)
    _problem(response, 400, "body")
    body = json.dumps(message).encode()
    headers = signed_headers(hub["secret"], "msg\x01id", body)
    response = httpx.post(messages_url(hub["url"], "region"), content=body, headers=headers)
    assert response.status_code in (400, 401, 422) and response.status_code < 500
    assert hub_rows(hub, BenchmarkPublication) == []
