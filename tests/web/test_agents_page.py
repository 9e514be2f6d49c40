# ruff: noqa: F811  (the fixtures of test_pages are imported by name)
"""The agents' table: off by default, only team leaders (of their queues) and administrators,
every view audited, names given by an administrator."""

from __future__ import annotations

import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from servicedesk.dashboard.agents import set_agents_enabled
from tests.web.conftest import post_form
from tests.web.test_pages import frozen_clock, traffic  # noqa: F401  (fixtures)


def _enable(db, org) -> None:
    set_agents_enabled(db, org, True, "admin@test")
    db.commit()


def test_off_by_default(client, org, traffic, signed_in):  # noqa: F811
    signed_in(org, "team_leader")
    response = client.get("/agents")
    html = response.get_data(as_text=True)
    assert "är avstängd" in html
    assert 'id="agents-table"' not in html
    assert 'href="/agents"' not in client.get("/").get_data(as_text=True)


def test_quality_staff_never_see_it(client, org, traffic, signed_in, db):  # noqa: F811
    _enable(db, org)
    signed_in(org, "quality")
    assert client.get("/agents").status_code == 403


def test_a_team_leader_sees_the_table_and_the_view_is_audited(
    client,
    org,
    traffic,
    signed_in,
    db,  # noqa: F811
):
    _enable(db, org)
    user = signed_in(org, "team_leader")
    response = client.get("/agents?period=2026-W25")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    # a2 answered v1 (10:01:30 -> 10:05 = 210 s); b1 was answered without an agent named, but
    # its call.ended named a1.
    table = html[html.index('id="agents-table"') :]
    assert '<th scope="row">a2' in table
    assert "3 min 30 s" in table
    entries = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "agents.view")).all()
    assert len(entries) == 1
    assert entries[0].actor == user.email
    assert entries[0].details["period"] == "2026-W25"


def test_a_scoped_team_leader_sees_only_the_agents_of_the_queue(
    client,
    org,
    traffic,
    signed_in,
    db,  # noqa: F811
):
    _enable(db, org)
    signed_in(org, "team_leader", queue_names=["Bygglov"])
    html = client.get("/agents?period=2026-W25").get_data(as_text=True)
    table = html[html.index('id="agents-table"') :]
    assert "a2" not in table  # a2 answered in Växel


def test_an_admin_turns_it_on_and_names_an_agent(client, org, traffic, signed_in, db):  # noqa: F811
    signed_in(org, "admin")
    page = client.get("/settings/agents").get_data(as_text=True)
    assert "a2" in page
    index = page.index(">a2</label>")
    field = page[page.rindex('for="name-', 0, index) + 5 : index].split('"')[0]
    response = post_form(client, "/settings/agents", {"enabled": "on", field: "Anna Lind"})
    assert response.status_code == 303
    html = client.get("/agents?period=2026-W25").get_data(as_text=True)
    assert "Anna Lind" in html and "a2" in html
    actions = db.scalars(sa.select(AuditEntry.action)).all()
    assert "agents.setting" in actions and "agents.names" in actions
    # Only administrators reach the settings; never quality staff the table.
    views = client.application.view_functions
    assert views["agents.settings"].allowed_roles == {"admin"}
    assert views["agents.agents"].allowed_roles == {"team_leader", "admin"}
