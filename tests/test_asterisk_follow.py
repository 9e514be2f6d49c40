"""Following a live queue_log: rotation, truncation, restarts, and signed posts to a real server."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook
from werkzeug.serving import make_server

from integrations.events_api import EventsApiSender, SendError
from integrations.queue_log_follow import QueueLogFollower
from servicedesk.contacts.models import Contact
from servicedesk.ingest.models import Event
from tests.payloads import fixture_text

SAMPLE = fixture_text("asterisk-queue_log.txt").splitlines()


def line(epoch: int, call: str, event: str, *data: str, agent: str = "NONE") -> str:
    return "|".join([str(epoch), call, "Bygglov", agent, event, *data]) + "\n"


def call_lines(n: int) -> list[str]:
    """One answered call: queued, connected after 10 s, completed by the agent."""
    base, call = 1_717_200_000 + 100 * n, f"{1_717_200_000 + 100 * n}.{n}"
    return [
        line(base, call, "ENTERQUEUE", "", "0701234567", "1"),
        line(base + 10, call, "CONNECT", "10", f"{call}9", "2", agent="SIP/anna"),
        line(base + 70, call, "COMPLETEAGENT", "10", "60", "1", agent="SIP/anna"),
    ]


class Collector:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.fail_next = False

    def __call__(self, events: list[dict]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("server down")
        self.events += events


def append(path: Path, text: str) -> None:
    with open(path, "a") as fh:
        fh.write(text)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "log" / "queue_log"


def follower(log: Path, sink: Collector, **kwargs) -> QueueLogFollower:
    return QueueLogFollower(log, log.parent.parent / "position.json", sink, **kwargs)


def test_half_written_lines_wait_for_their_end(log):
    log.parent.mkdir()
    sink = Collector()
    f = follower(log, sink)
    assert f.step() == 0
    first, second, third = call_lines(1)
    append(log, first + second[:12])
    f.step()
    assert [e["type"] for e in sink.events] == ["call.queued"]
    append(log, second[12:] + third)
    f.step()
    assert [e["type"] for e in sink.events] == ["call.queued", "call.answered", "call.ended"]
    f.close()


def test_rotation_while_running_loses_and_repeats_nothing(log):
    log.parent.mkdir()
    sink = Collector()
    f = follower(log, sink)
    append(log, "".join(call_lines(1)))
    f.step()
    # logrotate renames the file; Asterisk writes on into it until it reopens the new one.
    os.rename(log, log.with_name("queue_log.1"))
    append(log.with_name("queue_log.1"), "".join(call_lines(2)))
    append(log, "".join(call_lines(3)))
    f.step()
    f.close()
    ids = [e["id"] for e in sink.events]
    assert len(ids) == len(set(ids)) == 9
    assert [e["contact_id"] for e in sink.events][::3] == [
        "1717200100.1",
        "1717200200.2",
        "1717200300.3",
    ]


def test_restart_resumes_after_the_last_batch_sent(log):
    log.parent.mkdir()
    sink = Collector()
    f = follower(log, sink)
    append(log, "".join(call_lines(1)))
    f.step()
    f.close()
    append(log, "".join(call_lines(2)))
    # Down while the log rotated and both files grew.
    os.rename(log, log.with_name("queue_log.1"))
    append(log, "".join(call_lines(3)))
    again = follower(log, sink)
    again.step()
    again.close()
    ids = [e["id"] for e in sink.events]
    assert len(ids) == len(set(ids)) == 9


def test_failed_send_keeps_the_position(log):
    log.parent.mkdir()
    sink = Collector()
    f = follower(log, sink)
    append(log, "".join(call_lines(1)))
    sink.fail_next = True
    with pytest.raises(ConnectionError):
        f.step()
    f.close()
    again = follower(log, sink)
    again.step()
    again.close()
    assert len(sink.events) == 3


def test_truncated_log_is_read_from_its_start(log):
    log.parent.mkdir()
    sink = Collector()
    f = follower(log, sink)
    append(log, "".join(call_lines(1) + call_lines(2)))
    f.step()
    with open(log, "w") as fh:  # copytruncate
        fh.write("".join(call_lines(3)))
    warnings: list[str] = []
    f.warn = warnings.append
    f.step()
    f.close()
    assert len(sink.events) == 9 and "truncated" in warnings[0]


def test_from_end_skips_history_and_bad_lines_are_skipped(log):
    log.parent.mkdir()
    append(log, "".join(call_lines(1)))
    sink = Collector()
    warnings: list[str] = []
    f = follower(log, sink, from_end=True, warn=warnings.append)
    f.step()
    assert sink.events == []
    append(log, "garbage line\n" + "".join(call_lines(2)))
    f.step()
    f.close()
    assert len(sink.events) == 3 and "skipped" in warnings[0]


# --- the sender against real HTTP servers --------------------------------------------------------

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class FlakyApi(BaseHTTPRequestHandler):
    """Answers 503 to the first request, then checks the signature and answers 202."""

    calls: list[tuple[int, dict]] = []

    def do_POST(self) -> None:  # noqa: N802  (the http.server API)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not FlakyApi.calls:
            FlakyApi.calls.append((503, {}))
            self.send_response(503)
            self.end_headers()
            return
        payload = Webhook(SECRET).verify(body, dict(self.headers))
        FlakyApi.calls.append((202, payload))
        reply = json.dumps({"accepted": len(payload["events"]), "duplicates": 0}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args) -> None:
        pass


def test_sender_retries_5xx_and_signs_with_standard_webhooks():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FlakyApi.calls = []
    delays: list[float] = []
    try:
        sender = EventsApiSender(
            f"http://127.0.0.1:{server.server_port}",
            "sdk_token",
            SECRET,
            sleep=delays.append,
            max_attempts=3,
        )
        result = sender([{"id": "e1"}])
    finally:
        server.shutdown()
        server.server_close()
    assert result == {"accepted": 1, "duplicates": 0}
    assert [code for code, _ in FlakyApi.calls] == [503, 202]
    assert delays == [1.0]


def test_sender_gives_up_on_refusal_and_on_no_server():
    sender = EventsApiSender("http://127.0.0.1:9", "t", None, sleep=lambda s: None, max_attempts=2)
    with pytest.raises(SendError, match="gave up after 2"):
        sender([{"id": "e1"}])


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_follow_command_posts_signed_batches(runner, db, org, make_token, live_server, log):
    log.parent.mkdir()
    token, secret = make_token(org, signing=True)
    append(log, "\n".join(SAMPLE) + "\n")
    state = log.parent.parent / "state.json"
    args = [
        "asterisk",
        "follow",
        "--org",
        "kumla",
        str(log),
        "--url",
        live_server,
        "--token",
        token,
        "--signing-secret",
        secret,
        "--state",
        str(state),
        "--once",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    append(log, "".join(call_lines(1)))
    assert runner.invoke(args=args).exit_code == 0
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 8
    contacts = db.scalars(sa.select(Contact).order_by(Contact.contact_id)).all()
    assert [(c.contact_id, c.wait_seconds) for c in contacts] == [
        ("1266833905.2", 6.0),
        ("1596512941.163", None),
        ("1717200100.1", 10.0),
    ]
    bad = runner.invoke(args=[*args[:-5], "--token", "sdk_wrong", "--once"])
    assert bad.exit_code != 0


def test_import_backfills_with_duplicates_counted(runner, db, org, tmp_path):
    path = tmp_path / "queue_log.old"
    path.write_text("\n".join(SAMPLE) + "\nnot a queue_log line\n")
    result = runner.invoke(args=["asterisk", "import", "--org", "kumla", str(path)])
    assert result.exit_code == 0, result.output
    assert "5 events imported, 0 duplicates, 1 lines skipped" in result.stdout
    again = runner.invoke(args=["asterisk", "import", "--org", "kumla", str(path)])
    assert "0 events imported, 5 duplicates" in again.stdout
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
