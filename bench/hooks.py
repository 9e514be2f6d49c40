"""Provider webhook throughput (Twilio <Enqueue action>) as a ratio against the generic API.

Both go through the same servicedesk under the same gunicorn (2 sync workers) in the same run,
driven by the same client processes over loopback; each request carries one event. The ratio
shows what signature verification, parsing and the raw-delivery bookkeeping of a provider cost
over the generic path. Goal: at least 0.7; nothing lost.

    python bench/hooks.py [--seconds 10] [--clients 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    cli,
    dumps,
    gunicorn,
    new_sender,
    post_json,
    production_env,
    run_clients,
    stored_events,
    totals,
    write_section,
)
from integrations.twilio import compute_signature  # noqa: E402

AUTH_TOKEN = "bench-twilio-auth-token-0123456789"


def _client(args: tuple[int, str, str, float, str]) -> dict[str, float]:
    """One client process: one event per request, to the generic API or the Twilio webhook."""
    port, kind, target, seconds, prefix = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    accepted = errors = n = 0
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        n += 1
        sid = f"CA{prefix}{n:08d}"
        try:
            if kind == "api":
                body = dumps(
                    {
                        "id": sid,
                        "type": "call.queued",
                        "contact_id": sid,
                        "occurred_at": "2026-05-04T08:00:00+00:00",
                        "caller": f"+4670{n % 100000:07d}",
                    }
                )
                status, _ = post_json(
                    conn, "/api/v1/events", body, {"Authorization": f"Bearer {target}"}
                )
                ok = status == 202
            else:
                # The <Enqueue action> of a call an agent took: one event (its end, the caller).
                fields = {
                    "CallSid": sid,
                    "CallStatus": "in-progress",
                    "Direction": "inbound",
                    "From": f"+4670{n % 100000:07d}",
                    "To": "+4619000000",
                    "QueueResult": "bridged",
                    "QueueSid": "QU00000000000000000000000000000001",
                    "QueueTime": "30",
                }
                path = f"{target}/enqueue"
                signature = compute_signature(
                    AUTH_TOKEN,
                    f"http://127.0.0.1:{port}{path}",
                    {k: [v] for k, v in fields.items()},
                )
                conn.request(
                    "POST",
                    path,
                    body=urlencode(fields),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                )
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            errors += 1
            continue
        accepted += ok
        errors += not ok
    return {"accepted": accepted, "errors": errors, "elapsed": time.monotonic() - started}


def _measure(port: int, kind: str, target: str, seconds: float, clients: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:6]
    results = run_clients(
        _client, [(port, kind, target, seconds, f"{run}{i}") for i in range(clients)]
    )
    return totals(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update benchmarks.md")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sd-bench-hooks-"))
    database_url = f"sqlite:///{tmp / 'bench.sqlite'}"
    env = production_env(database_url)
    token = new_sender(env, "bench", "Bench")
    full_env = {**os.environ, **env}
    hook = cli(
        full_env,
        "integration",
        "add",
        "--org",
        "bench",
        "--provider",
        "twilio",
        "--secret",
        AUTH_TOKEN,
    )
    with gunicorn("servicedesk:create_app()", env) as port:
        api = _measure(port, "api", token, opts.seconds, opts.clients)
        twilio = _measure(port, "twilio", hook, opts.seconds, opts.clients)
    stored = stored_events(database_url)
    accepted = api["accepted"] + twilio["accepted"]
    ratio = twilio["per_s"] / api["per_s"]
    lines = [
        "## Provider webhooks (SQLite)",
        "",
        f"`python bench/hooks.py --seconds {opts.seconds:g} --clients {opts.clients}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}; gunicorn "
        "with 2 sync workers, clients on the same machine over loopback, one event per request.",
        "",
        "| path | deliveries/s | errors |",
        "|---|---:|---:|",
        f"| generic API, bearer token | {api['per_s']:,.0f} | {api['errors']:.0f} |",
        f"| Twilio Enqueue action (X-Twilio-Signature) | {twilio['per_s']:,.0f} | "
        f"{twilio['errors']:.0f} |",
        "",
        f"- Twilio webhook / generic API: **{ratio:.2f}** (goal ≥ 0.7)",
        f"- events accepted: {accepted:,.0f}; stored: {stored:,}; lost: {accepted - stored:,.0f}",
    ]
    text = "\n".join(lines)
    print(text)
    if not opts.no_write:
        write_section("hooks-sqlite", text)
    if stored != accepted:
        raise SystemExit("events were lost")


if __name__ == "__main__":
    main()
