"""The long fault runs (``make soak``): many kill -9 of the server, PostgreSQL restarts, under load.

The short versions run in the test suite (tests/test_faults.py). Each scenario sends events with
retries until every one is acknowledged, then checks that every event is stored exactly once.

    python bench/soak.py [--cycles 20] [--events 20000] [--scenario kill|pg|both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servicedesk.ingest.models import Event  # noqa: E402
from tests.live import (  # noqa: E402
    LiveServer,
    ThrowawayPostgres,
    make_batches,
    prepare_org,
    run_senders,
)

LINES: list[str] = []


def _report(name: str, engine: sa.Engine, batches, log, seconds: float) -> bool:
    with engine.connect() as conn:
        stored = Counter(conn.scalars(sa.select(Event.event_id)))
    sent = {e["id"] for b in batches for e in b}
    lost = len(sent - set(stored))
    twice = sum(1 for v in stored.values() if v > 1)
    fives = sum(n for status, n in log.statuses.items() if status >= 500 and status != 503)
    LINES.append(
        f"{name}: events sent {len(sent)}, stored {len(stored)}, lost {lost}, "
        f"stored twice {twice}, "
        f"503 {log.statuses[503]}, other 5xx {fives}, connection errors {log.connection_errors}, "
        f"bad answers {len(log.bad)}, {seconds:.0f} s"
    )
    print(LINES[-1])
    return lost == 0 and twice == 0 and fives == 0 and not log.bad


def _drive(server_url, token, batches, log_fault, cycles: int, every: int):
    log, threads, errors = run_senders(
        server_url, token, batches, threads=6, deadline=time.monotonic() + 3600
    )
    for n in range(1, cycles + 1):
        while len(log.acked) < n * every and any(t.is_alive() for t in threads):
            time.sleep(0.02)
        log_fault()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return log


def soak(name: str, events: int, cycles: int, work: Path) -> bool:
    """One scenario ("kill" or "pg") on a PostgreSQL cluster of its own."""
    pg = ThrowawayPostgres().init()
    pg.start()
    try:
        url = pg.create_database("soak")
        engine, token = prepare_org(url, "soak")
        batches = make_batches(name, events // 5, size=5)
        server = LiveServer(url, work / f"{name}.log", workers=2).start()

        def outage() -> None:
            pg.stop("fast")
            time.sleep(2)
            pg.start()

        fault = server.restart if name == "kill" else outage
        started = time.monotonic()
        try:
            log = _drive(lambda: server.url, token, batches, fault, cycles, events // (cycles + 1))
        finally:
            server.kill()
        label = "kill -9" if name == "kill" else "postgresql restart"
        return _report(label, engine, batches, log, time.monotonic() - started)
    finally:
        pg.destroy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--scenario", choices=["kill", "pg", "both"], default="both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sd-soak-"))
    ok = True
    for name in ("kill", "pg"):
        if args.scenario in (name, "both"):
            ok &= soak(name, args.events, args.cycles, work)
    print("OK" if ok else "FAILED", f"(server logs in {work})")
    from bench.common import write_section

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    write_section(
        "soak",
        f"## Fault soak (`make soak`, `bench/soak.py`)\n\n"
        f"{args.cycles} faults per scenario, {args.events} events each (batches of 5, 6 senders "
        f"retrying until 2xx), a throwaway PostgreSQL; measured {when}.\n\n"
        + "\n".join(f"- {line}" for line in LINES),
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
