"""Announcing frozen reports: signed webhooks, Teams, Slack, retries with backoff, the log."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook
from werkzeug import Request, Response

import integrations.notifications as notifications
from servicedesk.notify.models import NotificationDelivery
from servicedesk.notify.operations import MAX_ATTEMPTS, add_endpoint, dispatch
from tests.reportfixtures import T0


class Receiver:
    """A local endpoint: /ok, /flaky (500 once), /down (always 503), /gone (404), /slow."""

    received: list[tuple[str, dict, bytes]] = []
    flaky_left = 1

    @staticmethod
    def answer(request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        Receiver.received.append((request.path, headers, request.get_data()))
        status = 200
        if request.path == "/flaky" and Receiver.flaky_left:
            Receiver.flaky_left -= 1
            status = 500
        elif request.path == "/down":
            status = 503
        elif request.path == "/gone":
            status = 404
        elif request.path == "/slow":
            time.sleep(1.0)
        return Response(status=status)


@pytest.fixture
def receiver(httpserver):
    Receiver.received = []
    Receiver.flaky_left = 1
    httpserver.expect_request(re.compile("/.*"), method="POST").respond_with_handler(
        Receiver.answer
    )
    return httpserver.url_for("/").rstrip("/")


@pytest.fixture
def endpoint(db, org, app):
    def _add(kind: str, url: str):
        row, secret = add_endpoint(db, org, kind, url, secret_key=app.config["SECRET_KEY"])
        db.commit()
        return row, secret

    return _add


def _deliveries(db):
    db.rollback()
    return db.scalars(
        sa.select(NotificationDelivery).order_by(NotificationDelivery.endpoint_id)
    ).all()


def test_webhook_is_signed_and_sent_once(app, db, endpoint, report, receiver):
    _, secret = endpoint("webhook", f"{receiver}/ok")
    made = report()
    engine, key = app.extensions["servicedesk.engine"], app.config["SECRET_KEY"]
    assert dispatch(engine, key, now=T0) == {
        "queued": 1,
        "delivered": 1,
        "retrying": 0,
        "failed": 0,
    }
    assert dispatch(engine, key, now=T0)["queued"] == 0
    ((path, headers, body),) = Receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "report.frozen"
    assert payload["data"]["month"] == "2026-06" and payload["data"]["sha256"] == made.sha256
    assert headers["webhook-id"] == f"report_{made.id}_1"
    (delivery,) = _deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)


def test_reports_before_the_endpoint_are_not_announced(app, db, endpoint, report, receiver):
    report()
    endpoint("slack", f"{receiver}/ok")
    engine, key = app.extensions["servicedesk.engine"], app.config["SECRET_KEY"]
    assert dispatch(engine, key, now=T0)["queued"] == 0
    report()
    assert dispatch(engine, key, now=T0)["delivered"] == 1
    ((_, _, body),) = Receiver.received
    text = json.loads(body)["text"]
    assert text.startswith("*Kumla kommun: report 2026-06 (version 2)*")
    assert "Phone: 2 calls" in text


def test_teams_gets_an_adaptive_card(app, db, endpoint, report, receiver):
    endpoint("teams", f"{receiver}/ok")
    report()
    dispatch(app.extensions["servicedesk.engine"], app.config["SECRET_KEY"], now=T0)
    ((_, _, body),) = Receiver.received
    message = json.loads(body)
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = [block["text"] for block in attachment["content"]["body"]]
    assert texts[0] == "Kumla kommun: report 2026-06 (version 1)"


def test_5xx_is_retried_with_backoff(app, db, endpoint, report, receiver):
    endpoint("webhook", f"{receiver}/flaky")
    report()
    engine, key = app.extensions["servicedesk.engine"], app.config["SECRET_KEY"]
    assert dispatch(engine, key, now=T0)["retrying"] == 1
    (delivery,) = _deliveries(db)
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)
    assert dispatch(engine, key, now=T0 + timedelta(seconds=30))["delivered"] == 0
    assert dispatch(engine, key, now=T0 + timedelta(seconds=61))["delivered"] == 1
    (delivery,) = _deliveries(db)
    assert [entry["status"] for entry in delivery.log] == [500, 200]
    # Retries carry the same webhook-id, so a receiver can tell a repeat.
    assert len({h["webhook-id"] for _, h, _ in Receiver.received}) == 1


def test_timeouts_retry_and_4xx_fails_at_once(app, db, endpoint, report, receiver, monkeypatch):
    monkeypatch.setattr(notifications, "TIMEOUT_SECONDS", 0.3)
    endpoint("webhook", f"{receiver}/slow")
    endpoint("webhook", f"{receiver}/gone")
    report()
    counts = dispatch(app.extensions["servicedesk.engine"], app.config["SECRET_KEY"], now=T0)
    assert counts == {"queued": 2, "delivered": 0, "retrying": 1, "failed": 1}
    slow, gone = _deliveries(db)
    assert slow.status == "pending" and "timed out" in slow.last_error
    assert (gone.status, gone.attempts, gone.last_status) == ("failed", 1, 404)


def test_gives_up_after_max_attempts(app, db, endpoint, report, receiver):
    endpoint("slack", f"{receiver}/down")
    report()
    engine, key = app.extensions["servicedesk.engine"], app.config["SECRET_KEY"]
    now = T0
    for _ in range(MAX_ATTEMPTS):
        dispatch(engine, key, now=now)
        now += timedelta(hours=7)
    (delivery,) = _deliveries(db)
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(Receiver.received) == MAX_ATTEMPTS


def test_unreachable_endpoint_is_retried(app, db, endpoint, report):
    endpoint("webhook", "http://127.0.0.1:9/nothing-listens")
    report()
    counts = dispatch(app.extensions["servicedesk.engine"], app.config["SECRET_KEY"], now=T0)
    assert counts["retrying"] == 1


def test_cli_add_list_log_remove(runner, db, org, report, receiver, app):
    result = runner.invoke(
        args=["notify", "add", "--org", "kumla", "--kind", "webhook", "--url", f"{receiver}/ok"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("whsec_")
    bad = runner.invoke(
        args=["notify", "add", "--org", "kumla", "--kind", "slack", "--url", "ftp://x"]
    )
    assert bad.exit_code != 0 and "--url" in bad.output
    report()
    assert "delivered 1" in runner.invoke(args=["notify", "send"]).stdout
    listing = runner.invoke(args=["notify", "list", "--org", "kumla"]).stdout
    assert listing.startswith("1\twebhook\thttp://127.0.0.1\tdelivered 1")
    assert (
        "2026-06 v1\tendpoint 1\tdelivered"
        in runner.invoke(args=["notify", "log", "--org", "kumla"]).stdout
    )
    assert runner.invoke(args=["notify", "remove", "--org", "kumla", "1"]).exit_code == 0
    assert _deliveries(db) == []


def test_scheduler_runs_notifications_as_their_own_job(app):
    from servicedesk.jobs import build_scheduler

    scheduler = build_scheduler(app, background=True)
    jobs = {job.id for job in scheduler.get_jobs()}
    assert {"monthly-reports", "report-notifications"} <= jobs
