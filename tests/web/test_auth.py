"""Sign-in, sessions, CSRF, rate limits, security headers and ``servicedesk user create``."""

from __future__ import annotations

import sqlalchemy as sa

from servicedesk.auth.models import User
from servicedesk.auth.operations import set_password
from tests.web.conftest import PASSWORD, csrf_token, login


def test_user_create_reads_the_password_from_stdin(runner, org, db, client):
    result = runner.invoke(
        args=["user", "create", "--org", "kumla", "--email", "Anna@Kumla.se", "--role", "quality"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.scalars(sa.select(User).where(User.email == "anna@kumla.se")).one()
    assert user.role == "quality" and user.organisation_id == org.id
    assert "a long enough password" not in user.password_hash
    assert login(client, "anna@kumla.se", "a long enough password").status_code == 303


def test_user_create_errors_are_one_line(runner, org):
    cases = [
        (["--org", "nowhere", "--email", "a@b.se", "--role", "admin"], "--org"),
        (["--org", "kumla", "--email", "not-an-address", "--role", "admin"], "email"),
        (["--org", "kumla", "--email", "a@b.se", "--role", "admin"], "password"),
        (["--org", "kumla", "--email", "a@b.se", "--role", "boss"], "--role"),
        (
            ["--org", "kumla", "--email", "a@b.se", "--role", "team_leader", "--queue", "Nej"],
            "queue",
        ),
    ]
    for args, field in cases:
        stdin = "short\n" if field == "password" else "a long enough password\n"
        result = runner.invoke(args=["user", "create", *args], input=stdin)
        assert result.exit_code != 0
        assert field in result.output, result.output
    result = runner.invoke(
        args=["user", "create", "--org", "kumla", "--email", "a@b.se", "--role", "admin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0
    again = runner.invoke(
        args=["user", "create", "--org", "kumla", "--email", "A@B.se", "--role", "admin"],
        input="a long enough password\n",
    )
    assert again.exit_code != 0 and "exists" in again.output


def test_sign_in_and_out(client, org, make_user):
    user = make_user(org, "quality")
    assert client.get("/").status_code == 302  # to the sign-in page
    wrong = login(client, user.email, "wrong password!!")
    assert wrong.status_code == 401
    response = login(client, user.email.upper())
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    out = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert out.status_code == 303
    assert client.get("/").status_code == 302


def test_next_only_goes_to_this_site(client, org, make_user):
    user = make_user(org)
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": csrf_token(page),
        },
    )
    assert response.headers["Location"] == "/"


def test_inactive_user_and_password_change_end_sessions(client, org, make_user, db):
    user = make_user(org)
    assert login(client, user.email).status_code == 303
    assert client.get("/").status_code == 200
    row = db.get(User, user.id)
    set_password(db, row, "another long password")
    db.commit()
    assert client.get("/").status_code == 302
    row.active = False
    db.commit()
    assert login(client, user.email, "another long password").status_code == 401


def test_forms_need_their_csrf_token(client, org, make_user):
    user = make_user(org)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_the_events_api_needs_no_csrf_token(client, token):
    response = client.post(
        "/api/v1/events",
        json={
            "id": "e1",
            "type": "call.queued",
            "contact_id": "c1",
            "occurred_at": "2026-06-01T10:00:00+02:00",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202


def test_failed_sign_ins_are_rate_limited(app, client, org, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    user = make_user(org)
    for _ in range(3):
        assert login(client, user.email, "wrong password!!").status_code == 401
    assert login(client, user.email, "wrong password!!").status_code == 429
    # The right password is refused too while the limit holds: guessing cannot go on.
    assert login(client, user.email).status_code == 429


def test_successful_sign_ins_do_not_use_up_the_limit(app, client, org, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    user = make_user(org)
    for _ in range(4):
        assert login(app.test_client(), user.email).status_code == 303


def test_security_headers_on_pages(client, org, signed_in):
    signed_in(org, "admin")
    for url in ("/login", "/", "/settings/"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert client.get("/settings/").headers["Cache-Control"] == "no-store"


def test_security_headers_keep_a_views_own_and_name_https_only_over_https(app, client):
    """Each header once; a view's own value stands; HSTS only on an answer over HTTPS."""
    from flask import Response

    @app.get("/healthz-own-policy")
    def own_policy() -> Response:
        return Response("x", headers={"Content-Security-Policy": "default-src 'none'"})

    response = client.get("/healthz-own-policy")
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert len(response.headers.getlist(name)) == 1
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script_or_style(client, org, signed_in):
    signed_in(org, "admin")
    for url in ("/login", "/", "/month", "/reports/", "/settings/", "/settings/users"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "<style" not in html and " style=" not in html, url
        assert "http://" not in html.replace("http://www.w3.org", "")
        assert "https://" not in html


def test_rate_limits_are_shared_through_redis(database_url, org, make_user):
    """With SERVICEDESK_REDIS_URL the counts live in Redis, so every worker sees them."""
    import random
    import uuid

    from servicedesk import create_app
    from tests.conftest import PSEUDONYM_KEY

    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "PSEUDONYM_KEY": PSEUDONYM_KEY,
        "SECRET_KEY": "test-secret-key-0123456789",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "LOGIN_RATE_LIMIT": "2 per minute",
    }
    # Redis outlives the test: an address and a client of their own keep runs apart.
    user = make_user(org, email=f"{uuid.uuid4().hex}@kumla.se")
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    workers = [create_app(dict(config)), create_app(dict(config))]

    def client(worker):
        c = worker.test_client()
        c.environ_base["REMOTE_ADDR"] = address
        return c

    try:
        assert workers[0].config["RATELIMIT_STORAGE_URI"].startswith("redis://")
        assert login(client(workers[0]), user.email, "wrong password!!").status_code == 401
        assert login(client(workers[1]), user.email, "wrong password!!").status_code == 401
        assert login(client(workers[0]), user.email).status_code == 429
    finally:
        for worker in workers:
            worker.extensions["servicedesk.engine"].dispose()
