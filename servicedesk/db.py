"""The database engine, the per-request session, and the one unit of work every writer uses.

Reads use the session as it comes (``get_session`` in a request or command, a ``Session`` of
their own in jobs) and never commit. Writes go through ``unit_of_work``: it ends what the session
had read, begins a writer's transaction (on SQLite: the writers' queue and BEGIN IMMEDIATE),
yields the session to the domain functions, which flush, and commits, or rolls back on any
error. Views, commands and scheduled jobs all write this way.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from servicedesk.statements import prepared

# Named constraints make migrations reproducible and SQLite batch mode workable; this must run
# before the first table is declared, so every model module imports this one first.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: How long an SQLite writer waits for the lock before it gives up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_sqlite_url(instance_path: str | Path) -> str:
    """The embedded default: one SQLite file in the instance folder."""
    path = Path(instance_path) / "servicedesk.sqlite"
    return f"sqlite:///{path}"


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def make_engine(
    url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """An engine with the connection settings each engine needs to be safe under concurrency."""
    if is_sqlite(url):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            **kwargs,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily and lets reads escape them; take over so
            # that BEGIN IMMEDIATE can serialise writers instead of failing with "locked" mid-way.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA synchronous = NORMAL")
            # Reads through mmap: pages come from the OS's cache, shared by every connection of
            # every worker, without a copy into each connection's own (small) page cache.
            cur.execute("PRAGMA mmap_size = 268435456")
            # The WAL is copied into the database by the writer whose turn is over, outside it
            # (``serialized_writes``); SQLite's own copy in the committing writer's turn stays
            # as a backstop at ten times its default size.
            cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            write = conn.get_execution_options().get("sqlite_write", False)
            _driver_begin(conn, "BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    engine = sa.create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


#: A pooled connection unused for longer than this is pinged before it is handed out.
PING_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle (``PING_IDLE_SECONDS``).

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip to the server on every
    request, a sixth of a single-event delivery's time on PostgreSQL (docs/benchmarks.md,
    issue 17). A connection handed back a moment ago is alive but for an outage in that moment,
    and then its first statement fails as a disconnect: SQLAlchemy invalidates the whole pool
    and the request answers 503 with Retry-After, as during any outage (the sender retries;
    nothing is lost). A connection that has waited in the pool (the server restarted while it
    was idle, a firewall dropped it) is pinged and replaced without the request noticing.
    """

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["checked_in"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle = time.monotonic() - record.info.get("checked_in", 0.0)
        if idle <= PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)  # the dialect's own ping, outside a transaction
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out another (a new one if need be).
            raise sa.exc.DisconnectionError(str(exc)) from exc


def _driver_begin(conn: sa.Connection, sql: str) -> None:
    """BEGIN on the driver's connection itself: through ``exec_driver_sql`` the statement cost
    an execution context and a result (more than SQLite's own work, on every transaction);
    an error is still raised as SQLAlchemy raises it (a lock timeout is ``OperationalError``).
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
    except conn.dialect.loaded_dbapi.Error as exc:
        conn._handle_dbapi_exception(exc, sql, (), cursor, None)  # raises
        raise  # (not reached)
    finally:
        cursor.close()


def enable_wal(engine: Engine) -> None:
    """Switch an SQLite file to WAL once (it persists in the file); a no-op elsewhere."""
    if not is_sqlite(engine) or ":memory:" in str(engine.url):
        return
    raw = engine.raw_connection()  # outside any transaction: the mode cannot change inside one
    try:
        cur = raw.cursor()
        if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()
    finally:
        raw.close()


def insert_for(dialect: str, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def table_of(model: type[SQLModel]) -> sa.Table:
    """A model's table, typed: for the Core statements the hot paths use (SQLModel's classes
    declare no ``__table__``)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def dialect_of(session: OrmSession) -> str:
    return session.get_bind().dialect.name


def get_engine() -> Engine:
    engine: Engine = current_app.extensions["servicedesk.engine"]
    return engine


