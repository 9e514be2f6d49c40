"""Ingest throughput through the real server, as a ratio against a bare Flask endpoint.

Both run under the same gunicorn in the same run, driven by the same client processes over
loopback, so the machine's noise and the HTTP overhead cancel out of the ratio. By default the
gunicorn is configured as ``servicedesk serve`` runs it in production (2 workers of the
``gthread`` class, connections kept alive, so each client keeps one connection open to either
server); ``--worker-class sync`` runs gunicorn's sync workers instead, which close the connection
after every request (a TCP handshake per request for both servers alike).
``--baseline-tree DIR`` also measures another checkout's servicedesk (e.g. main before a change)
on the same database in the same run, for before/after figures. The servers run side by side
and are measured in turn, a few seconds each, over several rounds (the order turned each
round): on a shared machine whose speed changes by half from one minute to the next, a server
measured alone for ten seconds got another machine than the one it was compared with.
Goals (issue 2): single-event throughput at least half the bare endpoint's; batches of 500 at
least 25,000 events/s on SQLite; nothing lost (every 202'd event is in the database once).

    python bench/ingest.py [--seconds 4] [--rounds 3] [--clients 3] [--database-url URL]
                           [--worker-class gthread|sync] [--baseline-tree DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
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
    dumps,
    gunicorn,
    live_start,
    new_sender,
    post_json,
    production_env,
    run_clients,
    stored_events,
    totals,
    write_section,
)

#: The events' first moment: in the running month, as live traffic is (``live_start``).
_START = live_start()


def _events(prefix: str, start: int, count: int) -> list[dict[str, Any]]:
    base = _START
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


def _server(
    stack: contextlib.ExitStack, app: str, env: dict[str, str], server: dict[str, Any], tree: str
) -> int:
    """A gunicorn serving ``app`` from this tree or from ``tree``, up until the stack closes."""
    where = str(Path(tree).resolve()) if tree else None
    extra = {"PYTHONPATH": where} if where else {}
    return stack.enter_context(gunicorn(app, {**env, **extra}, **server, chdir=where or ROOT))


def _settle(database_url: str) -> None:
    """Before each server's turn: write out what the server measured before left in the
    database's log (PostgreSQL's CHECKPOINT, SQLite's WAL checkpoint) and, on PostgreSQL,
    bring the planner's statistics up to date, so that no server pays for what another left.
    Without it, on PostgreSQL, the same code measured as "servicedesk" and as the baseline
    tree in one run got 7,664 and 22,059 batch events/s: the position decided, not the code."""
    import sqlalchemy as sa

    if database_url.startswith("postgres"):
        engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
            # Statistics as the tables are now: a plan cached while they were nearly empty
            # (a scan of the whole table) would otherwise stay until autovacuum's ANALYZE,
            # a minute later, and only the servers that happened to cache it would pay.
            conn.exec_driver_sql("ANALYZE")
    else:
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def _rounds(
    ports: dict[str, int], token: str, opts: argparse.Namespace, batch: int, database_url: str
) -> tuple[dict[str, dict[str, float]], list[float]]:
    """Each server in turn for ``seconds``, ``rounds`` times over (the order turned each round),
    so that the machine's slow and fast moments fall on every server alike. Returns each
    server's totals over all rounds and each round's single-event ratio (servicedesk / bare)."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
    names = list(ports)
    ratios = []
    for round_ in range(opts.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        measured = {}
        for name in order:
            _settle(database_url)
            measured[name] = _measure(ports[name], token, opts.seconds, opts.clients, batch)
        for name, result in measured.items():
            runs[name].append(result)
        ratios.append(measured["servicedesk"]["per_s"] / measured["bare"]["per_s"])
    out = {}
    for name, results in runs.items():
        elapsed = sum(r["elapsed"] for r in results)
        requests = sum(r["requests_per_s"] * r["elapsed"] for r in results)
        accepted = sum(r["accepted"] for r in results)
        out[name] = {
            "per_s": accepted / elapsed if elapsed else 0.0,
            "requests_per_s": requests / elapsed if elapsed else 0.0,
            "accepted": accepted,
            "errors": sum(r["errors"] for r in results),
        }
    return out, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--batches-only",
        action="store_true",
        help="batches of 500 only (no single-event rounds fill the database first)",
    )
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-write", action="store_true", help="do not update benchmarks.md")
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--baseline-tree", default="", help="another checkout to measure too")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    database_url = opts.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    env = production_env(database_url)
    token = new_sender(env, "bench", "Bench")
    from bench.bare_write_app import create_table

    create_table(database_url)

    from servicedesk.serve import THREADS

    server = {"worker_class": opts.worker_class, "threads": THREADS}
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        ports = {
            "bare": _server(stack, "bench.bare_app:app", env, server, ""),
            "bare_write": _server(stack, "bench.bare_write_app:app", env, server, ""),
            "servicedesk": _server(stack, "servicedesk:create_app()", env, server, ""),
        }
        if opts.baseline_tree:
            ports["baseline"] = _server(
                stack, "servicedesk:create_app()", env, server, opts.baseline_tree
            )
        single, single_ratios = (
            ({}, []) if opts.batches_only else _rounds(ports, token, opts, 1, database_url)
        )
        batch, _ = _rounds(ports, token, opts, 500, database_url)
    load_after = os.getloadavg()
    stored = stored_events(database_url)
    stores_events = ("servicedesk", "baseline")
    accepted = sum(r["accepted"] for name, r in single.items() if name in stores_events)
    accepted += sum(r["accepted"] for name, r in batch.items() if name in stores_events)
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    labels = {
        "bare": "bare Flask endpoint",
        "bare_write": "bare Flask endpoint + one INSERT",
        "servicedesk": "servicedesk",
        "baseline": "baseline tree",
    }
    rows = []
    for size, results in (("1 event/request", single), ("500 events/request", batch)):
        for name, r in results.items():
            rows.append(
                f"| {labels[name]}, {size} | {r['per_s']:,.0f} | {r['requests_per_s']:,.0f} "
                f"| {r['errors']:.0f} |"
            )
    lines = [
        f"## Ingest throughput ({engine})",
        "",
        f"`python bench/ingest.py --seconds {opts.seconds:g} --rounds {opts.rounds} --clients "
        f"{opts.clients}{' --batches-only' if opts.batches_only else ''}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; gunicorn with 2 {opts.worker_class} workers"
        + (" (connections kept alive)" if opts.worker_class == "gthread" else "")
        + ", clients on the same machine over loopback; each server measured in turn for "
        f"{opts.seconds:g} s, {opts.rounds} rounds; load average (1 min) {load_before[0]:.1f} "
        f"before, {load_after[0]:.1f} after.",
        "",
        "| run | events/s | requests/s | errors |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        *([] if opts.batches_only else _single_lines(single, single_ratios)),
        f"- batches of 500: **{batch['servicedesk']['per_s']:,.0f} events/s** "
        "(goal ≥ 25,000 on SQLite)"
        + (
            f"; the baseline tree's: {batch['baseline']['per_s']:,.0f}"
            if "baseline" in batch
            else ""
        ),
        f"- events accepted (202): {accepted:,.0f}; stored in the database: {stored:,}; "
        f"lost: {accepted - stored:,.0f}",
    ]
    text = "\n".join(lines)
    print(text)
    if not opts.no_write:
        section = f"ingest-{engine.lower()}" + ("-batches" if opts.batches_only else "")
        write_section(section, text)
    if stored != accepted:
        raise SystemExit("events were lost")


def _single_lines(single: dict[str, dict[str, float]], ratios: list[float]) -> list[str]:
    ratio = single["servicedesk"]["per_s"] / single["bare"]["per_s"]
    floor = single["servicedesk"]["per_s"] / single["bare_write"]["per_s"]
    return [
        f"- single-event ratio to the bare endpoint: **{ratio:.2f}** (goal ≥ 0.5); by round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + (
            f"; the baseline tree's: {single['baseline']['per_s'] / single['bare']['per_s']:.2f}"
            if "baseline" in single
            else ""
        ),
        f"- single events against the bare endpoint that stores each body in one INSERT "
        f"(`bench/bare_write_app.py`, the floor of a durable write): **{floor:.2f}**; that "
        f"endpoint against the bare one: "
        f"{single['bare_write']['per_s'] / single['bare']['per_s']:.2f}",
    ]


if __name__ == "__main__":
    main()
