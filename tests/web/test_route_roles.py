"""Every route with every role: who gets in, who is refused, and nobody crosses organisations."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from servicedesk.calendars.service import add_closed_day
from servicedesk.callimport.models import CallImport
from servicedesk.ingest.tokens import create_token
from servicedesk.metrics.periods import Month
from servicedesk.notify.operations import add_endpoint
from servicedesk.reports.service import generate_report
from tests.web.conftest import csrf_token, login

ROLES = ("team_leader", "quality", "admin")
#: Authenticated by token or signature, not by session (see tests of the events API).
MACHINE = ("/api/", "/hooks/", "/healthz", "/readyz", "/static/")


def _routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(MACHINE) or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles"), f"{rule.endpoint}: no role declared"
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        routes.append((rule.endpoint, rule.rule, methods))
    # Signing out ends the walk's session, so it comes last.
    return sorted(routes, key=lambda r: r[0] == "auth.logout")


@pytest.fixture
def world(app, db, make_org, make_user):
    """Two organisations with a user of every role and one object of each kind."""
    orgs = {}
    for slug in ("own", "other"):
        org = make_org(slug=slug)
        users = {role: make_user(org, role) for role in ROLES}
        token, _ = create_token(db, org)
        closed = add_closed_day(db, org, date(2026, 12, 28), "test")
        generate_report(db, org, Month(2026, 10))
        recipient, _ = add_endpoint(
            db, org, "email", f"chef@{slug}.se", secret_key=app.config["SECRET_KEY"]
        )
        call_import = CallImport(organisation_id=org.id, file_sha256="0" * 64, status="done")
        db.add(call_import)
        db.commit()
        orgs[slug] = {
            "org": org,
            "users": users,
            "args": {
                "user_id": users["team_leader"].id,
                "token_id": token.id,
                "row_id": closed.id,
                "month": "2026-10",
                "version": 1,
                "fmt": "json",
                "import_id": call_import.id,
                "recipient_id": recipient.id,
                # The citizen's survey links: a token that names nothing (404 for anyone).
                "token": "not-a-survey-token",
                # The SMS reply address: a secret that names nothing (404 for anyone).
                "secret": "not-a-reply-secret",
            },
        }
    return orgs


def _url(app: Flask, endpoint: str, rule: str, args: dict[str, object]) -> str:
    with app.test_request_context():
        from flask import url_for

        needed = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint).arguments
        missing = needed - set(args)
        assert not missing, f"{rule}: give the route audit a sample value for {missing}"
        return url_for(endpoint, **{k: args[k] for k in needed})


def _request(client, method: str, url: str, signed_in: bool):
    if method == "GET":
        return client.get(url)
    token = csrf_token(client.get("/" if signed_in else "/login").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def test_every_route_declares_its_roles(app):
    assert len(_routes(app)) >= 10


def test_every_route_with_every_role(app, world):
    own = world["own"]
    routes = _routes(app)
    for role in (None, *ROLES):
        client = app.test_client()
        if role is not None:
            assert login(client, own["users"][role].email).status_code == 303
        for endpoint, rule, methods in routes:
            allowed = app.view_functions[endpoint].allowed_roles
            url = _url(app, endpoint, rule, own["args"])
            for method in methods:
                response = _request(client, method, url, role is not None)
                where = f"{role} {method} {url}"
                assert response.status_code < 500, where
                if allowed is None:
                    assert response.status_code != 403, where
                elif role is None:
                    assert response.status_code == 302, where
                    assert "/login" in response.headers["Location"], where
                elif role in allowed:
                    assert response.status_code in (200, 303), where
                else:
                    assert response.status_code == 403, where


def test_nobody_reaches_another_organisations_objects(app, world):
    own, other = world["own"], world["other"]
    # Routes that name a row by its id; the others (a month, a version) are always read in
    # the signed-in user's own organisation, whatever the URL says.
    id_args = {"user_id", "token_id", "row_id", "import_id", "recipient_id"}
    routes = [r for r in _routes(app) if any(f"{a}>" in r[1] for a in id_args)]
    assert routes
    for role in ROLES:
        client = app.test_client()
        assert login(client, own["users"][role].email).status_code == 303
        for endpoint, rule, methods in routes:
            allowed = app.view_functions[endpoint].allowed_roles
            url = _url(app, endpoint, rule, other["args"])
            for method in methods:
                response = _request(client, method, url, True)
                expected = 404 if allowed is None or role in allowed else 403
                assert response.status_code == expected, f"{role} {method} {url}"
