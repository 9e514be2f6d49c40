from __future__ import annotations


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_migration_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_readyz_unready_when_not_migrated(app, tmp_path):
    from servicedesk import create_app

    other = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"})
    response = other.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migration"] is None
