"""Migrations: up from empty on both engines, down and up again, and no model drift."""

from __future__ import annotations

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
