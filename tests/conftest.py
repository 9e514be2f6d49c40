"""Fixtures: a clean, migrated database for every test, on SQLite and on PostgreSQL.

Each engine gets a template database migrated once per run. On SQLite every test gets a file
copy of it. On PostgreSQL each test process gets one copy (``CREATE DATABASE ... TEMPLATE``),
emptied with TRUNCATE after every test: dropping a database per test forces a checkpoint each
time and cost seconds per test. Tests that change the schema itself (migrations) still get a
database of their own from ``fresh_database``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from pytest_httpserver import HTTPServer
from sqlmodel import Session

from servicedesk import create_app
from servicedesk.ingest.tokens import create_token
from servicedesk.migrate import upgrade
from servicedesk.orgs.models import Organisation
from servicedesk.orgs.operations import create_organisation

#: Fixtures shared by several test modules (a local SMTP server, a frozen June report).
pytest_plugins = ["tests.smtpserver", "tests.reportfixtures"]

#: The PostgreSQL server the tests create their databases on (trust auth on the CI machines).
PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ENGINES = [e for e in os.environ.get("SERVICEDESK_TEST_ENGINES", "sqlite,postgresql").split(",")]
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789"
_RUN = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _pg_url(name: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"sd_tmpl_{_RUN}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    sa.create_engine(_pg_url(name)).dispose()
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def fresh_database(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of its own for one test; dropped afterwards."""
    if engine_name == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    template_name: str = request.getfixturevalue("pg_template")
    name = f"sd_{_RUN}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')

    def _drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    request.addfinalizer(_drop)
    return _pg_url(name)


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """The fakes of outside systems (pytest-httpserver's ``httpserver``): on 127.0.0.1 only,
    a thread per request, so a slow answer does not hold the next one."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def pg_worker_database(pg_template: str) -> Iterator[str]:
    """This test process's PostgreSQL database: a copy of the template, emptied after each test."""
    name = f"sd_{_RUN}_work"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _empty_pg(url: str) -> None:
    """Every row deleted and every sequence restarted; the schema and its version stay.

    DELETE with foreign-key triggers off (the tests connect as a superuser) is far cheaper than
    TRUNCATE on tables this small: TRUNCATE replaces each table's files.
    """
    name = sa.engine.make_url(url).database
    admin = _pg_admin()
    with admin.connect() as conn:  # connections a test left open (servers it started) go first
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    admin.dispose()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        script = conn.scalar(
            sa.text(
                "SELECT 'SET LOCAL session_replication_role = replica; ' "
                "|| coalesce((SELECT string_agg('DELETE FROM ' || quote_ident(tablename), '; ') "
                "   FROM pg_tables WHERE schemaname = 'public' "
                "   AND tablename <> 'alembic_version'), '') || '; ' "
                "|| coalesce((SELECT string_agg('SELECT setval(' "
                "   || quote_literal(quote_ident(sequencename)) || ', 1, false)', '; ') "
                "   FROM pg_sequences WHERE schemaname = 'public'), '')"
            )
        )
        conn.exec_driver_sql(script)
    engine.dispose()


@pytest.fixture
def database_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if engine_name == "sqlite":
        yield fresh_database(engine_name, request, tmp_path)
        return
    url: str = request.getfixturevalue("pg_worker_database")
    yield url
    _empty_pg(url)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SECRET_KEY": "test-secret-key-0123456789",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app
    app.extensions["servicedesk.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test's database, for arranging and checking."""
    with Session(app.extensions["servicedesk.engine"], expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_org(db: Session) -> Callable[..., Organisation]:
    counter = iter(range(1, 10_000))

    def _make(**kwargs: Any) -> Organisation:
        n = next(counter)
        values = {"slug": f"org{n}", "name": f"Kommun {n}", "country": "SE"} | kwargs
        org = create_organisation(db, **values)
        db.commit()
        return org

    return _make


@pytest.fixture
def make_token(db: Session) -> Callable[..., str | tuple[str, str]]:
    def _make(org: Organisation, *, signing: bool = False, scope: str = "ingest") -> Any:
        row, token = create_token(db, org, signing=signing, scope=scope)
        db.commit()
        return (token, row.signing_secret) if signing else token

    return _make


@pytest.fixture
def org(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org(slug="kumla", name="Kumla kommun")


@pytest.fixture
def token(org: Organisation, make_token: Callable[..., Any]) -> str:
    return make_token(org)
