"""The admin's settings pages: targets, closed days, queues, tokens and users."""

from __future__ import annotations

import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from servicedesk.auth.models import User
from servicedesk.dashboard.targets import org_targets
from servicedesk.ingest.models import IngestToken
from servicedesk.orgs.models import ClosedDay, Queue
from tests.helpers import post
from tests.web.conftest import login, post_form


def test_targets_are_typed_the_local_way(client, org, signed_in, db):
    signed_in(org, "admin")
    response = post_form(
        client,
        "/settings/targets",
        {"t-phone__service_level": "80,5", "t-survey__ease__index": ""},
        page="/settings/",
    )
    assert response.status_code == 303
    assert org_targets(db, org) == {"phone.service_level": 80.5}
    assert 'value="80,5"' in client.get("/settings/").get_data(as_text=True)
    post_form(client, "/settings/targets", {"t-phone__service_level": "180"}, page="/settings/")
    assert org_targets(db, org) == {"phone.service_level": 80.5}


def test_token_is_shown_once_and_can_be_revoked(client, org, signed_in, db):
    signed_in(org, "admin")
    response = post_form(client, "/settings/tokens", {"label": "växel", "signing": "y"})
    html = response.get_data(as_text=True)
    token = html.split('id="new-token">')[1].split("<")[0]
    assert token.startswith("sdk_") and 'id="new-secret">whsec_' in html
    assert token not in client.get("/settings/tokens").get_data(as_text=True)
    row = db.scalars(sa.select(IngestToken)).one()
    assert row.token_hash != token and row.label == "växel"
    revoked = post_form(client, f"/settings/tokens/{row.id}/revoke", {}, page="/settings/tokens")
    assert revoked.status_code == 303, revoked.get_data(as_text=True)[:3000]
    db.rollback()  # end the test session's read snapshot
    db.refresh(row)
    assert row.revoked_at is not None
    assert post(client, token, {"events": []}).status_code == 401


def test_closed_days_and_queues(client, org, signed_in, db):
    signed_in(org, "admin")
    post_form(client, "/settings/closed-days", {"day": "2026-12-28", "reason": "klämdag"})
    row = db.scalars(sa.select(ClosedDay)).one()
    assert str(row.day) == "2026-12-28"
    post_form(client, f"/settings/closed-days/{row.id}/remove", {}, page="/settings/closed-days")
    db.rollback()
    assert db.scalars(sa.select(ClosedDay)).first() is None
    post_form(client, "/settings/queues", {"name": "Bygglov"})
    post_form(client, "/settings/queues", {"name": "Bygglov"})
    db.rollback()
    assert db.scalars(sa.select(sa.func.count()).select_from(Queue)).one() == 1


def test_admin_adds_and_limits_users(app, client, org, signed_in, db):
    admin = signed_in(org, "admin")
    queue = Queue(organisation_id=org.id, name="Bygglov")
    db.add(queue)
    db.commit()
    response = post_form(
        client,
        "/settings/users",
        {
            "email": "ny@kumla.se",
            "role": "team_leader",
            "password": "long enough pass",
            "queues": str(queue.id),
        },
    )
    assert response.status_code == 303
    user = db.scalars(sa.select(User).where(User.email == "ny@kumla.se")).one()
    other = app.test_client()
    assert login(other, "ny@kumla.se", "long enough pass").status_code == 303
    post_form(
        client,
        f"/settings/users/{user.id}",
        {"role": "team_leader"},
        page=f"/settings/users/{user.id}",
    )  # active unticked: switched off
    db.rollback()
    db.refresh(user)
    assert not user.active
    assert other.get("/").status_code == 302
    # An admin cannot lock themselves out.
    post_form(
        client,
        f"/settings/users/{admin.id}",
        {"role": "quality", "active": "y"},
        page=f"/settings/users/{admin.id}",
    )
    db.rollback()
    db.refresh(admin)
    assert admin.role == "admin"


def test_a_reports_token_is_listed_with_its_scope_and_can_be_revoked(
    client, org, signed_in, db, make_token
):
    reader = make_token(org, scope="reports:read")
    auth = {"Authorization": f"Bearer {reader}"}
    assert client.get("/api/v1/reports", headers=auth).status_code == 200
    signed_in(org, "admin")
    assert "Läsa rapporter (rapport-API)" in client.get("/settings/tokens").get_data(as_text=True)
    row = db.scalars(sa.select(IngestToken)).one()
    revoked = post_form(client, f"/settings/tokens/{row.id}/revoke", {}, page="/settings/tokens")
    assert revoked.status_code == 303
    assert client.get("/api/v1/reports", headers=auth).status_code == 401


def test_a_reports_token_is_made_on_the_settings_page_and_audited(client, org, signed_in, db):
    admin = signed_in(org, "admin")
    refused = post_form(
        client, "/settings/tokens", {"label": "BI", "scope": "reports:read", "signing": "y"}
    )
    assert "Bara token som skickar händelser signerar" in refused.get_data(as_text=True)
    assert db.scalars(sa.select(IngestToken)).all() == []
    response = post_form(client, "/settings/tokens", {"label": "BI", "scope": "reports:read"})
    html = response.get_data(as_text=True)
    token = html.split('id="new-token">')[1].split("<")[0]
    assert 'id="new-secret"' not in html
    assert (
        client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert post(client, token, {"events": []}).status_code == 401
    db.rollback()
    entry = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "token.create")).one()
    assert entry.actor == admin.email and entry.details["scope"] == "reports:read"
