"""Shared pieces of the benchmarks: servers on loopback, client processes, the results file."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "docs" / "benchmarks.md"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str = "/", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not come up")


@contextmanager
def gunicorn(
    app: str,
    env: dict[str, str],
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    chdir: str | Path = ROOT,
) -> Iterator[int]:
    """A gunicorn on a free loopback port, stopped afterwards.

    ``worker_class="sync"``: one request at a time per worker and no keep-alive (gunicorn's sync
    workers close every connection). ``"gthread"``: what ``servicedesk serve`` runs in production
    (``servicedesk/serve.py``): ``threads`` per worker and connections kept alive for 5 s.
    """
    port = free_port()
    options = ["-k", worker_class]
    if worker_class == "gthread":
        options += ["--threads", str(threads), "--keep-alive", "5"]
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            *options,
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env={**os.environ, **env},
        cwd=chdir,
    )
    try:
        wait_for(port, "/healthz")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def post_json(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    return response.status, response.read()


def run_clients(
    worker: Callable[[tuple[Any, ...]], dict[str, float]], args: list[tuple[Any, ...]]
) -> list[dict[str, float]]:
    with Pool(len(args)) as pool:
        return pool.map(worker, args)


def write_section(name: str, text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, leaving the others alone."""
    RESULTS.parent.mkdir(exist_ok=True)
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    current = (
        pattern.sub(lambda _: block, current)
        if pattern.search(current)
        else (current.rstrip() + "\n\n" + block + "\n")
    )
    RESULTS.write_text(current)


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def cli(env: dict[str, str], *args: str) -> str:
    """Run ``servicedesk ARGS`` and return the last line it printed (a token, a URL path)."""
    out = subprocess.run(
        [str(BIN / "servicedesk"), *args], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def live_start() -> datetime:
    """When a benchmark's events begin: 08:00 on the first day of the running month in Sweden.

    Live traffic is in the running month. Events of a closed month also mark the closed months'
    figures stale (a tombstone per month up to the running one, in the same transaction); the
    benchmarks once used fixed dates (May and June 2026), which became closed months as the
    calendar moved on, so every delivery of theirs paid five or six tombstones that live
    traffic never pays (issue 17, fifth round).
    """
    now = datetime.now(STOCKHOLM)
    return now.replace(day=1, hour=8, minute=0, second=0, microsecond=0).astimezone(UTC)


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a benchmark runs servicedesk in: production settings, the bench's keys."""
    return {
        "DATABASE_URL": database_url,
        "SERVICEDESK_ENV": "production",
        "SERVICEDESK_SECRET_KEY": "bench-secret-key-0123456789",
        "SERVICEDESK_PSEUDONYM_KEY": "bench-pseudonym-key-0123456789",
        **extra,
    }


def new_sender(env: dict[str, str], slug: str, name: str) -> str:
    """The database brought up to date, an organisation made in it; its new ingest token."""
    full_env = {**os.environ, **env}
    cli(full_env, "db", "upgrade")
    cli(full_env, "org", "create", "--slug", slug, "--name", name, "--country", "SE")
    return cli(full_env, "token", "create", "--org", slug)


def stored_events(database_url: str) -> int:
    """How many events the database holds (the "nothing lost" check)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    return int(count)


def totals(results: list[dict[str, float]]) -> dict[str, float]:
    """The client processes' counts added up, and accepted events per second of the longest."""
    elapsed = max(r["elapsed"] for r in results)
    accepted = sum(r["accepted"] for r in results)
    return {
        "per_s": accepted / elapsed,
        "requests_per_s": sum(r.get("requests", 0) for r in results) / elapsed,
        "accepted": accepted,
        "errors": sum(r["errors"] for r in results),
        "elapsed": elapsed,
    }


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """The shortest of ``repeat`` timings of ``fn`` in seconds: the least disturbed run on a
    shared machine."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)
