"""The reports API: the bytes of `report show`, versions, exports, caching, tokens and tenants."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from integrations.kolada import KpiValue
from servicedesk.audit.models import AuditEntry
from servicedesk.ingest.models import Event, IngestToken
from servicedesk.ingest.tokens import revoke_token
from servicedesk.kolada.operations import add_kpi, store_values
from servicedesk.metrics.periods import Month
from servicedesk.reports import formats
from servicedesk.reports.exports import report_xlsx
from servicedesk.reports.service import generate_report
from tests.helpers import event, ingest, post
from tests.metrics.test_queries import call, grade, worked_example

JUNE = Month(2026, 6)
BASE = "/api/v1/reports"


@pytest.fixture
def reader(org, make_token) -> str:
    """A reports:read token of Kumla."""
    return make_token(org, scope="reports:read")


@pytest.fixture
def june(db, org):
    """Kumla's June 2026 frozen twice (a late survey answer made version 2), and May once."""
    ingest(db, org, *worked_example(), *call("may", "2026-05-05T10:00:00+02:00"))
    generate_report(db, org, Month(2026, 5), now=datetime(2026, 6, 4, 4, tzinfo=UTC))
    first, _ = generate_report(db, org, JUNE, now=datetime(2026, 7, 3, 4, tzinfo=UTC))
    ingest(db, org, grade("A", "ease", 2, "2026-06-12T10:00:00+02:00"))
    second, made = generate_report(db, org, JUNE, now=datetime(2026, 7, 4, 4, tzinfo=UTC))
    db.commit()
    assert made and second.version == 2
    return first, second


def get(client, url: str, token: str | None, **headers: str):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(url, headers=headers)


