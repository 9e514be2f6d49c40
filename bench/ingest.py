"""Ingest throughput through the real server, as a ratio against a bare Flask endpoint.

Both run under the same gunicorn in the same run, driven by the same client processes over
loopback, so the machine's noise and the HTTP overhead cancel out of the ratio. By default the
gunicorn is configured as ``servicedesk serve`` runs it in production (2 workers of the
``gthread`` class, connections kept alive, so each client keeps one connection open to either
server); ``--worker-class sync`` runs gunicorn's sync workers instead, which close the connection
after every request (a TCP handshake per request for both servers alike).
``--baseline-tree DIR`` also measures another checkout's servicedesk (e.g. main before a change)
on the same database in the same run, after this tree's, for before/after figures.
Goals (issue 2): single-event throughput at least half the bare endpoint's; batches of 500 at
least 25,000 events/s on SQLite; nothing lost (every 202'd event is in the database once).

    python bench/ingest.py [--seconds 10] [--clients 3] [--database-url URL]
                           [--worker-class gthread|sync] [--baseline-tree DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import http.client
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    cli,
    dumps,
    gunicorn,
    post_json,
    run_clients,
    stored_events,
    totals,
    write_section,
)


def _events(prefix: str, start: int, count: int) -> list[dict[str, Any]]:
    base = datetime(2026, 5, 4, 8, tzinfo=UTC)
    out = []
    for n in range(start, start + count):
        kind = ("call.queued", "call.answered", "call.ended")[n % 3]
        event = {
            "id": f"{prefix}-{n}",
            "type": kind,
            "contact_id": f"{prefix}-c{n // 3}",
            "occurred_at": (base + timedelta(seconds=n)).isoformat(),
            "queue": ("Växel", "Bygglov", "Skola")[(n // 3) % 3],
            "caller": f"+4670{n // 3 % 100000:07d}",
        }
        if kind == "call.ended":
            event["direct_answer"] = n % 2 == 0
        out.append(event)
    return out


def _client(args: tuple[int, str, float, int, str]) -> dict[str, float]:
    """One client process: send for ``seconds``; count what the server accepted."""
    port, token, seconds, batch, prefix = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    sent = accepted = errors = requests = 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        events = _events(prefix, sent, batch)
        body = dumps(events[0] if batch == 1 else {"events": events})
        try:
            status, _ = post_json(conn, "/api/v1/events", body, headers)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            errors += 1
            continue
        requests += 1
        if status == 202:
            accepted += batch
            sent += batch
        else:
            errors += 1
    return {
        "accepted": accepted,
        "errors": errors,
        "requests": requests,
        "elapsed": time.monotonic() - started,
    }


def _measure(port: int, token: str, seconds: float, clients: int, batch: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    results = run_clients(
        _client, [(port, token, seconds, batch, f"{run}-{i}") for i in range(clients)]
    )
    return totals(results)


def _servicedesk(
    opts: argparse.Namespace,
    token: str,
    env: dict[str, str],
    server: dict[str, Any],
    tree: str | None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Single events, then batches of 500, through the servicedesk of this tree or of ``tree``."""
    where = str(Path(tree).resolve()) if tree else None
    extra = {"PYTHONPATH": where} if where else {}
    with gunicorn(
        "servicedesk:create_app()", {**env, **extra}, **server, chdir=where or ROOT
    ) as port:
        return (
            _measure(port, token, opts.seconds, opts.clients, 1),
            _measure(port, token, opts.seconds, opts.clients, 500),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-write", action="store_true", help="do not update benchmarks.md")
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--baseline-tree", default="", help="another checkout to measure too")
    parser.add_argument("--baseline-first", action="store_true", help="measure it before this one")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    database_url = opts.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    env = {
        "DATABASE_URL": database_url,
        "SERVICEDESK_ENV": "production",
        "SERVICEDESK_SECRET_KEY": "bench-secret-key-0123456789",
        "SERVICEDESK_PSEUDONYM_KEY": "bench-pseudonym-key-0123456789",
    }
    import os

    full_env = {**os.environ, **env}
    cli(full_env, "db", "upgrade")
    cli(full_env, "org", "create", "--slug", "bench", "--name", "Bench", "--country", "SE")
    token = cli(full_env, "token", "create", "--org", "bench")

    from servicedesk.serve import THREADS

    server = {"worker_class": opts.worker_class, "threads": THREADS}
    load_before = os.getloadavg()
    with gunicorn("bench.bare_app:app", env, **server) as port:
        bare_single = _measure(port, token, opts.seconds, opts.clients, 1)
        bare_batch = _measure(port, token, opts.seconds, opts.clients, 500)
    baseline = None
    if opts.baseline_tree and opts.baseline_first:
        baseline = _servicedesk(opts, token, env, server, opts.baseline_tree)
    single, batch = _servicedesk(opts, token, env, server, None)
    if opts.baseline_tree and not opts.baseline_first:
        baseline = _servicedesk(opts, token, env, server, opts.baseline_tree)
    load_after = os.getloadavg()
    stored = stored_events(database_url)
    accepted = single["accepted"] + batch["accepted"]
    if baseline:
        accepted += baseline[0]["accepted"] + baseline[1]["accepted"]
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    ratio = single["per_s"] / bare_single["per_s"]
    lines = [
        f"## Ingest throughput ({engine})",
        "",
        f"`python bench/ingest.py --seconds {opts.seconds:g} --clients {opts.clients}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"gunicorn with 2 {opts.worker_class} workers"
        + (" (connections kept alive)" if opts.worker_class == "gthread" else "")
        + ", clients on the same machine over loopback; load average (1 min) "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after.",
        "",
        "| run | events/s | requests/s | errors |",
        "|---|---:|---:|---:|",
        f"| bare Flask endpoint, 1 event/request | {bare_single['per_s']:,.0f} | "
        f"{bare_single['requests_per_s']:,.0f} | {bare_single['errors']:.0f} |",
        f"| servicedesk, 1 event/request | {single['per_s']:,.0f} | "
        f"{single['requests_per_s']:,.0f} | {single['errors']:.0f} |",
        f"| bare Flask endpoint, 500 events/request | {bare_batch['per_s']:,.0f} | "
        f"{bare_batch['requests_per_s']:,.0f} | {bare_batch['errors']:.0f} |",
        f"| servicedesk, 500 events/request | {batch['per_s']:,.0f} | "
        f"{batch['requests_per_s']:,.0f} | {batch['errors']:.0f} |",
    ]
    if baseline:
        lines += [
            f"| baseline tree, 1 event/request | {baseline[0]['per_s']:,.0f} | "
            f"{baseline[0]['requests_per_s']:,.0f} | {baseline[0]['errors']:.0f} |",
            f"| baseline tree, 500 events/request | {baseline[1]['per_s']:,.0f} | "
            f"{baseline[1]['requests_per_s']:,.0f} | {baseline[1]['errors']:.0f} |",
        ]
    lines += [
        "",
        f"- single-event ratio to the bare endpoint: **{ratio:.2f}** (goal ≥ 0.5)"
        + (
            f"; the baseline tree's: {baseline[0]['per_s'] / bare_single['per_s']:.2f}"
            if baseline
            else ""
        ),
        f"- batches of 500: **{batch['per_s']:,.0f} events/s** (goal ≥ 25,000 on SQLite)",
        f"- events accepted (202): {accepted:,.0f}; stored in the database: {stored:,}; "
        f"lost: {accepted - stored:,.0f}",
    ]
    text = "\n".join(lines)
    print(text)
    if not opts.no_write:
        write_section(f"ingest-{engine.lower()}", text)
    if stored != accepted:
        raise SystemExit("events were lost")


if __name__ == "__main__":
    main()
