"""Request ids, JSON logs and the Prometheus metrics, in one process and across gunicorn workers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from servicedesk import observability
from tests.helpers import event, post
from tests.live import LiveServer


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus text exposition (0 when absent)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_request_id_is_kept_when_given_and_made_when_not(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == (
        "abc-123"
    )
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    unsafe = client.get("/healthz", headers={"X-Request-ID": "x\u2028<script>"})
    assert unsafe.headers["X-Request-ID"] != "x\u2028<script>"


def test_each_request_is_one_json_log_line_with_its_request_id(client, token, capsys):
    capsys.readouterr()
    post(client, token, event(), **{"X-Request-ID": "req-42"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    request_line = next(line for line in lines if line["event"] == "request")
    assert request_line["request_id"] == "req-42"
    assert request_line["status"] == 202 and request_line["path"] == "/api/v1/events"
    assert request_line["level"] == "info" and request_line["timestamp"].endswith("Z")


def test_metrics_count_deliveries_by_outcome_and_time_them(client, token):
    before = client.get("/metrics").get_data(as_text=True)
    post(client, token, event())
    post(client, token, {"id": ""})
    post(client, "sdk_wrong", event())
    after = client.get("/metrics")
    assert after.status_code == 200 and after.mimetype == "text/plain"
    text = after.get_data(as_text=True)
    name = "servicedesk_deliveries_total"
    for outcome, n in (("accepted", 1), ("rejected", 2)):
        grown = _sample(text, name, outcome=outcome) - _sample(before, name, outcome=outcome)
        assert grown == n, outcome
    count = "servicedesk_ingest_seconds_count"
    assert _sample(text, count, source="ingest") - _sample(before, count, source="ingest") == 3


def test_webhook_deliveries_are_labelled_by_known_provider_only(client):
    before = client.get("/metrics").get_data(as_text=True)
    client.post("/hooks/twilio/no-such-token/status", data={"CallSid": "x"})
    client.post("/hooks/made-up-provider-123/tok", data={})
    text = client.get("/metrics").get_data(as_text=True)
    name = "servicedesk_deliveries_total"
    for source in ("twilio", "hooks-unknown"):
        grown = _sample(text, name, source=source, outcome="rejected") - _sample(
            before, name, source=source, outcome="rejected"
        )
        assert grown == 1, source
    assert "made-up-provider-123" not in text


def test_scheduler_and_report_metrics_can_be_recorded(client):
    before = client.get("/metrics").get_data(as_text=True)
    observability.scheduler_run("monthly_reports", "ok")
    with observability.report_timer():
        pass
    text = client.get("/metrics").get_data(as_text=True)
    runs = "servicedesk_scheduler_runs_total"
    assert (
        _sample(text, runs, job="monthly_reports", outcome="ok")
        - _sample(before, runs, job="monthly_reports", outcome="ok")
        == 1
    )
    reports = "servicedesk_report_seconds_count"
    assert _sample(text, reports) - _sample(before, reports) == 1


def test_metrics_token_keeps_others_out(app, client):
    app.config["METRICS_TOKEN"] = "scrape-token-0123456789"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert ok.status_code == 200


@pytest.mark.parametrize("engine_name", ["sqlite"])
@pytest.mark.slow
def test_gunicorn_workers_are_counted_together(database_url, token, tmp_path: Path):
    metrics_dir = tmp_path / "prometheus"
    server = LiveServer(
        database_url,
        tmp_path / "server.log",
        workers=2,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        SERVICEDESK_METRICS_TOKEN="scrape-token-0123456789",
    )
    with server, httpx.Client(base_url=server.url) as http:
        auth = {"Authorization": f"Bearer {token}"}
        for n in range(30):
            # A new connection each time, so that both workers take some of the requests.
            response = httpx.post(server.url + "/api/v1/events", json=event(), headers=auth)
            assert response.status_code == 202, n
        assert http.get("/metrics").status_code == 401, "production: a token is required"
        scrape = {"Authorization": "Bearer scrape-token-0123456789"}
        text = http.get("/metrics", headers=scrape).text
        assert response.headers["X-Request-ID"]
    assert _sample(text, "servicedesk_deliveries_total", outcome="accepted") == 30
    assert len(list(metrics_dir.glob("counter_*.db"))) >= 1
    lines = (tmp_path / "server.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert sum(1 for line in logged if line.get("path") == "/api/v1/events") == 30


def test_metrics_are_not_served_in_production_without_a_token(database_url):
    from servicedesk import create_app

    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "production",
            "DATABASE_URL": database_url,
            "METRICS_TOKEN": None,
        }
    )
    try:
        assert app.test_client().get("/metrics").status_code == 404
        app.config["METRICS_TOKEN"] = "scrape-token-0123456789"
        assert app.test_client().get("/metrics").status_code == 401
    finally:
        app.extensions["servicedesk.engine"].dispose()


def test_a_librarys_logged_error_is_one_json_line_with_its_traceback(app, capsys):
    import logging

    capsys.readouterr()
    try:
        raise RuntimeError("server closed the connection unexpectedly")
    except RuntimeError:
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").error(
            "Exception during reset or similar", exc_info=True
        )
    logging.getLogger("apscheduler.scheduler").info("below the level: not written")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["event"] == "Exception during reset or similar"
    assert line["level"] == "error" and line["logger"] == "sqlalchemy.pool.impl.QueuePool"
    assert "Traceback" in line["exception"] and "server closed" in line["exception"]
    assert line["timestamp"].endswith("Z")


def test_log_lines_of_concurrent_threads_stay_whole(app, capsys):
    import sys
    import threading

    import structlog

    capsys.readouterr()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: interleaving shows
    try:
        log = structlog.get_logger("test")

        def write(n: int) -> None:
            for i in range(300):
                log.info("line", thread=n, i=i, padding="x" * 200)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(0.005)
    lines = capsys.readouterr().err.split("\n")
    assert lines[-1] == ""
    parsed = [json.loads(line) for line in lines[:-1]]  # every line one whole object
    assert len(parsed) == 1800


def test_gunicorns_own_lines_are_json_like_ours(capsys):
    from gunicorn.config import Config

    from servicedesk.serve import ServerLog

    capsys.readouterr()
    server_log = ServerLog(Config())
    server_log.info("Booting worker with pid: %s", 4242)
    server_log.critical("WORKER TIMEOUT (pid:%s)", 4242)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [line["event"] for line in lines] == [
        "Booting worker with pid: 4242",
        "WORKER TIMEOUT (pid:4242)",
    ]
    assert [line["level"] for line in lines] == ["info", "critical"]
    assert {line["logger"] for line in lines} == {"gunicorn.error"}
