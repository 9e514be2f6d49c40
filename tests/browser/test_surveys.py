"""The citizen's survey in Chromium at phone width: the page in sv, nb and en (axe-core, no
sideways scrolling, screenshots at 390 and 1440 px), answered; the answers then appear on the
month's survey figures. SURVEY_SHOTS=DIR keeps the screenshots there (docs/screenshots)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import Session

from integrations.sms import SmsSent
from servicedesk.auth import operations
from servicedesk.auth.operations import create_user
from servicedesk.ingest.schemas import EventIn
from servicedesk.ingest.service import RawDelivery, ingest_events
from servicedesk.orgs.operations import create_organisation
from servicedesk.surveys.dispatch import DispatchConfig, send_pending
from servicedesk.surveys.operations import save_settings
from servicedesk.timeutil import utcnow
from tests.browser.chromium import sign_in
from tests.conftest import PSEUDONYM_KEY

PASSWORD = "browser test password"
WIDTHS = {"phone": 390, "desktop": 1440}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(operations, "_hasher", hasher)
    monkeypatch.setattr(operations, "_DUMMY_HASH", hasher.hash("x"))


class Outbox:
    provider = "46elks"

    def __init__(self) -> None:
        self.sms: list[str] = []

    def send(self, to: str, message: str, *, status_url: str | None = None) -> SmsSent:
        self.sms.append(message)
        return SmsSent("46elks", f"s{len(self.sms)}", "created")


def _axe(page: Any) -> None:
    results = Axe().run(page)
    details = [(v["id"], [n["target"] for n in v["nodes"]]) for v in results.response["violations"]]
    assert results.violations_count == 0, details


def _shots(page: Any, folder: Path, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"{name} at {width} px scrolls sideways"
    page.set_viewport_size({"width": 390, "height": 844})


def test_answer_a_survey_at_phone_width(page, live_app, live_server, tmp_path) -> None:
    folder = Path(os.environ.get("SURVEY_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    engine = live_app.extensions["servicedesk.engine"]
    with live_app.app_context(), Session(engine, expire_on_commit=False) as db:
        org = create_organisation(db, slug="kumla", name="Kumla kommun", country="SE")
        create_user(db, org, email="kvalitet@kumla.se", password=PASSWORD, role="quality")
        create_user(db, org, email="admin@kumla.se", password=PASSWORD, role="admin")
        save_settings(
            db,
            org,
            {
                "phone_enabled": True,
                "share_percent": 100.0,
                "delay_minutes": 0,
                "quiet_start": "00:00",
                "quiet_end": "00:00",
                "sms_on_closed_days": True,
                "sms_provider": "46elks",
                "sms_account": "u1",
                "sms_from": "Kumla",
            },
            secret_key=live_app.config["SECRET_KEY"],
            sms_secret="api-password",
        )
        at = utcnow() - timedelta(minutes=20)
        events = [
            {"type": "call.queued", "minutes": 0, "caller": "+46701740605", "queue": "Bygglov"},
            {"type": "call.answered", "minutes": 1, "agent": "a1"},
            {"type": "call.ended", "minutes": 6},
        ]
        parsed = [
            EventIn.model_validate(
                {
                    "id": f"b{n}",
                    "type": e["type"],
                    "contact_id": "call-42",
                    "occurred_at": (at + timedelta(minutes=e["minutes"])).isoformat(),
                    **{k: v for k, v in e.items() if k not in ("type", "minutes")},
                }
            )
            for n, e in enumerate(events)
        ]
        ingest_events(db, org, parsed, RawDelivery("test", b"{}"), pseudonym_key=PSEUDONYM_KEY)
        db.commit()
    outbox = Outbox()
    config = DispatchConfig(live_app.config["SECRET_KEY"], live_server)
    assert send_pending(engine, config, sms_factory=lambda s, p: outbox).sent == 1
    link = re.search(r"(http://127\.0\.0\.1:\d+/s/\S+)", outbox.sms[0]).group(1)

    page.set_viewport_size({"width": 390, "height": 844})
    for lang, heading in (
        ("nb", "Hvordan gikk kontakten din med Kumla kommun?"),
        ("en", "How did your contact with Kumla kommun go?"),
        ("sv", "Hur gick din kontakt med Kumla kommun?"),
    ):
        page.goto(f"{link}?lang={lang}")
        assert page.inner_text("h1") == heading
        _axe(page)
        _shots(page, folder, f"survey-{lang}")
    # Every question is a fieldset with a legend, its answers a radio group.
    assert page.locator("fieldset legend").count() == 2
    assert page.get_by_role("radiogroup").count() == 2
    assert "Hur enkelt var det att få hjälp av kommunen" in page.inner_text("#q-ease legend")
    page.locator("#q-ease label.choice").nth(3).click()  # tapping the box marked 4
    page.locator("#q-treatment").get_by_role("radio", name="5 (Mycket nöjd)").check()
    assert page.locator("#q-ease input[value='4']").is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Skicka mina svar").click()
    assert page.inner_text("h1") == "Tack för dina svar!"
    _axe(page)
    _shots(page, folder, "survey-thanks-sv")
    assert not page.problems

    sign_in(page, live_server, "kvalitet@kumla.se", PASSWORD)
    page.goto(f"{live_server}/surveys/")
    ease = page.locator("tr[data-figure=phone_ease]")
    assert ease.locator("[data-value=responses]").inner_text() == "1"
    assert ease.locator("[data-value=index]").inner_text().startswith("75")
    treatment = page.locator("tr[data-figure=phone_treatment]")
    assert treatment.locator("[data-value=index]").inner_text().startswith("100")
    assert page.locator("tr[data-channel=phone] [data-value=sent]").inner_text() == "1"
    assert page.locator("tr[data-channel=phone] [data-value=answered]").inner_text() == "1"
    assert "74,9" in page.inner_text("tr[data-figure=phone_ease]")  # SKR 2024 beside it
    _axe(page)
    _shots(page, folder, "survey-figures-sv")
    page.context.clear_cookies()
    sign_in(page, live_server, "admin@kumla.se", PASSWORD)
    page.goto(f"{live_server}/settings/surveys")
    _axe(page)
    _shots(page, folder, "survey-settings-sv")


def test_make_the_sms_reply_address_in_three_languages(page, live_app, live_server, tmp_path):
    """Settings → Surveys, "Replies by SMS": the address is made with one button and shown
    once, and the panel reads well (axe-core, no sideways scrolling) in sv, nb and en."""
    folder = Path(os.environ.get("SURVEY_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    engine = live_app.extensions["servicedesk.engine"]
    with live_app.app_context(), Session(engine, expire_on_commit=False) as db:
        org = create_organisation(db, slug="kumla", name="Kumla kommun", country="SE")
        for lang in ("sv", "nb", "en"):
            create_user(db, org, email=f"admin-{lang}@kumla.se", password=PASSWORD, role="admin",
                        locale=lang)  # fmt: skip
        save_settings(db, org, {"phone_enabled": True, "sms_provider": "46elks",
                                "sms_account": "u1", "sms_from": "+46766861004"},
                      secret_key=live_app.config["SECRET_KEY"], sms_secret="pw")  # fmt: skip
        db.commit()
    buttons = {"sv": "Skapa svarsadressen", "nb": "Lag en ny svaradresse",
               "en": "Make a new reply address"}  # fmt: skip
    headings = {"sv": "Svar via sms", "nb": "Svar på SMS", "en": "Replies by SMS"}
    for lang in ("sv", "nb", "en"):
        page.context.clear_cookies()
        sign_in(page, live_server, f"admin-{lang}@kumla.se", PASSWORD)
        page.goto(f"{live_server}/settings/surveys")
        panel = page.locator("#sms-replies")
        assert panel.locator("h2").inner_text() == headings[lang]
        with page.expect_navigation():
            panel.get_by_role("button", name=buttons[lang]).click()
        address = page.inner_text("#reply-address")
        assert address.startswith(f"{live_server}/s/sms/") and len(address) > 60
        _axe(page)
        page.locator("#sms-replies").scroll_into_view_if_needed()
        _shots(page, folder, f"survey-replies-{lang}")
        page.goto(f"{live_server}/settings/surveys")
        assert page.locator("#reply-address").count() == 0  # shown once
    assert not page.problems