def get_session() -> Session:
    """The request's session; views commit it, domain functions only flush."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    session: Session = g.db_session
    return session


def _begin_writer(session: OrmSession) -> None:
    """Start the session's transaction as a writer, so SQLite takes its lock up front.

    Must be the session's first use in a transaction. A deferred SQLite transaction that reads and
    then writes can fail with "database is locked" at once instead of waiting; BEGIN IMMEDIATE
    waits for the lock (busy_timeout) instead.
    """
    session.connection(execution_options={"sqlite_write": True})


def advisory_lock(session: OrmSession, *names: str) -> None:
    """Serialise the transactions that name the same thing, until they end.

    PostgreSQL: a transaction-level advisory lock per name, taken in one sorted order (so no
    two writers can wait on each other). SQLite: writers already take turns; a transaction not
    yet begun is begun as a writer, so that it waits for its turn instead of failing mid-way.
    """
    dialect = dialect_of(session)
    if dialect == "postgresql":
        keys = sorted({lock_key(name) for name in names})
        if keys:
            conn = session.connection()
            prepared(conn.dialect, _pg_locks, ("keys",)).execute(conn, {"keys": keys})
    elif dialect == "sqlite" and not session.in_transaction():
        _begin_writer(session)


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of a name (64 bits of its BLAKE2b digest)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _pg_locks(_dialect: str, _keys: tuple[str, ...]) -> Any:
    # Run on the driver (``prepared``): on every delivery, where SQLAlchemy's own execution
    # path cost more than the lock (issue 17).
    return sa.text(
        "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:keys AS bigint[]))"
        " AS k ORDER BY k) AS keys"
    )


@contextmanager
def unit_of_work(bind: Engine | Session | None = None) -> Iterator[Session]:
    """One write transaction: begun as a writer, committed at the end, rolled back on error.

    ``bind`` is the session to write with (its read transaction, if any, ends first: what it
    read may be stale by the time the writers' turn comes), an engine to open a session of its
    own on (closed afterwards), or nothing for the request's or command's session. Functions
    registered with ``after_commit`` run once the commit has succeeded.
    """
    own = isinstance(bind, Engine)
    if isinstance(bind, Session):
        session = bind
    elif isinstance(bind, Engine):
        session = Session(bind, expire_on_commit=False)
    else:
        session = get_session()
    try:
        if session.in_transaction():
            session.rollback()
        with serialized_writes(_engine_of(session)):
            _begin_writer(session)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if own:
            session.close()


def _engine_of(session: OrmSession) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def after_commit(session: OrmSession, action: Callable[[], object]) -> None:
    """Run ``action`` once the session's current transaction commits (never if it rolls back).

    For what must not happen before the data is there for everyone: dropping a cached value that
    another worker would otherwise compute again from the old rows.
    """
    session.info.setdefault("after_commit", []).append(action)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _run_after_commit(session: sa.orm.Session) -> None:
    for action in session.info.pop("after_commit", []):
        action()


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _drop_after_commit(session: sa.orm.Session, _previous: object) -> None:
    if not session.in_transaction():
        session.info.pop("after_commit", None)


_held = threading.local()

#: SQLite's own WAL checkpoint, in the committing writer's turn, once the WAL holds this many
#: pages: a backstop for when no writer has checkpointed after its turn (``serialized_writes``).
WAL_BACKSTOP_PAGES = 10_000
#: How often at most a process checkpoints the WAL after a writer's turn.
CHECKPOINT_SECONDS = 0.2
_last_checkpoint: dict[str, float] = {}
_checkpointing = threading.Lock()


@contextmanager
def serialized_writes(engine: Engine) -> Iterator[None]:
    """Queue SQLite writers on an OS file lock instead of SQLite's busy-wait.

    SQLite lets one writer in at a time; the others poll with sleeps of up to 100 ms, which
    wastes most of the time under concurrent ingest from several workers. ``flock`` wakes the
    next writer the moment the lock is free. Re-entrant within a thread; on PostgreSQL this does
    nothing.
    """
    path = _sqlite_path(engine)
    depth = getattr(_held, path or "", 0)
    if path is None or depth:
        if path is not None:
            setattr(_held, path, depth + 1)
        try:
            yield
        finally:
            if path is not None:
                setattr(_held, path, depth)
        return
    # Opened per use (cheap next to a write transaction), so no handle outlives its database.
    with open(path + ".writelock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        setattr(_held, path, 1)
        try:
            yield
        finally:
            setattr(_held, path, 0)
            fcntl.flock(handle, fcntl.LOCK_UN)
    _checkpoint(path)


_worker_turns: dict[str, threading.Lock] = {}
_worker_turns_made = threading.Lock()


@contextmanager
def worker_turn(engine: Engine) -> Iterator[None]:
    """On SQLite, one delivery at a time per worker process (threads of other processes go on).

    The threads of one process share one interpreter lock, so two deliveries in one worker
    never run in parallel anyway; interleaved, they only stretch each other. That is costly
    for the one in the writers' turn: the SQLite driver lets go of the interpreter lock for
    every statement (and every row of an ``executemany``), and the other thread then keeps it
    for up to the switch interval (5 ms) each time, while every writer of every worker waits
    (measured: an ``executemany`` of 167 rows took 1.8 ms alone and 1,042 ms beside one busy
    thread; issue 17). Taken after the body has arrived, so a slow sender holds no one up;
    PostgreSQL's writers run side by side and skip this.
    """
    path = _sqlite_path(engine)
    if path is None:
        yield
        return
    turn = _worker_turns.get(path)
    if turn is None:
        with _worker_turns_made:
            turn = _worker_turns.setdefault(path, threading.Lock())
    with turn:
        yield


def _checkpoint(path: str) -> None:
    """Copy the WAL into the database, now that this writer's turn is over (at most every
    ``CHECKPOINT_SECONDS`` per process, by one thread at a time).

    SQLite checkpoints in the commit that fills the WAL past its limit: that writer's turn then
    lasts the copy and two fsyncs (measured: 15 ms at the 90th percentile of a batch's commit
    against 2 ms at the median, issue 17), and every other writer waits. A PASSIVE checkpoint
    runs beside the next writer instead, on a connection of its own, opened for it (not one of
    the pool's, which may all be in use); a busy or failed one is left to a later turn (or to
    SQLite's own backstop, ``WAL_BACKSTOP_PAGES``).
    """
    now = time.monotonic()
    if now - _last_checkpoint.get(path, 0.0) < CHECKPOINT_SECONDS:
        return
    if not _checkpointing.acquire(blocking=False):
        return  # another thread of this process is at it
    try:
        _last_checkpoint[path] = now
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()
    except sqlite3.Error:
        pass  # the data is committed; the copy waits for a later turn
    finally:
        _checkpointing.release()


def _sqlite_path(engine: Engine) -> str | None:
    if not is_sqlite(engine):
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"] or default_sqlite_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    if is_sqlite(url):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    engine = make_engine(
        url, busy_timeout_ms=app.config.get("SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS)
    )
    app.extensions["servicedesk.engine"] = engine
    app.teardown_appcontext(_close_session)
