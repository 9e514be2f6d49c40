"""Sessions: the documented cookie in production, 12 hours at most, and sign-out ends them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import time_machine
from sqlmodel import Session

from servicedesk import create_app
from servicedesk.auth.models import User
from servicedesk.auth.operations import set_active
from tests.web.conftest import csrf_token, login

HTTPS = "https://localhost"


@pytest.fixture
def production(database_url, tmp_path):
    """The application in production mode (secrets given as the environment would)."""
    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-0123456789",
            "PSEUDONYM_KEY": b"test-pseudonym-key-0123456789",
        }
    )
    app.config["SERVICEDESK_CHOSEN"] = frozenset()
    yield app
    app.extensions["servicedesk.engine"].dispose()


def _sign_in(client, email: str):
    page = client.get("/login", base_url=HTTPS)
    from tests.web.conftest import PASSWORD

    return client.post(
        "/login",
        base_url=HTTPS,
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        headers={"Referer": HTTPS + "/login"},  # CSRF over HTTPS checks the referrer
    )


def test_production_cookie_is_the_documented_one(production, org, make_user):
    user = make_user(org)
    client = production.test_client()
    response = _sign_in(client, user.email)
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    (cookie,) = [c for c in cookies if c.startswith("__Host-servicedesk=")]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert expires <= datetime.now(UTC) + timedelta(hours=12, seconds=5)
    assert production.permanent_session_lifetime == timedelta(hours=12)


def test_a_session_ends_12_hours_after_sign_in_however_busy(client, org, make_user):
    user = make_user(org)
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        assert login(client, user.email).status_code == 303
        for _ in range(11):
            clock.shift(timedelta(hours=1))
            assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=59))
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=2))
        assert client.get("/").status_code == 302, "12 hours after sign-in the session is over"


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app, client, org, make_user):
    user = make_user(org)
    other_device = app.test_client()
    assert login(client, user.email).status_code == 303
    assert login(other_device, user.email).status_code == 303
    copied = client.get_cookie("servicedesk").value
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    thief = app.test_client()
    thief.set_cookie("servicedesk", copied)
    assert thief.get("/").status_code == 302
    assert other_device.get("/").status_code == 302, "signing out ends every session of the user"


def test_switching_a_user_off_ends_their_sessions(app, client, org, make_user, db: Session):
    user = make_user(org)
    assert login(client, user.email).status_code == 303
    set_active(db, db.get(User, user.id), False)
    db.commit()
    assert client.get("/").status_code == 302
