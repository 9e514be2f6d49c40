"""The pages in a real browser: sign-in, Today refreshing itself, Month with its charts,
the language switch, a download for quality staff, a refusal for another queue's team leader."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from playwright.sync_api import expect
from sqlmodel import Session

from servicedesk.auth import operations
from servicedesk.auth.operations import create_user
from servicedesk.ingest.tokens import create_token
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Queue
from servicedesk.orgs.operations import create_organisation
from servicedesk.reports.service import generate_report
from servicedesk.timeutil import utcnow
from tests.browser.chromium import sign_in
from tests.helpers import event

PASSWORD = "browser test password"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(operations, "_hasher", hasher)
    monkeypatch.setattr(operations, "_DUMMY_HASH", hasher.hash("x"))


def _iso(value: datetime) -> str:
    return value.isoformat()


@pytest.fixture
def world(live_app: Any, live_server: str) -> dict[str, Any]:
    """An organisation with calls and e-mails today and last month, a frozen report, users."""
    engine = live_app.extensions["servicedesk.engine"]
    now = utcnow().replace(microsecond=0)
    with Session(engine, expire_on_commit=False) as db:
        org = create_organisation(db, slug="kumla", name="Kumla kommun", country="SE")
        _, token = create_token(db, org)
        db.commit()
    events = []
    last_month = now - timedelta(days=now.day + 3)
    # Half an hour ago, unless that was yesterday in Kumla (the page shows the local today).
    local = now.astimezone(ZoneInfo("Europe/Stockholm"))
    since_midnight = local - local.replace(hour=0, minute=0, second=0)
    recent = now - min(timedelta(minutes=30), since_midnight / 2)
    for n, when in enumerate([recent, last_month]):
        for q, queue in enumerate(("Bygglov", "Växel")):
            cid = f"c{n}{q}"
            events += [
                event("call.queued", cid, _iso(when), queue=queue),
                event("call.answered", cid, _iso(when + timedelta(seconds=40)), queue=queue),
                event(
                    "call.ended",
                    cid,
                    _iso(when + timedelta(seconds=200)),
                    queue=queue,
                    direct_answer=q == 0,
                    agent="a1",
                ),
                event(
                    "survey.response",
                    cid,
                    _iso(when + timedelta(seconds=300)),
                    channel="phone",
                    question="treatment",
                    score=4 + q,
                ),
            ]
        events.append(event("email.received", f"e{n}", _iso(when), queue="Bygglov"))
    client = live_app.test_client()
    response = client.post(
        "/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    with Session(engine, expire_on_commit=False) as db:
        org = db.merge(org)
        generate_report(db, org, Month.of(last_month.date()))
        users = {
            role: create_user(db, org, email=f"{role}@kumla.se", password=PASSWORD, role=role)
            for role in ("quality", "admin")
        }
        users["bygglov"] = create_user(
            db,
            org,
            email="bygglov@kumla.se",
            password=PASSWORD,
            role="team_leader",
            queue_names=["Bygglov"],
        )
        vaxel = db.scalars(sa.select(Queue.id).where(Queue.name == "Växel")).one()
        db.commit()
    return {"token": token, "vaxel": vaxel, "month": str(Month.of(last_month.date()))}


def test_sign_in_today_refreshes_without_reloading(page, live_server, live_app, world):
    sign_in(page, live_server, "quality@kumla.se", PASSWORD)
    assert page.url.rstrip("/") == live_server
    # Today itself even on a weekend or holiday (which shows the last working day by default).
    page.goto(f"{live_server}/?today=1")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("[data-figure=offered]") == "2"
    assert page.locator("#today-live svg").count() == 1
    page.evaluate("window.__sameDocument = true")
    late = event("call.queued", "late", _iso(utcnow() - timedelta(seconds=5)), queue="Växel")
    client = live_app.test_client()
    response = client.post(
        "/api/v1/events", json=late, headers={"Authorization": f"Bearer {world['token']}"}
    )
    assert response.status_code == 202
    # The day's figures are reused for 10 s across dashboards; waiting calls are live.
    expect(page.locator("[data-figure=waiting]")).to_have_text("1", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.problems == []


def test_month_shows_figures_and_charts(page, live_server, world):
    sign_in(page, live_server, "quality@kumla.se", PASSWORD)
    page.goto(f"{live_server}/month?month={world['month']}")
    assert "Fryst rapport, version 1" in page.inner_text("main")
    assert page.locator("figure.chart svg").count() == 7
    assert page.locator("figure.chart table").count() == 7
    box = page.locator("#trend-phone-figure svg").bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    with page.expect_navigation():
        page.click("[data-figure='phone.direct_answer_rate'] a")
    assert page.locator("[data-total]").get_attribute("data-total") == "1"
    assert page.problems == []


def test_switch_language(page, live_server, world):
    sign_in(page, live_server, "quality@kumla.se", PASSWORD)
    assert page.inner_text("header nav").startswith("I dag")
    with page.expect_navigation():  # the switch submits itself on change
        page.select_option("#lang-select", "nb")
    assert "Logg ut" in page.inner_text("header")
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert "Sign out" in page.inner_text("header")
    assert page.get_attribute("html", "lang") == "en"


def test_quality_staff_download_an_export(page, live_server, world, tmp_path):
    sign_in(page, live_server, "quality@kumla.se", PASSWORD)
    page.goto(f"{live_server}/reports/")
    with page.expect_download() as info:
        page.click("a[href$='/download/xlsx']")
    download = info.value
    assert download.suggested_filename.endswith(f"{world['month']}-v1.xlsx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes()[:2] == b"PK"  # a zip container, as XLSX is


def test_team_leader_of_another_queue_is_refused(page, live_server, world):
    sign_in(page, live_server, "bygglov@kumla.se", PASSWORD)
    response = page.goto(f"{live_server}/month?queue={world['vaxel']}")
    assert response.status == 403
    assert "Inte tillåtet" in page.inner_text("main")
    response = page.goto(f"{live_server}/reports/")
    assert response.status == 403
    page.goto(f"{live_server}/month")
    assert "Växel" not in page.inner_text("main")
