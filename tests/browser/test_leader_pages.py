"""The team leader's pages in Chromium: Today fits a wall screen (1440 x 900, 1920 x 1080)
without scrolling; Period, Intervals, Staffing, Agents and the agents' settings at 1440 and
390 px never scroll sideways and pass axe-core."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from servicedesk.auth.operations import create_user
from servicedesk.dashboard.agents import set_agents_enabled
from servicedesk.ingest.tokens import create_token
from servicedesk.orgs.operations import create_organisation
from servicedesk.timeutil import utcnow
from tests.browser.chromium import sign_in
from tests.browser.test_browser import PASSWORD, cheap_hashes  # noqa: F401  (fixture)
from tests.helpers import event

TZ = ZoneInfo("Europe/Stockholm")
WIDTHS = (1440, 390)


@pytest.fixture
def leader_world(live_app: Any, live_server: str) -> dict[str, Any]:
    """Three weeks of weekday calls 8-16 in two queues, agents on, a team leader and an admin."""
    engine = live_app.extensions["servicedesk.engine"]
    with Session(engine, expire_on_commit=False) as db:
        org = create_organisation(db, slug="kumla", name="Kumla kommun", country="SE")
        _, token = create_token(db, org)
        create_user(db, org, email="leader@kumla.se", password=PASSWORD, role="team_leader")
        create_user(db, org, email="admin@kumla.se", password=PASSWORD, role="admin")
        set_agents_enabled(db, org, True, "admin@kumla.se")
        db.commit()
    today = utcnow().astimezone(TZ).date()
    events = []
    for back in range(1, 22):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for hour in range(8, 16):
            for n in range(3):
                at = datetime(day.year, day.month, day.day, hour, 15 * n, tzinfo=TZ)
                cid = f"{day}-{hour}-{n}"
                queue = "Bygglov" if n else "Växel"
                events.append(event("call.queued", cid, at.isoformat(), queue=queue))
                if n < 2:
                    answered = at + timedelta(seconds=20 + 30 * n)
                    events += [
                        event("call.answered", cid, answered.isoformat(), agent=f"a{n}"),
                        event(
                            "call.ended",
                            cid,
                            (answered + timedelta(minutes=4)).isoformat(),
                            direct_answer=n == 0,
                        ),
                    ]
    client = live_app.test_client()
    for start in range(0, len(events), 500):
        response = client.post(
            "/api/v1/events",
            json={"events": events[start : start + 500]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 202, response.get_data(as_text=True)
    return {"week": f"{(today - timedelta(days=7)).isocalendar().year}-W"
                    f"{(today - timedelta(days=7)).isocalendar().week:02d}"}  # fmt: skip


def _axe(page: Any, where: str) -> None:
    results = Axe().run(page)
    details = [
        (v["id"], [(n["target"], n.get("failureSummary")) for n in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert results.violations_count == 0, (where, details)


def test_today_fits_a_wall_screen(page, live_server, leader_world):
    sign_in(page, live_server, "leader@kumla.se", PASSWORD)
    for width, height in ((1440, 900), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/?today=1")
        page.wait_for_load_state("networkidle")
        tall, wide = page.evaluate(
            "[document.documentElement.scrollHeight, document.documentElement.scrollWidth]"
        )
        assert tall <= height, f"Today is {tall} px tall at {width} x {height}"
        assert wide <= width
    page.goto(f"{live_server}/")
    page.wait_for_load_state("networkidle")
    _axe(page, "today")
    assert not page.problems


@pytest.mark.parametrize(
    "path",
    ["/period?period={week}", "/period?period=ytd", "/intervals?period={week}&minutes=15",
     "/staffing?weeks=3", "/agents?period={week}", "/month"],
)  # fmt: skip
def test_leader_pages_at_desktop_and_phone_width(page, live_server, leader_world, path):
    sign_in(page, live_server, "leader@kumla.se", PASSWORD)
    url = live_server + path.format(**leader_world)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"{path} at {width} px scrolls sideways"
        _axe(page, f"{path} at {width}")
    assert not page.problems


def test_agent_settings_page(page, live_server, leader_world):
    sign_in(page, live_server, "admin@kumla.se", PASSWORD)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/settings/agents")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"agent settings at {width} px scrolls sideways"
        _axe(page, f"agent settings at {width}")
    page.fill("#name-0", "Anna Lind")
    with page.expect_navigation():
        page.click("form button[type=submit] >> nth=-1")
    assert page.locator("text=Anna Lind").count() or page.input_value("#name-0") == "Anna Lind"
