"""A live server on a fresh SQLite database, and Chromium (Debian's) to drive it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from werkzeug.serving import make_server

from servicedesk import create_app
from servicedesk.auth.models import User
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report
from tests.browser.chromium import browser
from tests.conftest import PSEUDONYM_KEY, fresh_database


@pytest.fixture
def live_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The app on SQLite only: the browser tests are about the pages, not the engines."""
    url = fresh_database("sqlite", request, tmp_path)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "PSEUDONYM_KEY": PSEUDONYM_KEY,
            "SECRET_KEY": "browser-test-secret-key-0123",
            "TODAY_REFRESH_SECONDS": 1,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app
    app.extensions["servicedesk.engine"].dispose()


@pytest.fixture
def live_server(live_app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    with browser() as b:
        yield b


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    pg.on("pageerror", lambda exc: problems.append(str(exc)))
    pg.problems = problems
    yield pg
    context.close()


@pytest.fixture
def demo(live_app: Any, live_server: str) -> dict[str, Any]:
    # DEMO_DAYS: a longer demo for the documentation's screenshots (a full year of trends).
    days = os.environ.get("DEMO_DAYS", "75")
    result = live_app.test_cli_runner().invoke(
        args=["demo", "--days", days, "--calls-per-day", "20", "--emails-per-day", "6"]
    )
    assert result.exit_code == 0, result.output
    engine = live_app.extensions["servicedesk.engine"]
    with Session(engine) as db:
        # The demo's own organisation (it makes neighbours for the comparison too).
        org_id = db.scalars(sa.select(Organisation.id).where(Organisation.slug == "demo")).one()
        report = db.scalars(
            sa.select(Report)
            .where(Report.organisation_id == org_id)
            .order_by(Report.month.desc(), Report.version.desc())
        ).first()
        admin = db.scalars(sa.select(User).where(User.email == "admin@demo.se")).one()
        assert report is not None
        return {
            "month": report.month,
            "version": report.version,
            "admin_id": admin.id,
            "org_id": org_id,
        }
