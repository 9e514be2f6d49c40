"""Instructions per delivery, counted by valgrind's callgrind: a before/after figure that the
machine's noise does not move.

On these shared machines a timing moves by half from one minute to the next (docs/benchmarks.md),
so a change worth 3 % cannot be seen in seconds. Callgrind counts the instructions the process
executes, the same for the same code and input whatever else the machine is doing (within a
fraction of a percent: hash seeds, ids and the clock differ from run to run). What it counts:
the whole request as gunicorn hands it to the app (the app's WSGI callable, called with a
prepared environ: Flask, the hooks, the ingest, SQLite's own work in the process), not the HTTP
server and not PostgreSQL's server process. Instructions are not time (a cache miss or a wait
on the disk costs no instructions); use this to compare two versions of the code, and
``bench/ingest.py`` for what they achieve.

    python bench/instructions.py [--single 600] [--batches 30] [--database-url URL]
                                 [--baseline-tree DIR]

Needs ``valgrind`` (Debian's package) and runs the app some 50 times slower than normal: the
defaults take two to four minutes per tree.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

# The benchmark's own helpers from this checkout; the app measured from SERVICEDESK_TREE
# (``--baseline-tree``), put first on the path only when the app is imported (``_child``).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import dumps, new_sender, production_env  # noqa: E402
from bench.ingest import _events  # noqa: E402

#: Requests made before counting starts (imports, caches, compiled statements).
WARM = {1: 100, 500: 5}
#: How much slower the app runs under callgrind: what runs every so many seconds (the WAL
#: checkpoint after a writer's turn) is spaced out as much, so that it comes as often per
#: request as it does at full speed.
SLOWDOWN = 50


def _environ(token: str, body: bytes) -> dict[str, Any]:
    """What gunicorn hands the app for ``POST /api/v1/events`` with this body."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/events",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _child(which: str, count: int, batch: int) -> None:
    """Under callgrind: set up, warm, then count only the requests themselves."""
    tmp = Path(tempfile.mkdtemp(prefix="sd-instructions-"))
    env = production_env(
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'b.sqlite'}",
        SERVICEDESK_CACHE_DIR=str(tmp / "cache"),
    )
    token = new_sender(env, f"i{uuid.uuid4().hex[:8]}", "Instructions")
    os.environ.update(env)
    if os.environ.get("SERVICEDESK_TREE"):
        sys.path.insert(0, os.environ["SERVICEDESK_TREE"])
    if which == "bare":
        from bench.bare_app import app
    else:
        from servicedesk import create_app, db

        db.CHECKPOINT_SECONDS *= SLOWDOWN
        app = create_app()
    prefix = uuid.uuid4().hex[:8]
    warm = WARM.get(batch, 5)
    bodies = []
    for n in range(warm + count):
        events = _events(prefix, n * batch, batch)
        bodies.append(dumps(events[0] if batch == 1 else {"events": events}))
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        statuses.append(status)

    def run(chosen: list[bytes]) -> None:
        for body in chosen:
            out = app(_environ(token, body), start_response)
            b"".join(out)
            getattr(out, "close", lambda: None)()
            if not statuses[-1].startswith(("200", "202")):
                raise SystemExit(f"{statuses[-1]} for a request")

    sys.stderr = open(os.devnull, "w")  # noqa: SIM115  # the request log is not what is counted
    run(bodies[:warm])
    _toggle("on")
    run(bodies[warm:])
    _toggle("off")


def _toggle(state: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True
    )


def _count(tree: str, which: str, count: int, batch: int, database_url: str) -> float:
    """Millions of instructions per request of ``which`` ("servicedesk" or "bare")."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = {**os.environ, "BENCH_DATABASE_URL": database_url}
        if tree:
            env["SERVICEDESK_TREE"] = env["PYTHONPATH"] = str(Path(tree).resolve())
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                which,
                str(count),
                str(batch),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        for line in out.read_text().splitlines():
            if line.startswith("totals:"):
                return int(line.split()[1]) / count / 1e6
    raise SystemExit("callgrind wrote no totals")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=600, help="single-event requests counted")
    parser.add_argument("--batches", type=int, default=30, help="batches of 500 counted")
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    parser.add_argument("--baseline-tree", default="", help="another checkout to count too")
    opts = parser.parse_args()
    trees = {"servicedesk": ""}
    if opts.baseline_tree:
        trees["baseline tree"] = opts.baseline_tree
    engine = "PostgreSQL" if opts.database_url.startswith("postgres") else "SQLite"
    print(f"Millions of instructions per request ({engine}; `python bench/instructions.py`):\n")
    print("| run | 1 event/request | 500 events/request |")
    print("|---|---:|---:|")
    bare = _count("", "bare", opts.single, 1, opts.database_url)
    bare_batch = _count("", "bare", opts.batches, 500, opts.database_url)
    print(f"| bare Flask endpoint | {bare:.3f} | {bare_batch:.2f} |")
    for label, tree in trees.items():
        single = _count(tree, "servicedesk", opts.single, 1, opts.database_url)
        batch = _count(tree, "servicedesk", opts.batches, 500, opts.database_url)
        print(f"| {label} | {single:.3f} | {batch:.2f} |", flush=True)


if __name__ == "__main__":
    main()
