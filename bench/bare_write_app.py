"""The floor of a durable write: a bare Flask endpoint that stores the body in one INSERT.

What any endpoint that keeps every delivery must at least do, on the same database as
servicedesk (``DATABASE_URL``): parse the JSON body, insert the body as one row in a table of
its own (``bench_bare_write``, no index but its key, made by ``create_table`` before the workers
start), commit, answer 202. SQLite: its own
connection per thread, WAL, ``synchronous = NORMAL`` and ``BEGIN IMMEDIATE`` as servicedesk
runs it; PostgreSQL: a psycopg connection per thread, committing as servicedesk does. No
authentication, no validation, no events, no contacts: the ratio of servicedesk to this
endpoint says how much of the gap to the bare endpoint is the durable write itself.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.engine import make_url

app = Flask(__name__)
_local = threading.local()
_URL = make_url(os.environ.get("DATABASE_URL", "sqlite://"))
_TABLE = "bench_bare_write"


def create_table(url: str) -> None:
    """The endpoint's table, made once before its workers start (not by racing threads)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    key = "INTEGER PRIMARY KEY" if engine.dialect.name == "sqlite" else "bigserial PRIMARY KEY"
    body = "BLOB" if engine.dialect.name == "sqlite" else "bytea"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {_TABLE} (id {key}, body {body})")
    engine.dispose()


def _connection() -> Any:
    con = getattr(_local, "con", None)
    if con is not None:
        return con
    if _URL.get_backend_name() == "sqlite":
        con = sqlite3.connect(_URL.database, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA synchronous = NORMAL")
    else:
        import psycopg

        con = psycopg.connect(_URL.set(drivername="postgresql").render_as_string(False))
    _local.con = con
    return con


@app.get("/healthz")
def healthz():  # noqa: ANN201
    return "ok"


@app.post("/api/v1/events")
def events():  # noqa: ANN201
    payload = request.get_json()
    n = len(payload["events"]) if "events" in payload else 1
    con = _connection()
    if isinstance(con, sqlite3.Connection):
        con.execute("BEGIN IMMEDIATE")
        con.execute(f"INSERT INTO {_TABLE} (body) VALUES (?)", (request.get_data(),))
        con.execute("COMMIT")
    else:
        with con.transaction():
            con.execute(f"INSERT INTO {_TABLE} (body) VALUES (%s)", (request.get_data(),))
    response = jsonify(accepted=n, duplicates=0)
    response.status_code = 202
    return response
