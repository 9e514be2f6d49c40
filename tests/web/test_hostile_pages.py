"""Pages under hostile input and outages: 4xx for hostile shapes, 503 while the database is down."""

from __future__ import annotations

import pytest

from servicedesk.db import make_engine


@pytest.mark.parametrize(
    "url",
    [
        "/month/contacts?page=999999999999999999999",
        "/month/contacts?page=" + "9" * 5000,
        "/month/contacts?page=-1e999",
        "/month/contacts?agent=%00",
        "/month/contacts?agent=a%00b&page=2",
        "/month?month=%00",
        "/month?month=99999-01",
    ],
)
def test_hostile_queries_are_4xx(client, org, signed_in, url):
    signed_in(org, "quality")
    response = client.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)


def test_a_nul_in_a_form_is_400_not_a_stored_or_failed_write(client, org, make_user):
    from tests.web.conftest import csrf_token

    user = make_user(org)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email + "\x00", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/", "/month", "/month/contacts", "/reports/", "/login"])
def test_pages_answer_503_with_retry_after_while_the_database_is_down(
    app, client, org, signed_in, engine_name, tmp_path, path
):
    signed_in(org, "admin")
    unreachable = (
        "postgresql+psycopg://postgres@127.0.0.1:1/none"
        if engine_name == "postgresql"
        else f"sqlite:///{tmp_path}/no/such/dir/x.sqlite"
    )
    original = app.extensions["servicedesk.engine"]
    original.dispose()
    app.extensions["servicedesk.engine"] = down = make_engine(unreachable)
    try:
        response = client.get(path)
    finally:
        down.dispose()
        app.extensions["servicedesk.engine"] = original
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    assert "<h1>" in response.get_data(as_text=True)
