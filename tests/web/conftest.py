"""Fixtures for the signed-in pages: users of each role and a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlmodel import Session

from servicedesk.auth import operations
from servicedesk.auth.models import User
from servicedesk.auth.operations import create_user
from servicedesk.orgs.models import Organisation

PASSWORD = "correct horse battery"
_CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its real cost takes ~50 ms a hash; the tests check the flow, not the cost."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(operations, "_hasher", hasher)
    monkeypatch.setattr(operations, "_DUMMY_HASH", hasher.hash("x"))


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def _make(org: Organisation, role: str = "team_leader", **kwargs: Any) -> User:
        values = {"email": f"user{next(counter)}@{org.slug}.example", "password": PASSWORD}
        user = create_user(db, org, role=role, **(values | kwargs))
        db.commit()
        return user

    return _make


def csrf_token(html: str) -> str:
    found = _CSRF_RE.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1) or found.group(2)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    token = csrf_token(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    """POST a form with the CSRF token of the page it is on (``page``, default ``url``)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(html), **data})


@pytest.fixture
def signed_in(client: FlaskClient, make_user: Callable[..., User]) -> Callable[..., User]:
    """Sign the test client in as a new user of ``org`` with ``role``."""

    def _sign_in(org: Organisation, role: str = "team_leader", **kwargs: Any) -> User:
        user = make_user(org, role, **kwargs)
        response = login(client, user.email)
        assert response.status_code == 303, response.get_data(as_text=True)
        return user

    return _sign_in
