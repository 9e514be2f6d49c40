"""Settings → Call lists in Chromium: upload, preview, import, result and the refused rows
download, checked with axe-core, with screenshots at desktop and phone width in sv, nb and en
(kept in the test's folder; CALL_IMPORT_SHOTS=DIR keeps them there instead)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from servicedesk.auth import operations
from servicedesk.auth.operations import create_user
from servicedesk.orgs.operations import create_organisation
from tests.browser.chromium import sign_in
from tests.callimport.calls import FIXTURES

#: A long browser flow (upload, preview, import): make test-all and CI.
pytestmark = pytest.mark.slow

PASSWORD = "browser test password"
WIDTHS = {"desktop": 1440, "phone": 390}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(operations, "_hasher", hasher)
    monkeypatch.setattr(operations, "_DUMMY_HASH", hasher.hash("x"))


@pytest.fixture
def admin(live_app: Any, live_server: str) -> str:
    engine = live_app.extensions["servicedesk.engine"]
    with Session(engine, expire_on_commit=False) as db:
        org = create_organisation(db, slug="kumla", name="Kumla kommun", country="SE")
        create_user(db, org, email="admin@kumla.se", password=PASSWORD, role="admin")
        db.commit()
    return "admin@kumla.se"


def _axe(page: Any) -> None:
    results = Axe().run(page)
    details = [
        (v["id"], [(n["target"], n.get("failureSummary")) for n in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert results.violations_count == 0, details


def _shots(page: Any, folder: Path, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"{name} at {width} px scrolls sideways"
    page.set_viewport_size({"width": 1440, "height": 900})


def _language(page: Any, code: str) -> None:
    with page.expect_navigation():
        page.select_option("#lang-select", code)


def test_upload_preview_import_and_download(page, live_server, admin, tmp_path):
    folder = Path(os.environ.get("CALL_IMPORT_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server, admin, PASSWORD)
    page.goto(f"{live_server}/settings/calls/")
    assert "Importera en samtalslista" in page.inner_text("main")
    _axe(page)
    # A file with bad rows first: the preview says which would be refused, and why.
    page.set_input_files("#file", str(FIXTURES / "bad-rows.csv"))
    page.select_option("#mapping", "generic")
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    assert page.inner_text("[data-count=refused]") == "10"
    assert page.locator("#refused-rows tbody tr").count() == 10
    assert "start: empty" in page.inner_text("#refused-rows")
    _axe(page)
    with page.expect_navigation():
        page.click("#run-import")
    assert page.inner_text("[data-count=imported]") == "2"
    _axe(page)
    with page.expect_download() as info:
        page.click("a[href$='refused.csv']")
    target = tmp_path / "refused.csv"
    info.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert text.startswith("Rad;Anledning;") and "'=HYPERLINK" in text
    # Then a whole month: previewed, imported, listed among the earlier imports.
    page.goto(f"{live_server}/settings/calls/")
    page.set_input_files("#file", str(FIXTURES / "generic.csv"))
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    assert page.locator("#preview-rows tbody tr").count() == 9
    assert "2026-03" in page.inner_text("#preview-figures")
    for code in ("sv", "nb", "en"):
        if code != "sv":
            _language(page, code)
        _shots(page, folder, f"calls-preview-{code}")
    page.goto(f"{live_server}/settings/calls/")
    page.set_input_files("#file", str(FIXTURES / "generic.csv"))
    with page.expect_navigation():
        page.click("form[enctype] button[type=submit]")
    _axe(page)
    with page.expect_navigation():
        page.click("#run-import")
    assert page.inner_text("[data-count=imported]") == "9"
    for code in ("en", "nb", "sv"):
        _language(page, code)
        _axe(page)
        _shots(page, folder, f"calls-result-{code}")
        page.goto(f"{live_server}/settings/calls/")
        _shots(page, folder, f"calls-index-{code}")
        page.go_back()
    assert page.problems == []
