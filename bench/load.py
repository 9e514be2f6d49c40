"""A steady load through gunicorn on PostgreSQL: latency percentiles, errors, and nothing lost.

Client processes send one event per request on a fixed schedule (open loop: a slow answer does not
slow the schedule down, so queueing shows up in the latency instead of hiding). Latency is measured
from the moment a request was due, not from when it was sent. Anything other than a 2xx is
counted and retried until accepted; at the end every event must be in the database exactly once.

    python bench/load.py [--seconds 600] [--rate 500] [--workers 4] [--clients 4]
                         [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import dumps, live_start, post_json, run_clients, write_section  # noqa: E402
from servicedesk.ingest.models import Event  # noqa: E402
from tests.live import LiveServer, make_batches, prepare_org  # noqa: E402


def _client(args: tuple[int, int, str, float, float, int, str]) -> dict[str, Any]:
    """One client process: its share of the schedule; latencies and every answer's status."""
    index, clients, token, rate, seconds, port, prefix = args
    # A server that cannot keep up would make the run last for ever: stop scheduling at 3x.
    cap = time.monotonic() + 3 * seconds + 30
    interval = clients / rate
    count = int(seconds * rate / clients)
    events = [b[0] for b in make_batches(f"{prefix}-{index}", count, size=1, start=live_start())]
    headers = {"Authorization": f"Bearer {token}"}
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    service: list[float] = []
    connection_errors = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    # Clients start staggered across one interval so their requests interleave evenly.
    start = time.monotonic() + 0.5 + index * interval / clients
    sent_ids: list[str] = []
    for n, event in enumerate(events):
        if time.monotonic() > cap:
            break
        due = start + n * interval
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        body = dumps(event)
        began = time.monotonic()
        while True:
            try:
                status, _ = post_json(conn, "/api/v1/events", body, headers)
            except (OSError, http.client.HTTPException):
                connection_errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.2)
                continue
            statuses[status] = statuses.get(status, 0) + 1
            if 200 <= status < 300:
                break
            time.sleep(0.2)
        latencies.append(time.monotonic() - due)
        service.append(time.monotonic() - began)
        sent_ids.append(event["id"])
    finished = time.monotonic()
    return {
        "ids": sent_ids,
        "unsent": len(events) - len(sent_ids),
        "statuses": statuses,
        "latencies": latencies,
        "service": service,
        "connection_errors": connection_errors,
        "started": start,
        "finished": finished,
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _database(admin_url: str) -> tuple[str, sa.Engine]:
    name = f"sd_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, admin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--rate", type=float, default=500, help="events (requests) per second")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    # On SIGTERM (a timeout, Ctrl-C from a supervisor) still stop the server and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    load_before = os.getloadavg()[0]

    url, _admin = _database(args.admin_url)
    try:
        return _run(args, url, load_before)
    finally:
        if not args.keep:
            drop = sa.create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            with drop.connect() as conn:
                name = url.rsplit("/", 1)[1]
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            drop.dispose()


def _commit_ms(engine: sa.Engine, rounds: int = 200) -> float:
    """The median time of one durable commit on this database (a one-row INSERT and COMMIT in a
    logged table): what the server's WAL flush costs on this disk. Each delivery is one such
    commit, and each client process waits for its answer before it sends the next, so
    ``clients / commit time`` bounds the rate whatever the CPU does (less what group commit
    shares between transactions committing at the same moment)."""
    times = []
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS bench_commit_probe (n integer)")
        conn.commit()
        for n in range(rounds):
            started = time.perf_counter()
            conn.exec_driver_sql(f"INSERT INTO bench_commit_probe VALUES ({n})")
            conn.commit()
            times.append(time.perf_counter() - started)
        conn.exec_driver_sql("DROP TABLE bench_commit_probe")
        conn.commit()
    return _percentile(times, 0.5) * 1000


#: Events sent before the measured run, and how their ids begin (they are not counted).
WARM_UP_EVENTS = 1_500
WARM_UP_PREFIX = "warm-up-"


