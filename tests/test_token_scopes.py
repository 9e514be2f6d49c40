"""Token scopes: `token create --scope`, `token list`, and tokens made before scopes existed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from servicedesk.db import make_engine
from servicedesk.ingest.models import IngestToken
from servicedesk.migrate import alembic_config, upgrade
from tests.conftest import fresh_database
from tests.helpers import event, post


def _create(runner, *args: str):
    return runner.invoke(args=["token", "create", "--org", "kumla", *args])


def test_a_reports_token_is_made_and_listed_with_its_scope(runner, org, client, db):
    made = _create(runner, "--scope", "reports:read", "--label", "Power BI")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("sdk_")
    assert "reports:read" in made.stderr
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).is_json
    assert post(client, token, event()).status_code == 401
    ingest_token = _create(runner).stdout.strip().splitlines()[-1]
    assert post(client, ingest_token, event()).status_code == 202

    listed = runner.invoke(args=["token", "list", "--org", "kumla"])
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    # id, prefix, kind, state, label as before; the scope is the new last column.
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [
        ("bearer", "active", "Power BI", "reports:read"),
        ("bearer", "active", "", "ingest"),
    ]
    stored = db.scalars(sa.select(IngestToken).order_by(IngestToken.id)).all()
    assert [t.scope for t in stored] == ["reports:read", "ingest"]
    assert token not in repr([t.model_dump() for t in stored])


def test_token_create_without_scope_is_unchanged(runner, org):
    result = _create(runner)
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1].startswith("sdk_")
    assert len(result.stdout.strip().splitlines()) == 1


def test_scope_errors_are_one_line(runner, org):
    signing = _create(runner, "--scope", "reports:read", "--signing")
    assert signing.exit_code != 0
    assert signing.output.strip().splitlines()[-1] == (
        "Error: --signing: only ingest tokens sign their deliveries"
    )
    unknown = _create(runner, "--scope", "reports:write")
    assert unknown.exit_code != 0 and "--scope" in unknown.output
    assert "Traceback" not in signing.output + unknown.output


def test_tokens_made_before_scopes_are_ingest_tokens(engine_name, request, tmp_path):
    url = fresh_database(engine_name, request, tmp_path)
    command.downgrade(alembic_config(url), "0010")  # the revision before scopes
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organisations (slug, name, country, timezone, "
                    "service_level_seconds, created_at) "
                    "VALUES ('old', 'Old', 'SE', 'Europe/Stockholm', 60, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO ingest_tokens (organisation_id, token_hash, prefix, label, "
                    "created_at) SELECT id, :hash, 'sdk_old', '', CURRENT_TIMESTAMP "
                    "FROM organisations"
                ),
                {"hash": "0" * 64},
            )
        upgrade(url)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT scope FROM ingest_tokens")) == "ingest"
    finally:
        engine.dispose()
