"""The real server under hostile clients: slow ones, and chunked bodies over the limit."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer


def _slow_client(port: int, stop: threading.Event, answers: list[bytes]) -> None:
    """Headers at once, then a 1 MB body one byte every 0.5 seconds, until told to stop."""
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer sdk_slow\r\nContent-Length: 1000000\r\n\r\n"
        )
        while not stop.wait(0.5):
            sock.sendall(b" ")
    except OSError:
        pass  # cut by the server: that is the point
    finally:
        sock.settimeout(1)
        try:
            answers.append(sock.recv(200))
        except OSError:
            answers.append(b"")
        sock.close()


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_healthz_answers_while_20_slow_clients_are_connected(database_url, tmp_path: Path):
    server = LiveServer(
        database_url, tmp_path / "server.log", workers=1, SERVICEDESK_BODY_TIMEOUT_SECONDS="4"
    )
    stop = threading.Event()
    answers: list[bytes] = []
    with server:
        clients = [
            threading.Thread(target=_slow_client, args=(server.port, stop, answers))
            for _ in range(20)
        ]
        for client in clients:
            client.start()
        time.sleep(0.5)  # all 20 connected and sending
        latencies = []
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for _ in range(30):
                started = time.perf_counter()
                assert http.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.1)
        time.sleep(2)  # past the 4 s body deadline
        stop.set()
        for client in clients:
            client.join(timeout=10)
    assert max(latencies) < 1.0, latencies
    assert statistics.median(latencies) < 0.1, latencies
    assert sum(1 for a in answers if a.startswith(b"HTTP/1.1 408")) == 20, answers


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_chunked_body_over_the_limit_is_413_through_the_real_server(
    database_url, token, tmp_path: Path
):
    """gunicorn de-chunks the body; cut at the limit, it would be read as a whole (202)."""
    import json

    from tests.helpers import event

    batch = json.dumps({"events": [event(contact_id=f"c{n}") for n in range(1000)]}).encode()
    body = batch + b" " * (1_100_000 - len(batch))  # valid JSON up to the limit, then more

    def chunks():
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    with LiveServer(database_url, tmp_path / "server.log", workers=1) as server:
        response = httpx.post(
            server.url + "/api/v1/events",
            content=chunks(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30,
        )
    assert response.status_code == 413, response.text
