"""``servicedesk calls import`` of a generated 100,000-row call list: rows/s, and the re-import.

The command is run as an operator runs it (a subprocess on a fresh database), timed from start
to exit; then the same file again (every call a duplicate). As a baseline in the same run, the
same calls go in as generic events through ``ingest_events`` in batches of 1000 (the events
API without HTTP) on another fresh database, so the ratio says what reading and mapping a file
costs on top of the ingest path itself.

    python bench/callimport.py [--rows 100000] [--database-url URL] [--write]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BIN, write_section  # noqa: E402

QUEUES = ["Bygglov", "Växel", "Socialtjänst", "Skola", "Miljö och hälsa"]
WORDS = {"answered": "besvarat", "abandoned": "obesvarat", "transferred": "kopplat"}


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A generic call list of ``rows`` calls over three months, Windows-1252, decimal commas."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 7, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
    step = timedelta(days=90) / rows
    lines = ["call_id;start;queue;agent;caller;outcome;wait_seconds;talk_seconds;direct_answer"]
    for n in range(rows):
        at = start + step * n
        outcome = rng.choices(list(WORDS), weights=[80, 15, 5])[0]
        wait = f"{rng.expovariate(1 / 45):.1f}".replace(".", ",")
        answered = outcome != "abandoned"
        lines.append(
            ";".join(
                [
                    f"ace-{n:07d}",
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    rng.choice(QUEUES),
                    f"agent{rng.randrange(40)}" if answered else "",
                    f"070{rng.randrange(10**7):07d}",
                    WORDS[outcome],
                    wait,
                    str(rng.randrange(30, 900)) if answered else "",
                    rng.choice(["ja", "nej", ""]) if outcome == "answered" else "",
                ]
            )
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SERVICEDESK_ENV": "development",
        "SERVICEDESK_SECRET_KEY": "bench-secret-key-0123456789",
        "SERVICEDESK_PSEUDONYM_KEY": "bench-pseudonym-key-0123456789",
    }


def _fresh(database_url: str | None, folder: Path, name: str) -> str:
    if database_url is None:
        url = f"sqlite:///{folder / name}.sqlite"
    else:
        import sqlalchemy as sa

        admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = sa.engine.make_url(database_url).set(database=name).render_as_string(False)
    env = _env(url)
    run = [str(BIN / "servicedesk")]
    subprocess.run([*run, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*run, "org", "create", "--slug", "kumla", "--name", "Kumla kommun", "--country", "SE"],
        env=env,
        check=True,
        capture_output=True,
    )
    return url


def timed_import(url: str, path: Path) -> tuple[float, str]:
    began = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "servicedesk"), "calls", "import", "--org", "kumla", str(path)],
        env=_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - began, out.stdout.strip().splitlines()[-2]


def baseline(url: str, path: Path) -> float:
    """The same calls as generic events through ingest_events, 1000 events a batch."""
    code = f"""
import time, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from sqlmodel import Session
from servicedesk import create_app
from servicedesk.callimport.mapping import presets
from servicedesk.callimport.readers import read_table
from servicedesk.callimport.rows import Columns, convert, events_of
from servicedesk.db import get_engine, mark_write
from servicedesk.ingest.schemas import EventIn
from servicedesk.ingest.service import RawDelivery, ingest_events
from servicedesk.orgs.operations import get_organisation
from zoneinfo import ZoneInfo
app = create_app()
mapping = presets()["generic"]
table = read_table(open({str(path)!r}, "rb").read())
columns = Columns(mapping, table.header)
zone = ZoneInfo("Europe/Stockholm")
calls = [convert(0, cells, columns, mapping, zone) for _, cells in table.rows]
events = [e for call in calls for e in events_of(call)]
with app.app_context():
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as s:
        org = get_organisation(s, "kumla")
    began = time.perf_counter()
    for i in range(0, len(events), 1000):
        with Session(engine, expire_on_commit=False) as s:
            mark_write(s)
            batch = [EventIn.model_validate(e) for e in events[i:i + 1000]]
            raw = RawDelivery("api", b"{{}}")
            ingest_events(s, org, batch, raw, pseudonym_key=b"bench-pseudonym-key-0123456789")
            s.commit()
    print(time.perf_counter() - began, len(events))
"""
    out = subprocess.run(
        [str(BIN / "python"), "-c", code], env=_env(url), check=True, capture_output=True, text=True
    )
    seconds, _ = out.stdout.split()
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (admin URL)")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "calls.csv"
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        url = _fresh(args.database_url, folder, "bench_callimport")
        first, first_line = timed_import(url, path)
        again, again_line = timed_import(url, path)
        base_url = _fresh(args.database_url, folder, "bench_callimport_base")
        base = baseline(base_url, path)
    engine = "PostgreSQL" if args.database_url else "SQLite"
    flag = f" --database-url {args.database_url}" if args.database_url else ""
    text = f"""## Call list import, {args.rows:,} rows, {engine} (`bench/callimport.py`)

`python bench/callimport.py --rows {args.rows}{flag}`: a generated generic call list
({size_mb:.1f} MB, Windows-1252, decimal commas, three months, five queues) imported with
`servicedesk calls import` on a fresh database, timed from start to exit of the command; then
the same file again. Baseline in the same run: the same calls as generic events through
`ingest_events` in batches of 1000 events (the events API without HTTP) on another fresh
database, timed around the ingest only.

| run | seconds | rows/s |
|---|---|---|
| import (new calls) | {first:.1f} | {args.rows / first:,.0f} |
| re-import (all duplicates) | {again:.1f} | {args.rows / again:,.0f} |
| baseline: the same events through `ingest_events` | {base:.1f} | {args.rows / base:,.0f} |

- import / baseline: **{first / base:.2f}x** the time (reading, mapping, checking each row and
  committing in chunks of 2,000 rows, on top of the ingest path); the command's whole run is
  timed, the baseline's ingest only.
- last lines: `{first_line}` / `{again_line}`
"""
    print(text)
    if args.write:
        write_section(f"callimport-{engine.lower()}", text)


if __name__ == "__main__":
    main()
