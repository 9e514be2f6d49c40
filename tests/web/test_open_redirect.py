"""``next`` goes only to a plain path on this site, from every place that redirects to it."""

from __future__ import annotations

import pytest

from servicedesk.redirects import safe_next
from tests.web.conftest import PASSWORD, csrf_token

HOSTILE = [
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%2F/evil.example",
    "/%5Cevil.example",
    " //evil.example",
    "/\u2028/evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_the_one_function_refuses_anything_but_a_plain_path(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/", "/month?month=2026-06", "/month/contacts?page=2#top"])
def test_plain_paths_pass(target):
    assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\\evil.example"])
def test_sign_in_and_the_language_switch_stay_on_the_site(client, org, make_user, target):
    user = make_user(org)
    page = client.get("/login", query_string={"next": target})
    token = csrf_token(page.get_data(as_text=True))
    form = {"email": user.email, "password": PASSWORD, "csrf_token": token, "next": target}
    response = client.post("/login", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    again = client.get("/login", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"] == "/"
    fresh = csrf_token(client.get("/").get_data(as_text=True))  # a new session, a new token
    switched = client.post("/language", data={"locale": "en", "next": target, "csrf_token": fresh})
    assert switched.status_code == 303
    assert switched.headers["Location"] == "/login"