def show_json(runner, org: str = "kumla", month: str = "2026-06") -> str:
    result = runner.invoke(
        args=["report", "show", "--org", org, "--month", month, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def assert_problem(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert field in {e["field"] for e in body["errors"]}, body
    return body


def test_latest_is_the_bytes_report_show_prints(client, runner, reader, june):
    response = get(client, f"{BASE}/2026-06", reader)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) == show_json(runner)
    doc = response.get_json()
    assert (doc["organisation"], doc["month"], doc["version"]) == ("kumla", "2026-06", 2)
    assert response.headers["ETag"] == f'"{june[1].sha256}"'
    assert response.headers["Cache-Control"] == "private"


def test_a_national_comparison_is_shown_and_changes_the_etag(client, runner, db, org, reader, june):
    add_kpi(
        db, org, kpi="U00442", municipality="1881", figure="email.within_1_working_day", label=""
    )
    db.commit()
    first = get(client, f"{BASE}/2026-06", reader)
    assert first.get_data(as_text=True) == show_json(runner)
    assert first.get_json()["kolada"][0]["kpi"] == "U00442"
    etag = first.headers["ETag"]
    assert etag.startswith(f'"{june[1].sha256}.')
    # Kolada revises a value: the same version, but the client must not keep the old comparison.
    store_values(db, [KpiValue("U00442", "0000", 2026, "T", 71.0, "")])
    db.commit()
    again = get(client, f"{BASE}/2026-06", reader, **{"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    assert again.get_json()["kolada"][0]["nation"] == {"year": 2026, "value": 71.0}


def test_if_none_match_answers_304_without_a_body_or_an_audit_entry(client, db, reader, june):
    etag = f'"{june[1].sha256}"'
    for url in (f"{BASE}/2026-06", f"{BASE}/2026-06.csv", f"{BASE}/2026-06?format=xlsx"):
        response = get(client, url, reader, **{"If-None-Match": etag})
        assert response.status_code == 304, url
        assert response.get_data() == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == "private"
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    stale = get(client, f"{BASE}/2026-06", reader, **{"If-None-Match": f'"{june[0].sha256}"'})
    assert stale.status_code == 200


def test_each_version_and_its_absence(client, reader, june):
    first, second = june
    v1 = get(client, f"{BASE}/2026-06/versions/1", reader)
    assert v1.status_code == 200
    assert v1.get_json() == first.document
    assert v1.headers["ETag"] == f'"{first.sha256}"'
    assert get(client, f"{BASE}/2026-06/versions/2", reader).get_json() == second.document
    assert_problem(get(client, f"{BASE}/2026-06/versions/3", reader), 404, "version")
    assert_problem(get(client, f"{BASE}/2026-04/versions/1", reader), 404, "month")
    for bad in ("0", "x", "-1", "1.5", "01", "99999999999"):
        assert_problem(get(client, f"{BASE}/2026-06/versions/{bad}", reader), 422, "version")


@pytest.mark.parametrize("month", ["2026-13", "2026-6", "june", "2026-06-01", " 2026-06"])
def test_a_bad_month_is_named(client, reader, month):
    assert_problem(get(client, f"{BASE}/{month}", reader), 422, "month")
    assert_problem(get(client, f"{BASE}?month={month}", reader), 422, "month")


def test_an_unknown_month_is_404(client, reader, june):
    assert_problem(get(client, f"{BASE}/2026-07", reader), 404, "month")
    assert_problem(get(client, f"{BASE}/2026-07.csv", reader), 404, "month")


def test_exports_are_the_report_export_files(app, client, reader, june):
    doc = june[1].document
    for url in (f"{BASE}/2026-06.csv", f"{BASE}/2026-06?format=csv"):
        response = get(client, url, reader)
        assert response.status_code == 200, url
        assert response.content_type == "text/csv; charset=utf-8"
        assert response.get_data(as_text=True) == formats.report_csv(doc)
        assert response.headers["ETag"] == f'"{doc["sha256"]}"'
        assert "servicedesk-kumla-2026-06-v2.csv" in response.headers["Content-Disposition"]
    xlsx = get(client, f"{BASE}/2026-06.xlsx", reader)
    assert xlsx.status_code == 200
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    # The same version gives the same bytes every time (the workbook's date is the report's).
    with app.app_context():
        assert xlsx.get_data() == report_xlsx(doc)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))
    summary = {r[0].value: r[1].value for r in book["Report"].iter_rows(min_row=3)}
    assert summary["SHA-256 of the JSON report"] == doc["sha256"]
    v1 = get(client, f"{BASE}/2026-06/versions/1.csv", reader)
    assert v1.get_data(as_text=True) == formats.report_csv(june[0].document)
    assert get(client, f"{BASE}/2026-06.json", reader).get_json() == doc


@pytest.mark.parametrize(
    "url",
    [f"{BASE}/2026-06?format=pdf", f"{BASE}/2026-06.csv?format=xlsx", f"{BASE}/2026-06?format="],
)
def test_a_bad_format_is_named(client, reader, june, url):
    assert_problem(get(client, url, reader), 422, "format")


def test_list_newest_first_with_links_that_work(client, reader, june):
    response = get(client, BASE, reader)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private"
    body = response.get_json()
    assert body["organisation"] == "kumla"
    listed = [(r["month"], r["version"], r["latest"]) for r in body["reports"]]
    assert listed == [("2026-06", 2, True), ("2026-06", 1, False), ("2026-05", 1, True)]
    top = body["reports"][0]
    assert top["sha256"] == june[1].sha256
    assert top["generated_at"] == june[1].document["generated_at"] == "2026-07-04T04:00:00Z"
    assert set(top["links"]) == {"self", "month", "json", "csv", "xlsx"}
    assert top["links"]["self"] == f"{BASE}/2026-06/versions/2"
    assert top["links"]["month"] == f"{BASE}/2026-06"
    assert top["links"]["xlsx"] == f"{BASE}/2026-06/versions/2.xlsx"
    for link in body["reports"][1]["links"].values():
        assert get(client, link, reader).status_code == 200, link
    only_may = get(client, f"{BASE}?month=2026-05", reader).get_json()["reports"]
    assert [(r["month"], r["version"]) for r in only_may] == [("2026-05", 1)]
    assert get(client, f"{BASE}?month=2025-01", reader).get_json()["reports"] == []


def test_a_read_is_audited_like_a_download(client, db, org, reader, june):
    get(client, f"{BASE}/2026-06.xlsx", reader)
    get(client, BASE, reader)  # the list shows no figures: not an export
    entries = db.scalars(sa.select(AuditEntry)).all()
    assert len(entries) == 1
    token_id = db.scalars(
        sa.select(IngestToken.id).where(IngestToken.scope == "reports:read")
    ).one()
    entry = entries[0]
    assert (entry.organisation_id, entry.action, entry.actor) == (
        org.id,
        "report.export",
        f"token:{token_id}",
    )
    assert entry.details == {"month": "2026-06", "format": "xlsx", "version": 2, "via": "api"}


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer sdk_nonsense", "Basic a2V5OnNlY3JldA==", "sdk_x"]
)
def test_no_valid_token_is_401(client, june, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for url in (BASE, f"{BASE}/2026-06", f"{BASE}/2026-06.csv", f"{BASE}/2026-06/versions/1"):
        response = client.get(url, headers=headers)
        assert_problem(response, 401, "Authorization")
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_ingest_token_cannot_read_reports(client, db, token, june):
    for url in (BASE, f"{BASE}/2026-06", f"{BASE}/2026-06.xlsx", f"{BASE}/2026-06/versions/1"):
        response = get(client, url, token)
        body = assert_problem(response, 403, "Authorization")
        assert "reports:read" in body["detail"]
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_a_reports_token_cannot_send_events(client, db, reader):
    response = post(client, reader, event())
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_a_revoked_reports_token_is_refused(app, client, db, reader, june):
    assert get(client, f"{BASE}/2026-06", reader).status_code == 200
    row = db.scalars(sa.select(IngestToken).where(IngestToken.scope == "reports:read")).one()
    with app.app_context():  # the revocation drops the sender cached for every worker
        revoke_token(db, row)
        db.commit()
    assert_problem(get(client, f"{BASE}/2026-06", reader), 401, "Authorization")


def test_a_token_reads_only_its_own_organisations_reports(client, db, make_org, make_token, june):
    other = make_org(slug="orebro", name="Örebro kommun")
    ingest(db, other, *call("o1", "2026-04-07T10:00:00+02:00", "2026-04-07T10:00:20+02:00"))
    theirs, _ = generate_report(db, other, Month(2026, 4))
    db.commit()
    mine = make_token(other, scope="reports:read")
    # Örebro's token sees Örebro's April and nothing of Kumla's June, by any route.
    listed = get(client, BASE, mine).get_json()
    assert listed["organisation"] == "orebro"
    assert [(r["month"], r["version"]) for r in listed["reports"]] == [("2026-04", 1)]
    assert get(client, f"{BASE}/2026-04", mine).get_json()["organisation"] == "orebro"
    for url in (
        f"{BASE}/2026-06",
        f"{BASE}/2026-06.csv",
        f"{BASE}/2026-06.xlsx",
        f"{BASE}/2026-06/versions/1",
        f"{BASE}/2026-06/versions/2.json",
        f"{BASE}?month=2026-06",
    ):
        response = get(client, url, mine)
        assert response.status_code in (200, 404), url
        assert b"kumla" not in response.get_data().lower(), url
    # Knowing Kumla's ETag gets Örebro's token nothing either.
    kumla_etag = f'"{june[1].sha256}"'
    assert get(client, f"{BASE}/2026-06", mine, **{"If-None-Match": kumla_etag}).status_code == 404
    assert get(client, f"{BASE}/2026-04", mine).headers["ETag"] == f'"{theirs.sha256}"'


def test_answers_are_problems_when_the_database_is_down(client, reader, june, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import servicedesk.reports.blueprint as api

    def fail(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(api, "find_report", fail)
    response = get(client, f"{BASE}/2026-06", reader)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"


def test_the_json_is_the_frozen_document_byte_for_byte(client, reader, june):
    """Without a national comparison the body is the document itself, so its sha256 checks."""
    from servicedesk.reports.service import document_sha256

    doc = json.loads(get(client, f"{BASE}/2026-06", reader).get_data())
    assert document_sha256(doc) == doc["sha256"] == june[1].sha256
