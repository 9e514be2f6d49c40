"""Migrations: up from empty on both engines, down and up again, and no model drift."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import servicedesk.models  # noqa: F401
from servicedesk.db import make_engine
from servicedesk.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.conftest import fresh_database


def _empty_database(engine_name, request, tmp_path) -> str:
    url = fresh_database(engine_name, request, tmp_path)
    command.downgrade(alembic_config(url), "base")
    return url


def test_upgrade_from_empty_reaches_head(engine_name, request, tmp_path):
    url = _empty_database(engine_name, request, tmp_path)
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None
        assert "contacts" not in sa.inspect(engine).get_table_names()
        upgrade(url)
        assert current_revision(engine) == head_revision()
        assert {"organisations", "events", "contacts", "deliveries"} <= set(
            sa.inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_models_match_migrations(engine_name, request, tmp_path):
    """The same as `alembic check`: a model change without a migration fails here."""
    url = fresh_database(engine_name, request, tmp_path)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "target_metadata": SQLModel.metadata}
            )
            diff = compare_metadata(context, SQLModel.metadata)
        assert diff == []
    finally:
        engine.dispose()
    command.check(alembic_config(url))


def test_sqlite_file_is_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'wal.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    finally:
        engine.dispose()


def test_0010_fills_the_report_columns_of_existing_rows(engine_name, request, tmp_path):
    """Migration 0010 computes what the fold now stores, from the rows already there."""
    from datetime import date, datetime

    url = fresh_database(engine_name, request, tmp_path)
    command.downgrade(alembic_config(url), "0009")
    engine = make_engine(url)
    t = datetime(2026, 6, 8, 8, 0)  # naive UTC, as the columns hold it
    col = sa.column
    orgs = sa.table(
        "organisations",
        *(
            col(c)
            for c in (
                "id",
                "slug",
                "name",
                "country",
                "timezone",
                "service_level_seconds",
                "created_at",
            )
        ),
    )
    cal = sa.table(
        "calendar_days",
        col("organisation_id"),
        col("day", sa.Date),
        col("is_working"),
        col("kind"),
        col("working_seconds_before"),
    )
    contacts = sa.table(
        "contacts",
        *(
            col(c)
            for c in (
                "organisation_id",
                "channel",
                "contact_id",
                "started_at",
                "answered_at",
                "wait_seconds",
                "start_local_seconds",
                "answered_local_seconds",
                "event_count",
                "updated_at",
            )
        ),
        col("start_date", sa.Date),
        col("answered_local_date", sa.Date),
    )
    responses = sa.table("survey_responses", *(col(c) for c in (
        "organisation_id", "contact_id", "channel", "question", "score", "occurred_at",
        "event_id")))  # fmt: skip
    with engine.begin() as conn:
        org = {"id": 1, "slug": "k", "name": "K", "country": "SE", "timezone": "Europe/Stockholm"}
        conn.execute(sa.insert(orgs).values(**org, service_level_seconds=60, created_at=t))
        conn.execute(sa.insert(cal), [
            {"organisation_id": 1, "day": date(2026, 6, 8), "is_working": True, "kind": "weekday",
             "working_seconds_before": 1000 * 86400},
            {"organisation_id": 1, "day": date(2026, 6, 10), "is_working": True,
             "kind": "weekday", "working_seconds_before": 1002 * 86400},
        ])  # fmt: skip
        common = {"organisation_id": 1, "contact_id": "x", "started_at": t, "event_count": 2,
                  "updated_at": t, "start_date": date(2026, 6, 8)}  # fmt: skip
        conn.execute(sa.insert(contacts), [
            {**common, "channel": "phone", "answered_at": t, "wait_seconds": 12.5,
             "start_local_seconds": 36000.0, "answered_local_seconds": 36012.5,
             "answered_local_date": date(2026, 6, 8)},
            # Monday 10:00 -> Wednesday 09:00 local: 47 working hours.
            {**common, "channel": "email", "answered_at": t, "wait_seconds": None,
             "start_local_seconds": 36000.0, "answered_local_seconds": 32400.0,
             "answered_local_date": date(2026, 6, 10)},
        ])  # fmt: skip
        conn.execute(sa.insert(responses), [
            {"organisation_id": 1, "contact_id": "x", "channel": None, "question": "ease",
             "score": 5, "occurred_at": t, "event_id": "s1"},
            {"organisation_id": 1, "contact_id": "x", "channel": "email", "question": "clarity",
             "score": 2, "occurred_at": t, "event_id": "s2"},
            {"organisation_id": 1, "contact_id": "ghost", "channel": None, "question": "ease",
             "score": 1, "occurred_at": t, "event_id": "s3"},
        ])  # fmt: skip
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT channel, start_month, answer_seconds, treatment_score, ease_score,"
            " clarity_score FROM contacts ORDER BY channel")).all()  # fmt: skip
        matched = conn.execute(
            sa.text("SELECT contact_id, matched FROM survey_responses ORDER BY event_id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("email", 202606, 47 * 3600.0, None, None, 2),
        ("phone", 202606, 12.5, None, 5, None),
    ]
    assert [(c, bool(m)) for c, m in matched] == [("x", True), ("x", True), ("ghost", False)]


def test_0020_fills_the_handle_time_of_existing_rows(engine_name, request, tmp_path):
    """Migration 0020 computes each call's handle time as the fold now stores it, to the
    microsecond, from the instants already there (as the application wrote them)."""
    from datetime import UTC, date, datetime, timedelta

    from servicedesk.contacts.fold import _handle_seconds
    from servicedesk.contacts.models import Contact
    from servicedesk.db import table_of

    url = fresh_database(engine_name, request, tmp_path)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO organisations (id, slug, name, country, timezone, service_level_seconds,"
            " created_at) VALUES (1, 'k', 'K', 'SE', 'Europe/Stockholm', 60, :t)"
        ), {"t": datetime(2026, 6, 8, tzinfo=UTC)})  # fmt: skip
    command.downgrade(alembic_config(url), "0019")
    t = datetime(2026, 6, 8, 8, 0, 17, 999700, tzinfo=UTC)
    second = timedelta(seconds=1)
    cases = {
        # id: (channel, answered_at, ended_at)
        "fractions": ("phone", t, t + 240 * second + timedelta(microseconds=400)),
        "whole": ("phone", t.replace(microsecond=0), t.replace(microsecond=0) + 95 * second),
        "long": ("phone", t, t + timedelta(hours=3, microseconds=1)),
        "end before answer": ("phone", t, t - second),
        "not answered": ("phone", None, t),
        "not ended": ("phone", t, None),
        "e-mail": ("email", t, t + second),
    }
    contacts = table_of(Contact)
    with engine.begin() as conn:
        conn.execute(sa.insert(contacts), [
            {"organisation_id": 1, "channel": channel, "contact_id": cid, "started_at": t,
             "start_date": date(2026, 6, 8), "start_month": 202606, "answered_at": answered,
             "ended_at": ended, "event_count": 2, "updated_at": t}
            for cid, (channel, answered, ended) in cases.items()
        ])  # fmt: skip
    upgrade(url)
    with engine.connect() as conn:
        pairs = sa.select(contacts.c.contact_id, contacts.c.handle_seconds)
        stored = dict(conn.execute(pairs).all())
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("contacts")}
    engine.dispose()
    expected = {cid: _handle_seconds(*case) for cid, case in cases.items()}
    assert expected["fractions"] == 240.0004
    assert expected["end before answer"] is expected["e-mail"] is None
    assert set(stored) == set(expected)
    for cid, value in expected.items():
        if value is None:
            assert stored[cid] is None, cid
        else:
            assert stored[cid] == pytest.approx(value, abs=1e-9), cid
    assert {"ix_contacts_month_handle", "ix_contacts_month_queue_handle"} <= indexes


def test_0024_copies_each_reports_totals_from_its_document(engine_name, request, tmp_path):
    """Migration 0024 gives existing reports the totals new ones keep (``Report.totals``),
    copied by the engine from the document: the same sections, values and nulls."""
    import json
    from datetime import UTC, datetime

    from servicedesk.reports.models import totals_of

    url = fresh_database(engine_name, request, tmp_path)
    engine = make_engine(url)
    command.downgrade(alembic_config(url), "0022")
    documents = [
        {
            "phone": {"offered": 10, "wait_seconds": {"median": 12.5, "p90": None}},
            "email": {"received": 3, "within_1_working_day": 0.6667},
            "survey_headline": {"phone_ease": {"index": 75.0, "ci95": None}},
            "days": {"2026-06-01": {"phone": {"offered": 1}}},
            "queues": {"Växel": {"phone": {"offered": 9}}},
        },
        {"phone": {"offered": 0}, "email": None},  # an old document without survey figures
    ]
    made = datetime(2026, 7, 3, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO organisations (id, slug, name, country, timezone, service_level_seconds,"
            " created_at) VALUES (1, 'k', 'K', 'SE', 'Europe/Stockholm', 60, :t)"
        ), {"t": datetime(2026, 6, 8, tzinfo=UTC)})  # fmt: skip
        for n, doc in enumerate(documents, start=1):
            conn.execute(sa.text(
                "INSERT INTO reports (id, organisation_id, month, version, generated_at,"
                " definitions_version, trigger, figures_sha256, sha256, document)"
                " VALUES (:id, 1, '2026-06', :id, :t, 'v', 'cli', 'f', 's', :doc)"
            ), {"id": n, "t": made, "doc": json.dumps(doc)})  # fmt: skip
    upgrade(url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT id, totals FROM reports ORDER BY id")).all()
    engine.dispose()
    for (rid, totals), doc in zip(stored, documents, strict=True):
        read = json.loads(totals) if isinstance(totals, str) else totals
        assert read == totals_of(doc), rid
