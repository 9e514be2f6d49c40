"""Hostile input, measured: what a refused 1 MB delivery keeps, and /healthz beside slow clients.

    .venv/bin/python bench/hostile.py [--engine sqlite|postgresql] [--deliveries 50]

1. Refused deliveries: N deliveries of 1 MB (just under the limit) with a wrong token, each from
   its own address (so the per-address limit does not stop them), through the real application;
   reported: the bytes their rows hold (body, reason, headers, path, address, hash) per
   delivery, and what the database grew by.
2. Slow clients: `servicedesk serve` (1 worker), 20 clients that send their headers and then a
   1 MB body one byte every 0.5 s; /healthz timed 100 times while they are connected, and 100
   times with no slow client (the baseline of the same run).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servicedesk import create_app  # noqa: E402
from servicedesk.migrate import upgrade  # noqa: E402
from tests.live import LiveServer  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _database(engine: str, folder: Path) -> tuple[str, object]:
    if engine == "sqlite":
        url = f"sqlite:///{folder / 'bench.sqlite'}"
        upgrade(url)
        return url, None
    name = f"sd_bench_hostile_{int(time.time())}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url, (admin, name)


def _drop(handle: object) -> None:
    if handle is None:
        return
    admin, name = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _database_bytes(engine: sa.Engine, folder: Path) -> int:
    if engine.dialect.name == "sqlite":
        return sum(p.stat().st_size for p in folder.glob("bench.sqlite*"))
    with engine.connect() as conn:
        return int(conn.scalar(sa.text("SELECT pg_database_size(current_database())")))


def refused_megabytes(engine_name: str, deliveries: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, handle = _database(engine_name, folder)
        try:
            app = create_app(
                {
                    "TESTING": True,
                    "DATABASE_URL": url,
                    "PSEUDONYM_KEY": b"bench-pseudonym-key-0123456789",
                    "SECRET_KEY": "bench-secret-key-0123456789",
                }
            )
            engine = app.extensions["servicedesk.engine"]
            client = app.test_client()
            body = b'{"events": [], "padding": "' + b"x" * 999_000 + b'"}'
            before = _database_bytes(engine, folder)
            for n in range(deliveries):
                answer = client.post(
                    "/api/v1/events",
                    data=body,
                    content_type="application/json",
                    headers={"Authorization": "Bearer sdk_wrong"},
                    environ_base={"REMOTE_ADDR": f"198.51.{n // 250}.{n % 250 + 1}"},
                )
                assert answer.status_code == 401, answer.status_code
            if engine.dialect.name == "sqlite":
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            grown = _database_bytes(engine, folder) - before
            with engine.connect() as conn:
                held = conn.scalar(
                    sa.text(
                        "SELECT sum(length(body) + length(coalesce(reason, '')) "
                        "+ length(CAST(headers AS TEXT)) + length(coalesce(path, '')) "
                        "+ length(coalesce(source_address, '')) "
                        "+ length(coalesce(body_sha256, ''))) FROM deliveries"
                    )
                )
                rows = conn.scalar(sa.text("SELECT count(*) FROM deliveries"))
            engine.dispose()
        finally:
            _drop(handle)
    print(
        f"refused 1 MB deliveries ({engine_name}): {rows} kept of {deliveries}; "
        f"{int(held) / rows:,.0f} bytes of columns per delivery; the database grew "
        f"{grown / deliveries:,.0f} bytes per delivery ({len(body):,} bytes sent each)"
    )


def _slow(port: int, stop: threading.Event) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n"
        )
        while not stop.wait(0.5):
            sock.sendall(b" ")
    except OSError:
        pass
    finally:
        sock.close()


def _time_healthz(url: str, n: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(n):
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    return times


def slow_clients(clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, _ = _database("sqlite", folder)
        with LiveServer(url, folder / "server.log", workers=1) as server:
            quiet = _time_healthz(server.url, 100)
            stop = threading.Event()
            threads = [
                threading.Thread(target=_slow, args=(server.port, stop)) for _ in range(clients)
            ]
            for t in threads:
                t.start()
            time.sleep(1)
            busy = _time_healthz(server.url, 100)
            stop.set()
            for t in threads:
                t.join()

    def line(name: str, values: list[float]) -> str:
        q = statistics.quantiles(values, n=100)
        median = statistics.median(values)
        return f"{name}: median {median:.1f} ms, p95 {q[94]:.1f} ms, max {max(values):.1f} ms"

    print(line("/healthz, no slow client", quiet))
    print(line(f"/healthz, {clients} slow clients connected", busy))
    print(f"ratio of medians: {statistics.median(busy) / statistics.median(quiet):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--deliveries", type=int, default=50)
    parser.add_argument("--slow-clients", type=int, default=20)
    args = parser.parse_args()
    for engine in [args.engine] if args.engine else ["sqlite", "postgresql"]:
        refused_megabytes(engine, args.deliveries)
    slow_clients(args.slow_clients)


if __name__ == "__main__":
    main()