def _warm_up(port: int, token: str, engine: sa.Engine) -> None:
    """Some traffic, then ANALYZE, as a database in service has statistics.

    The database is new: until autovacuum first analyses it (a minute or more), PostgreSQL has
    no statistics, and the plans the server's connections prepare in that time read every event
    of the organisation to fold one contact (a plan for tables it believes nearly empty): the
    fold's read grew with the run, 262 buffers and 2 ms at 10,000 events against 5 buffers and
    0.04 ms once analysed (issue 17, fifth round). Runs of 30 s measured that minute only.
    ANALYZE makes PostgreSQL plan the statements again.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    batches = make_batches(WARM_UP_PREFIX, WARM_UP_EVENTS, size=1, start=live_start())
    for batch in batches:
        status, _ = post_json(conn, "/api/v1/events", dumps(batch[0]), headers)
        if status != 202:
            raise SystemExit(f"warm-up delivery answered {status}")
    conn.close()
    with engine.connect() as db:
        db.execute(sa.text("ANALYZE"))
        db.commit()


def _run(args: argparse.Namespace, url: str, load_before: float) -> int:
    engine, token = prepare_org(url, "load")
    commit_ms = _commit_ms(engine)
    log = Path(tempfile.mkdtemp(prefix="sd-load-")) / "server.log"
    prefix = uuid.uuid4().hex[:6]
    with LiveServer(url, log, workers=args.workers) as server:
        _warm_up(server.port, token, engine)
        jobs = [
            (i, args.clients, token, args.rate, args.seconds, server.port, prefix)
            for i in range(args.clients)
        ]
        results = run_clients(_client, jobs)
    measured = Event.event_id.not_like(f"{WARM_UP_PREFIX}%")
    with engine.connect() as conn:
        stored_rows = (
            conn.scalar(sa.select(sa.func.count()).select_from(Event).where(measured)) or 0
        )
        stored_ids = set(conn.scalars(sa.select(Event.event_id).where(measured)))
    engine.dispose()

    sent = {i for r in results for i in r["ids"]}
    latencies = [x for r in results for x in r["latencies"]]
    service = [x for r in results for x in r["service"]]
    statuses: dict[int, int] = {}
    for r in results:
        for status, n in r["statuses"].items():
            statuses[int(status)] = statuses.get(int(status), 0) + n
    span = max(r["finished"] for r in results) - min(r["started"] for r in results)
    figures = {
        "seconds": round(span, 1),
        "target_rate": args.rate,
        "achieved_rate": round(len(sent) / span, 1),
        "events_sent": len(sent),
        "events_stored": stored_rows,
        "lost": len(sent - stored_ids),
        "stored_twice": stored_rows - len(stored_ids),
        "responses_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "responses_other_non_2xx": sum(n for s, n in statuses.items() if 300 <= s < 500),
        "connection_errors": sum(r["connection_errors"] for r in results),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p90_ms": round(_percentile(latencies, 0.90) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "service_p50_ms": round(_percentile(service, 0.50) * 1000, 1),
        "service_p99_ms": round(_percentile(service, 0.99) * 1000, 1),
        "unsent_at_time_cap": sum(r["unsent"] for r in results),
        "load_average_before": round(load_before, 1),
        "load_average_after": round(os.getloadavg()[0], 1),
        "gunicorn_workers": args.workers,
        "client_processes": args.clients,
        "durable_commit_ms": round(commit_ms, 2),
        "commit_bound_rate": round(args.clients * 1000 / commit_ms),
    }
    print(json.dumps(figures, indent=2))
    ok = figures["lost"] == 0 and figures["stored_twice"] == 0 and figures["responses_5xx"] == 0
    if not args.no_write:
        _write(figures)
    return 0 if ok else 1


def _write(f: dict[str, Any]) -> None:
    cpu = os.cpu_count()
    due = f"{f['p50_ms']} / {f['p90_ms']} / {f['p99_ms']} / {f['max_ms']}"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    commit, bound = f["durable_commit_ms"], f["commit_bound_rate"]
    write_section(
        f"load-{f['target_rate']:.0f}",
        f"""## Steady load, {f["target_rate"]:.0f} events/s, gunicorn, PostgreSQL (`bench/load.py`)

One event per request at a fixed rate (open loop; latency counted from when each request was
due, so queueing is not hidden), {f["gunicorn_workers"]} gunicorn workers of `servicedesk serve`
(gthread, as in production), PostgreSQL on the same machine, {f["client_processes"]} client
processes; every answer other than 2xx retried until accepted; then every event checked in the
database. Before the run, {WARM_UP_EVENTS:,} events and ANALYZE (`_warm_up`: a database in
service has statistics; a new one has none until autovacuum's first pass).
Measured {when} on {platform.machine()}, {cpu} cores, shared with the clients and PostgreSQL.

| figure | value |
|---|---|
| duration | {f["seconds"]} s |
| target rate | {f["target_rate"]:.0f} events/s |
| achieved rate | {f["achieved_rate"]} events/s |
| events sent | {f["events_sent"]} |
| events stored | {f["events_stored"]} |
| lost | {f["lost"]} |
| stored twice | {f["stored_twice"]} |
| 5xx answers | {f["responses_5xx"]} |
| other non-2xx answers | {f["responses_other_non_2xx"]} |
| connection errors | {f["connection_errors"]} |
| events not sent (time cap: 3x the duration) | {f["unsent_at_time_cap"]} |
| machine load average before / after | {f["load_average_before"]} / {f["load_average_after"]} |
| latency from when due, p50 / p90 / p99 / max | {due} ms |
| latency from send to 2xx, p50 / p99 | {f["service_p50_ms"]} / {f["service_p99_ms"]} ms |
| one durable commit on this database (median of 200, before the run) | {commit} ms |
| rate the commits allow the waiting clients (clients / commit time) | {bound} events/s |

The full 10-minute run: `python bench/load.py --seconds 600`.
""",
    )


if __name__ == "__main__":
    raise SystemExit(main())
