"""The reports API's periods: any period's figures now, beside the period before and a year
before; bad periods named as problems; audited like every read of the API."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import time_machine

from servicedesk.audit.models import AuditEntry
from tests.helpers import ingest
from tests.metrics.test_periods import abandoned, answered
from tests.reports.test_reports_api import get, reader  # noqa: F401  (fixture)

BASE = "/api/v1/reports/periods"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel("2026-07-15T10:00:00+02:00", tick=False):
        yield


@pytest.fixture
def calls(db, org):
    ingest(
        db,
        org,
        *answered("w1", "2026-06-29T10:00:00+02:00", 20, 300, True),
        *answered("w2", "2026-06-30T16:00:00+02:00", 90, 120, False),
        *abandoned("w3", "2026-07-01T09:00:00+02:00"),
        *abandoned("x1", "2026-06-28T12:00:00+02:00"),
        *answered("y1", "2025-07-01T10:00:00+02:00", 5, 60),
    )
    db.commit()


def test_a_week_with_the_week_before_and_a_year_before(client, org, calls, reader, db):  # noqa: F811
    response = get(client, f"{BASE}/2026-W27", reader)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["period"], body["kind"], body["first"], body["last"]) == (
        "2026-W27", "week", "2026-06-29", "2026-07-05"
    )  # fmt: skip
    assert body["organisation"] == "kumla" and body["timezone"] == "Europe/Stockholm"
    assert body["phone"]["offered"] == 3
    assert body["phone"]["service_level"] == 33.33
    assert body["phone"]["handle_seconds"] == {"calls": 2, "mean": 210.0, "median": 210.0}
    assert body["queues"]["Bygglov"]["phone"]["offered"] == 3
    assert body["previous"]["period"] == "2026-W26"
    assert body["previous"]["phone"]["offered"] == 1
    assert body["year_before"]["period"] == "2025-W27"
    assert body["year_before"]["phone"]["offered"] == 1
    logged = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "report.period")).all()
    assert [e.details for e in logged] == [{"period": "2026-W27", "via": "api"}]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("2026-Q3", "quarter"), ("ytd", "ytd"), ("2026-07-01", "day"),
     ("2026-06-15..2026-07-14", "range"), ("2026", "year"), ("2026-06", "month")],
)  # fmt: skip
def test_every_kind(client, org, calls, reader, text, kind):  # noqa: F811
    body = get(client, f"{BASE}/{text}", reader).get_json()
    assert body["kind"] == kind


@pytest.mark.parametrize(
    "text", ["2026-W60", "2026-13", "2026-08", "2026-02-30", "soon", "2026-07-02..2026-07-01"]
)
def test_bad_periods_are_named(client, org, reader, text):  # noqa: F811
    response = get(client, f"{BASE}/{text}", reader)
    assert response.status_code == 422
    assert response.content_type.startswith("application/problem+json")
    assert response.get_json()["errors"][0]["field"] == "period"


def test_another_scope_cannot_read_periods(client, org, make_token):
    response = get(client, f"{BASE}/2026-W27", make_token(org))
    assert response.status_code == 403
