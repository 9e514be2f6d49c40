"""Faults with real processes: a server killed with SIGKILL, PostgreSQL stopped under load, and
SQLite with four workers writing at once. Nothing acknowledged may be lost, nothing stored twice.

Short runs here; the long versions are ``bench/soak.py`` (``make soak``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from servicedesk.contacts.models import Contact
from servicedesk.db import lock_key
from servicedesk.ingest.models import Event
from servicedesk.reports.models import Report
from servicedesk.timeutil import utcnow
from tests.helpers import event, post
from tests.live import (
    LIVE_ENV,
    LiveServer,
    ThrowawayPostgres,
    make_batches,
    prepare_org,
    run_senders,
)

#: Fault injection (kill -9, PostgreSQL stopped) under load: make test-all and CI.
pytestmark = pytest.mark.slow


def _stored(engine: sa.Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(conn.scalars(sa.select(Event.event_id)))


def _contacts(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(Contact)) or 0)


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _join(threads) -> None:
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()


def _assert_exactly_once(engine: sa.Engine, batches, acked_at_kill: set[str]) -> None:
    stored = _stored(engine)
    every_id = {e["id"] for batch in batches for e in batch}
    assert acked_at_kill <= set(stored), "an acknowledged event was lost"
    assert set(stored) == every_id
    assert max(stored.values()) == 1
    assert _contacts(engine) == len({e["contact_id"] for batch in batches for e in batch})


def test_kill_9_under_load_loses_nothing_and_stores_nothing_twice(
    database_url: str, token: str, app, tmp_path: Path
) -> None:
    engine = app.extensions["servicedesk.engine"]
    batches = make_batches("k9", 300, size=4)
    server = LiveServer(database_url, tmp_path / "server.log", workers=2).start()
    try:
        log, threads, errors = run_senders(
            lambda: server.url, token, batches, threads=4, deadline=time.monotonic() + 90
        )
        acked_at_kill: set[str] = set()
        for stop_after in (150, 600):
            _wait_for(lambda n=stop_after: len(log.acked) >= n)
            server.kill()
            with log.lock:
                acked_at_kill |= log.acked
            time.sleep(0.2)
            server.start()
        _join(threads)
    finally:
        server.kill()
    assert not errors and not log.bad
    assert log.connection_errors > 0, "the kill cut no request: the test proved nothing"
    _assert_exactly_once(engine, batches, acked_at_kill)


@pytest.fixture(scope="session")
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    """A cluster of our own, so stopping it disturbs nobody else's tests."""
    pg = ThrowawayPostgres().init()
    pg.start()
    yield pg
    pg.destroy()


def test_postgresql_stopped_under_load_answers_503_and_loses_nothing(
    throwaway_pg: ThrowawayPostgres, tmp_path: Path
) -> None:
    url = throwaway_pg.create_database(f"outage_{time.monotonic_ns()}")
    engine, token = prepare_org(url, "faults")
    batches = make_batches("pg", 200, size=3)
    server = LiveServer(url, tmp_path / "server.log", workers=2).start()
    try:
        log, threads, errors = run_senders(
            lambda: server.url, token, batches, threads=3, deadline=time.monotonic() + 90
        )
        _wait_for(lambda: len(log.acked) >= 100)
        throwaway_pg.stop("fast")
        with log.lock:
            acked_at_stop = set(log.acked)
        _wait_for(lambda: log.statuses[503] >= 6)
        throwaway_pg.start()
        _join(threads)
    finally:
        server.kill()
    assert not errors
    assert log.bad == [], "an answer other than 2xx or 503 with Retry-After"
    assert 500 not in log.statuses
    assert log.statuses[503] >= 6
    _assert_exactly_once(engine, batches, acked_at_stop)
    engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_sqlite_with_four_workers_never_shows_a_lock_to_clients(
    database_url: str, token: str, app, tmp_path: Path
) -> None:
    engine = app.extensions["servicedesk.engine"]
    batches = make_batches("lk", 400, size=1) + make_batches("lb", 40, size=20)
    server = LiveServer(database_url, tmp_path / "server.log", workers=4).start()
    try:
        log, threads, errors = run_senders(
            lambda: server.url, token, batches, threads=8, deadline=time.monotonic() + 90
        )
        _join(threads)
    finally:
        server.kill()
    assert not errors
    assert set(log.statuses) == {202}, f"clients saw {dict(log.statuses)}: {log.bad[:3]}"
    assert log.connection_errors == 0
    assert "locked" not in (tmp_path / "server.log").read_text()
    _assert_exactly_once(engine, batches, log.acked)


def _month_lock_key(org_id: int, month: str) -> int:
    """The advisory lock the report generator takes for one organisation's month."""
    return lock_key(f"report:{org_id}:{month}")


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_scheduler_killed_in_the_middle_of_a_report_makes_it_once_on_restart(
    database_url: str, org, token: str, client, app, tmp_path: Path
) -> None:
    # Two months whose reports are due whatever today is: three and two months ago.
    today = utcnow().date()
    index = today.year * 12 + today.month - 1
    months = [f"{(index - k) // 12}-{(index - k) % 12 + 1:02d}" for k in (3, 2)]
    for n, month in enumerate(months):
        queued = event("call.queued", contact_id=f"c{n}", at=f"{month}-14T10:00:00+02:00")
        assert post(client, token, queued).status_code == 202
    engine = app.extensions["servicedesk.engine"]
    env = {**os.environ, **LIVE_ENV, "DATABASE_URL": database_url}
    once = [sys.executable, "-c", "from servicedesk.cli import main; main()", "scheduler", "--once"]
    # Another generator holds the first month's lock: the scheduler is stuck mid-transaction.
    holder = engine.connect()
    holder.execute(
        sa.text("SELECT pg_advisory_lock(:k)"), {"k": _month_lock_key(org.id, months[0])}
    )
    stuck = subprocess.Popen(
        once, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%pg_advisory_xact_lock%'"
        )

        def stuck_on_the_lock() -> bool:
            assert stuck.poll() is None, "the scheduler finished instead of waiting"
            with engine.connect() as conn:  # a new snapshot of pg_stat_activity each time
                return conn.execute(waiting).scalar() == 1

        _wait_for(stuck_on_the_lock)
        os.killpg(stuck.pid, signal.SIGKILL)
        stuck.wait(timeout=10)
    finally:
        holder.execute(sa.text("SELECT pg_advisory_unlock_all()"))
        holder.commit()
        holder.close()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    for _ in range(2):  # the restart completes it; a second run changes nothing
        done = subprocess.run(once, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    with engine.connect() as conn:
        versions = conn.execute(
            sa.select(Report.month, Report.version).order_by(Report.month)
        ).all()
    made = [tuple(v) for v in versions]
    assert {(months[0], 1), (months[1], 1)} <= set(made)
    assert all(version == 1 for _, version in made) and len(made) == len(set(made))
