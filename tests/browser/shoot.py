"""Screenshots of the main pages for the README: ``python -m tests.browser.shoot BASE_URL``.

Run against a server with demo data (``servicedesk demo``, a few reports generated) and users
made with ``servicedesk user create``; the e-mail addresses and password come from the
environment (SHOOT_QUALITY, SHOOT_ADMIN, SHOOT_PASSWORD).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.browser.chromium import browser, sign_in

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    password = os.environ["SHOOT_PASSWORD"]
    with browser() as b:
        wall = b.new_page(viewport={"width": 1600, "height": 1000}, locale="sv-SE")
        sign_in(wall, base, os.environ["SHOOT_QUALITY"], password)
        shots = [
            ("today", "/"),
            ("month", "/month"),
            ("contacts", "/month/contacts?channel=email&deadline=missed&days=1"),
            ("reports", "/reports/"),
        ]
        for name, path in shots:
            wall.goto(base + path)
            wall.wait_for_load_state("networkidle")
            wall.screenshot(path=str(OUT / f"{name}.png"), full_page=name in ("today", "reports"))
        wall.goto(base + "/month")
        wall.screenshot(path=str(OUT / "month-full.png"), full_page=True)
        # The team leader's pages (issue 15): Today on a 1920 x 1080 wall screen, any period,
        # intervals, staffing and agents at 1440 px, a period on a phone.
        leader = [
            ("today-wall", "/", 1920, 1080, False),
            ("period", "/period", 1440, 900, True),
            ("intervals", "/intervals?minutes=30", 1440, 900, True),
            ("staffing", "/staffing", 1440, 900, True),
            ("period-phone", "/period?period=ytd", 390, 844, True),
        ]
        for name, path, width, height, full in leader:
            view = b.new_page(viewport={"width": width, "height": height}, locale="sv-SE")
            sign_in(view, base, os.environ.get("SHOOT_LEADER", os.environ["SHOOT_ADMIN"]), password)
            view.goto(base + path)
            view.wait_for_load_state("networkidle")
            view.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
            view.close()
        admin = b.new_page(viewport={"width": 1400, "height": 900}, locale="sv-SE")
        sign_in(admin, base, os.environ["SHOOT_ADMIN"], password)
        admin.goto(base + "/agents")  # shown when the organisation has turned the table on
        admin.screenshot(path=str(OUT / "agents.png"), full_page=True)
        admin.goto(base + "/settings/")
        admin.screenshot(path=str(OUT / "settings.png"), full_page=True)
        login = b.new_page(viewport={"width": 1200, "height": 700}, locale="sv-SE")
        login.goto(base + "/login")
        login.screenshot(path=str(OUT / "login.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
