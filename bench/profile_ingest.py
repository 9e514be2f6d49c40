"""Where a delivery's time goes: the whole request profiled in-process, against the bare endpoint.

The same WSGI stack gunicorn calls (``app.wsgi_app`` through the Flask test client, so the
request context, hooks, sessions and the JSON answer are all in it), on a fresh SQLite (or the
``--database-url``) database, with production settings. Prints CPU time per request for the
bare endpoint and for servicedesk, single events and batches of 500, then cProfile's top
functions (cumulative) of each servicedesk run.

    python bench/profile_ingest.py [--single 2000] [--batches 40] [--database-url URL] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import dumps, new_sender, production_env  # noqa: E402
from bench.ingest import _events  # noqa: E402


def _requests(client: Any, token: str, bodies: list[bytes]) -> float:
    """CPU seconds of this process for the requests: steadier than wall time on a machine
    other work shares (SQLite runs in the process, so its work is counted too)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.process_time()
    for body in bodies:
        response = client.post("/api/v1/events", data=body, headers=headers)
        if response.status_code != 202:
            raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)}")
    return time.process_time() - started


def _bodies(count: int, batch: int) -> list[bytes]:
    prefix = uuid.uuid4().hex[:8]
    out = []
    for n in range(count):
        events = _events(prefix, n * batch, batch)
        out.append(dumps(events[0] if batch == 1 else {"events": events}))
    return out


def _profiled(client: Any, token: str, bodies: list[bytes], top: int, label: str) -> float:
    profile = cProfile.Profile()
    profile.enable()
    elapsed = _requests(client, token, bodies)
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
    stats.print_stats(top)
    print(f"\n===== cProfile, {label} (cumulative) =====")
    print(out.getvalue())
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-profile", action="store_true", help="time only")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sd-profile-"))
    env = production_env(
        opts.database_url or f"sqlite:///{tmp / 'bench.sqlite'}", SERVICEDESK_LOG_FORMAT="json"
    )
    token = new_sender(env, f"p{uuid.uuid4().hex[:8]}", "Profile")
    os.environ.update(env)

    from bench.bare_app import app as bare
    from servicedesk import create_app

    app = create_app()
    sd = app.test_client()
    bare_client = bare.test_client()
    devnull = open(os.devnull, "w")  # noqa: SIM115  # the request log is not what is measured
    real_stderr, sys.stderr = sys.stderr, devnull
    try:
        _requests(sd, token, _bodies(50, 1))  # warm: caches, statements, imports
        _requests(bare_client, token, _bodies(50, 1))
        results = {}
        for label, batch, count in (
            ("1 event/request", 1, opts.single),
            ("500 events/request", 500, opts.batches),
        ):
            bare_time = _requests(bare_client, token, _bodies(count, batch))
            sd_time = _requests(sd, token, _bodies(count, batch))
            results[label] = (bare_time / count, sd_time / count, batch)
        profiled = {}
        if not opts.no_profile:
            for label, batch, count in (
                ("1 event/request", 1, opts.single),
                ("500 events/request", 500, opts.batches),
            ):
                sys.stderr = real_stderr
                print(f"profiling {label} ...", file=sys.stderr)
                sys.stderr = devnull
                bodies = _bodies(count, batch)
                profiled[label] = _profiled(sd, token, bodies, opts.top, label) / count
    finally:
        sys.stderr = real_stderr
    print("\nCPU time per request (this process; SQLite's work included):")
    print("\n| run | bare endpoint | servicedesk | ratio (bare/servicedesk) | events/s of CPU |")
    print("|---|---:|---:|---:|---:|")
    for label, (bare_s, sd_s, batch) in results.items():
        print(
            f"| {label} | {bare_s * 1000:.3f} ms | {sd_s * 1000:.3f} ms | "
            f"{bare_s / sd_s:.2f} | {batch / sd_s:,.0f} |"
        )


if __name__ == "__main__":
    main()
