"""Real processes for the fault tests: a gunicorn server, a throwaway PostgreSQL, a retrying sender.

Shared by the fault tests in ``tests/`` and the long runs in ``bench/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent

#: The pseudonymisation and secret keys a live server runs with (production needs real ones).
LIVE_ENV = {
    "SERVICEDESK_ENV": "production",
    "SERVICEDESK_SECRET_KEY": "live-test-secret-key-0123456789",
    "SERVICEDESK_PSEUDONYM_KEY": "test-pseudonym-key-0123456789",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``servicedesk serve`` in its own process group, so that kill -9 takes master and workers."""

    def __init__(self, database_url: str, log_path: Path, *, workers: int = 2, **env: str) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        env = {**os.environ, **LIVE_ENV, "DATABASE_URL": self.database_url, **self.env}
        command = [sys.executable, "-c", "from servicedesk.cli import main; main()", "serve"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not answer: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole group: no graceful shutdown, requests in flight are cut."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; drop to the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def pg_bin(name: str) -> str:
    """A PostgreSQL server binary (they are not always on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise FileNotFoundError(f"{name} not found (install PostgreSQL)")


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own in a temporary folder, to stop and start at will."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sd-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        subprocess.run(_as_postgres(list(command)), check=True, capture_output=True, timeout=60)

    def init(self) -> ThrowawayPostgres:
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        self._run(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.dir / "log"),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database in this cluster; returns its URL."""
        import sqlalchemy as sa

        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def prepare_org(url: str, slug: str) -> tuple[Any, str]:
    """Migrate the database at ``url`` and give it one organisation; (engine, ingest token)."""
    from sqlmodel import Session

    from servicedesk.db import make_engine
    from servicedesk.ingest.tokens import create_token
    from servicedesk.migrate import upgrade
    from servicedesk.orgs.operations import create_organisation

    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        org = create_organisation(session, slug=slug, name=slug.title(), country="SE")
        _, token = create_token(session, org)
        session.commit()
    return engine, token


@dataclass
class SendLog:
    """What a sender saw: every status per event id, and the ids that got a 2xx."""

    statuses: Counter[int] = field(default_factory=Counter)
    acked: set[str] = field(default_factory=set)
    connection_errors: int = 0
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send_until_acked(
    url: Callable[[], str],
    token: str,
    batches: Iterable[list[dict[str, Any]]],
    log: SendLog,
    *,
    deadline: float,
    timeout: float = 5.0,
) -> None:
    """Send each batch, retrying until it gets a 2xx (the sender's side of at-least-once).

    Any answer other than 2xx or 503-with-Retry-After is recorded in ``log.bad``.
    """
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=timeout) as client:
        for batch in batches:
            body = batch[0] if len(batch) == 1 else {"events": batch}
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("events still unacknowledged at the deadline")
                try:
                    response = client.post(url() + "/api/v1/events", json=body, headers=headers)
                except httpx.HTTPError:
                    with log.lock:
                        log.connection_errors += 1
                    time.sleep(0.05)
                    continue
                with log.lock:
                    log.statuses[response.status_code] += 1
                    if 200 <= response.status_code < 300:
                        log.acked.update(e["id"] for e in batch)
                    elif response.status_code != 503 or "Retry-After" not in response.headers:
                        log.bad.append(
                            (
                                response.status_code,
                                response.headers.get("content-type", ""),
                                response.text[:300],
                            )
                        )
                if 200 <= response.status_code < 300:
                    break
                time.sleep(0.05)


def run_senders(
    url: Callable[[], str],
    token: str,
    batches: list[list[dict[str, Any]]],
    *,
    threads: int,
    deadline: float,
) -> tuple[SendLog, list[threading.Thread], list[BaseException]]:
    """Start ``threads`` senders sharing the batches round-robin; returns before they finish."""
    log = SendLog()
    errors: list[BaseException] = []

    def _work(part: list[list[dict[str, Any]]]) -> None:
        try:
            send_until_acked(url, token, part, log, deadline=deadline)
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)

    workers = [
        threading.Thread(target=_work, args=(batches[n::threads],), daemon=True)
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    return log, workers, errors


def make_batches(
    prefix: str, count: int, size: int = 1, start: datetime | None = None
) -> list[list[dict[str, Any]]]:
    """``count`` batches of ``size`` valid call events with unique ids, from ``start`` a
    second apart (by default from 1 June 2026 10:00 CEST, within the hour)."""
    batches = []
    for n in range(count):
        batch = []
        for k in range(size):
            i = n * size + k
            batch.append(
                {
                    "id": f"{prefix}-{i}",
                    "type": ("call.queued", "call.answered", "call.ended")[i % 3],
                    "contact_id": f"{prefix}-c{i // 3}",
                    "occurred_at": (
                        f"2026-06-01T10:{(i // 60) % 60:02d}:{i % 60:02d}+02:00"
                        if start is None
                        else (start + timedelta(seconds=i)).isoformat()
                    ),
                    "queue": "Växel",
                    "caller": f"+4670{i % 1000:07d}",
                }
            )
        batches.append(batch)
    return batches
