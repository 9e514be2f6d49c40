"""A database that fails answers 503 with Retry-After, and leaves nothing half-stored."""

from __future__ import annotations

import shutil
import sqlite3

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from servicedesk import create_app
from servicedesk.contacts import fold
from servicedesk.ingest.models import Delivery, Event
from servicedesk.ingest.tokens import create_token
from servicedesk.orgs.operations import create_organisation
from tests.helpers import event, post


def test_unreachable_postgresql_is_503_with_retry_after():
    app = create_app(
        {"TESTING": True, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    )
    response = post(app.test_client(), "sdk_anything", event())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert app.test_client().get("/readyz").status_code == 503


def test_failure_in_the_middle_stores_nothing(client, token, db, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("UPDATE contacts", {}, Exception("server closed the connection"))

    monkeypatch.setattr(fold, "queue_ids", broken)
    response = post(client, token, {"events": [event(queue="Växel"), event(contact_id="c2")]})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
    monkeypatch.undo()
    retry = post(client, token, {"events": [event(queue="Växel"), event(contact_id="c2")]})
    assert retry.status_code == 202 and retry.get_json()["accepted"] == 2


def test_locked_sqlite_answers_503_not_500(tmp_path, sqlite_template):
    path = tmp_path / "locked.sqlite"
    shutil.copyfile(sqlite_template, path)
    # A short wait keeps the test quick; production waits SQLITE_BUSY_TIMEOUT_MS.
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "SQLITE_BUSY_TIMEOUT_MS": 200}
    )
    with Session(app.extensions["servicedesk.engine"]) as session:
        org = create_organisation(session, slug="k", name="K", country="SE")
        _, token = create_token(session, org)
        session.commit()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = post(app.test_client(), token, event())
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert post(app.test_client(), token, event()).status_code == 202


def test_serialized_writes_is_reentrant_and_releases(tmp_path):
    """A nested writer must not release the outer one's lock; the lock is free afterwards."""
    import fcntl

    from servicedesk.db import make_engine, serialized_writes

    path = tmp_path / "lock.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    probe = open(f"{path}.writelock", "a+b")  # noqa: SIM115
    try:

        def free() -> bool:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe, fcntl.LOCK_UN)
            return True

        with serialized_writes(engine):
            with serialized_writes(engine):
                assert not free()
            assert not free(), "the inner block must not release the outer lock"
        assert free()
    finally:
        probe.close()
        engine.dispose()


def _rows_in_the_main_file_after_a_turn(tmp_path, monkeypatch, checkpoint_seconds: float) -> int:
    """Three rows written in a writer's turn; how many the database file alone then holds
    (copied without its WAL: what only the WAL holds is not in it)."""
    import shutil
    import sqlite3
    import time

    from servicedesk import db as dbmod

    path = tmp_path / "wal.sqlite"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.enable_wal(engine)
    try:
        with dbmod.unit_of_work(engine) as session:
            session.connection().exec_driver_sql("CREATE TABLE t (n INTEGER)")
            # The last checkpoint "just now": only a zero interval lets this turn's run.
            dbmod._last_checkpoint[str(path)] = time.monotonic()
        monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", checkpoint_seconds)
        with dbmod.unit_of_work(engine) as session:
            session.connection().exec_driver_sql("INSERT INTO t VALUES (1), (2), (3)")
        copy = tmp_path / "copy.sqlite"
        shutil.copyfile(path, copy)
        with sqlite3.connect(copy) as check:
            tables = check.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchall()
            return int(check.execute("SELECT count(*) FROM t").fetchone()[0]) if tables else 0
    finally:
        engine.dispose()


def test_the_wal_is_copied_into_the_database_after_the_writers_turn(tmp_path, monkeypatch):
    """The checkpoint runs once the turn is over (not in the commit): the database file alone,
    without its WAL, then holds what was committed."""
    assert _rows_in_the_main_file_after_a_turn(tmp_path, monkeypatch, 0.0) == 3


def test_without_the_checkpoint_the_wal_keeps_the_rows(tmp_path, monkeypatch):
    """The counter-test: with the checkpoint held off, the database file alone lacks them."""
    assert _rows_in_the_main_file_after_a_turn(tmp_path, monkeypatch, 3600.0) == 0
