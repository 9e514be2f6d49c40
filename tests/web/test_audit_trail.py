"""Sign-ins and exports leave a trace in the audit log (no passwords, no callers)."""

from __future__ import annotations

import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from tests.helpers import export_report
from tests.web.conftest import login


def _entries(db) -> list[AuditEntry]:
    db.rollback()  # a fresh snapshot: the client wrote in its own session
    return list(db.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def test_sign_in_and_failed_attempts_are_logged(client, db, org, make_user):
    user = make_user(org, "quality")
    assert login(client, user.email, "wrong password").status_code == 401
    assert login(client, user.email).status_code == 303
    failed, ok = _entries(db)
    assert (failed.action, failed.actor, failed.organisation_id) == (
        "auth.sign_in_failed",
        user.email,
        None,
    )
    assert (ok.action, ok.actor, ok.organisation_id) == ("auth.sign_in", user.email, org.id)
    assert ok.details["ip"] == "127.0.0.1"
    assert "wrong password" not in str(failed.details)


def test_report_export_is_logged(runner, db, org, tmp_path):
    assert (
        runner.invoke(args=["report", "generate", "--org", "kumla", "--month", "2026-06"]).exit_code
        == 0
    )
    out = tmp_path / "r.json"
    result = export_report(runner, "json", out)
    assert result.exit_code == 0, result.output
    (entry,) = [e for e in _entries(db) if e.action == "report.export"]
    assert entry.organisation_id == org.id and entry.actor.startswith("cli")
    assert entry.details["month"] == "2026-06" and entry.details["format"] == "json"
    assert entry.details["bytes"] == out.stat().st_size


def test_tokens_and_users_made_from_the_cli_are_logged(runner, db, org):
    created = runner.invoke(args=["token", "create", "--org", "kumla", "--scope", "reports:read"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    made = runner.invoke(
        args=["user", "create", "--org", "kumla", "--email", "ny@kumla.se", "--role", "quality"],
        input="a long enough password\n",
    )
    assert made.exit_code == 0, made.output
    token_id = _entries(db)[0].details["token_id"]
    assert runner.invoke(args=["token", "revoke", "--org", "kumla", str(token_id)]).exit_code == 0
    entries = _entries(db)
    assert [e.action for e in entries] == ["token.create", "user.create", "token.revoke"]
    assert entries[0].details["scope"] == "reports:read"
    assert entries[1].details["email"] == "ny@kumla.se" and entries[1].details["role"] == "quality"
    assert all(e.actor.startswith("cli") and e.organisation_id == org.id for e in entries)
    assert token not in str([e.details for e in entries])
