"""Every page in Chromium with axe-core: no serious or critical violation, in Swedish, Norwegian
and English, at desktop (1440 px) and phone (390 px) width, and no page wider than the screen.

The data is the demo's (``servicedesk demo``: targets, a closed day, a queue with few survey
answers, frozen reports), so the pages look as a newcomer sees them. A11Y_SHOTS=DIR keeps a
screenshot of every page, language and width there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.chromium import sign_in

#: A long browser run (every page, three languages, two widths): make test-all and CI.
pytestmark = pytest.mark.slow

PASSWORD = "demo-servicedesk"
WIDTHS = {"desktop": 1440, "phone": 390}
LANGUAGES = ("sv", "nb", "en")
#: What axe may not find on any page.
IMPACTS = ("serious", "critical")


def _pages(demo: dict[str, Any]) -> dict[str, str]:
    month, version = demo["month"], demo["version"]
    return {
        "today": "/",
        "month": f"/month?month={month}",
        "contacts": f"/month/contacts?month={month}&channel=email&deadline=missed&days=1",
        "reports": f"/reports/?month={month}",
        "print": f"/reports/{month}/v{version}/print",
        "surveys": "/surveys/",
        "settings": "/settings/",
        "queues": "/settings/queues",
        "closed-days": "/settings/closed-days",
        "tokens": "/settings/tokens",
        "users": "/settings/users",
        "user": f"/settings/users/{demo['admin_id']}",
        "call-lists": "/settings/calls/",
        "survey-settings": "/settings/surveys",
        "report-mail": "/settings/report-mail",
        "period": "/period",
        "intervals": "/intervals",
        "staffing": "/staffing",
        "agents": "/agents",
        "agent-settings": "/settings/agents",
        "comparison": "/comparison/",
        "comparison-settings": "/comparison/settings",
    }


def _violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in IMPACTS
    ]


def _language(page: Any, code: str) -> None:
    with page.expect_navigation():
        page.select_option("#lang-select", code)


def test_every_page_passes_axe_in_three_languages_at_two_widths(
    chromium, live_server, demo, tmp_path
):
    shots = Path(os.environ["A11Y_SHOTS"]) if os.environ.get("A11Y_SHOTS") else None
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "admin@demo.se", PASSWORD)
    found: list[Any] = []
    for lang in LANGUAGES:
        page.goto(live_server + "/")
        _language(page, lang)
        for name, path in _pages(demo).items():
            for label, width in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(live_server + path)
                page.wait_for_load_state("networkidle")
                assert page.evaluate("document.documentElement.lang") == lang, (name, lang)
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width + 1:
                    found.append((name, lang, label, "page is wider than the screen", wide))
                found += [(name, lang, label, *v) for v in _violations(page)]
                if shots is not None:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / f"{name}-{lang}-{label}.png"), full_page=True)
    context.close()
    assert not found, "\n".join(map(str, found))


def test_skip_link_and_a_queue_picker_that_works_by_keyboard(chromium, live_server, demo):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "kvalitet@demo.se", PASSWORD)
    page.goto(f"{live_server}/month?month={demo['month']}")
    # The first Tab reaches the skip link; following it puts the focus on the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    picker = page.locator("select[name=queue]")
    picker.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert "queue=" not in page.url, "an arrow key must not submit the picker"
    chosen = picker.evaluate("s => s.options[s.selectedIndex].text")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "queue=" in page.url
    assert (
        page.locator("select[name=queue]").evaluate("s => s.options[s.selectedIndex].text")
        == chosen
    )
    context.close()
