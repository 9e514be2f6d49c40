"""The Comparison page in Chromium: sv, nb and en at 1440 and 390 px (axe-core, no sideways
scrolling, screenshots), the period picker, the print view and the sharing choice in Settings.
COMPARISON_SHOTS=DIR keeps the screenshots there (docs/screenshots/comparison)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session

from servicedesk.auth import operations
from servicedesk.auth.operations import create_user
from servicedesk.benchmarking.sharing import share
from servicedesk.orgs.operations import create_organisation
from tests.benchmarking.frozen import freeze
from tests.browser.chromium import sign_in
from tests.browser.test_surveys import _axe, _shots

PASSWORD = "browser test password"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(operations, "_hasher", hasher)
    monkeypatch.setattr(operations, "_DUMMY_HASH", hasher.hash("x"))


NEIGHBOURS = [
    ("kumla", "Kumla kommun", "B5", False),
    ("hallsberg", "Hallsbergs kommun", "B5", False),
    ("laxa", "Laxå kommun", "C8", True),
    ("lekeberg", "Lekebergs kommun", "B4", False),
    ("askersund", "Askersunds kommun", "C8", False),
    ("orebro", "Örebro kommun", "A3", False),
    ("nora", "Nora kommun", "C7", False),
]


def _region(app) -> None:
    """Seven municipalities with a year of hand-made frozen months, all sharing."""
    engine = app.extensions["servicedesk.engine"]
    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        for n, (slug, name, group, anonymous) in enumerate(NEIGHBOURS):
            org = create_organisation(db, slug=slug, name=name, country="SE")
            for m in range(1, 13):
                month = f"2026-{m:02d}"
                offered = 800 + 90 * n + 13 * m
                direct = offered * (50 + (n * 7 + m * 3) % 40) // 100
                received = 300 + 20 * n
                answers = 20 + 9 * n + m
                freeze(
                    db,
                    org,
                    month,
                    direct=(direct, offered),
                    within1=(received * (60 + (n * 11 + m) % 35) // 100, received),
                    ease=(answers, 25 * (answers * (1 + n % 3) + m)),
                    # Few e-mail survey answers for some: not ranked, and the page says why.
                    email_survey=(answers - 10, 25 * (answers - 10) * (2 + n % 2)),
                )
            share(db, org, anonymous=anonymous, group=group)
            db.commit()
        kumla = create_organisation(db, slug="nykommun", name="Nya kommunen", country="SE")
        create_user(db, kumla, email="admin@ny.se", password=PASSWORD, role="admin")
        from servicedesk.orgs.operations import get_organisation

        own = get_organisation(db, "kumla")
        create_user(db, own, email="kvalitet@kumla.se", password=PASSWORD, role="quality")
        db.commit()


def test_comparison_page_in_three_languages_and_two_widths(page, live_app, live_server, tmp_path):
    folder = Path(os.environ.get("COMPARISON_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    _region(live_app)
    sign_in(page, live_server, "kvalitet@kumla.se", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    for lang, heading, place_word, anonymous in (
        ("sv", "Jämförelse", " av 7", "Kommun C"),
        ("nb", "Sammenligning", " av 7", "Kommune C"),
        ("en", "Comparison", " of 7", "Municipality C"),
    ):
        page.goto(f"{live_server}/comparison/?period=2026-12")
        if page.input_value("#lang-select") != lang:
            with page.expect_navigation():
                page.select_option("#lang-select", lang)  # the header's language choice
            page.wait_for_load_state("networkidle")
        assert page.inner_text("h1").startswith(heading)
        assert place_word in page.inner_text(".cards")
        assert anonymous in page.content() and "Laxå" not in page.content()
        assert page.locator("svg.pygal-chart").count() >= 3
        _axe(page)
        _shots(page, folder, f"comparison-{lang}")
    # The period picker: a quarter adds up its months.
    page.select_option("select[name=period]", "2026-Q4")
    page.wait_for_url("**period=2026-Q4**")
    assert "Quarter 4 2026" in page.inner_text("h1")
    page.goto(f"{live_server}/comparison/print?period=2026-12")
    _axe(page)
    assert "Kumla kommun" in page.inner_text("h1")
    assert not page.problems

    page.context.clear_cookies()
    sign_in(page, live_server, "admin@ny.se", PASSWORD)
    page.goto(f"{live_server}/comparison/")
    assert "Er organisation deltar inte" in page.inner_text("main")
    page.goto(f"{live_server}/comparison/settings")
    _axe(page)
    _shots(page, folder, "comparison-settings-sv")
    page.check("input[name=anonymous]")
    page.fill("input[name=group]", "B5")
    page.get_by_role("button", name="Spara och delta").click()
    page.wait_for_load_state("networkidle")
    assert "De andra ser er som Kommun" in page.inner_text("main")
    assert not page.problems
