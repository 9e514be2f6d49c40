"""Settings → Call lists in the test client: roles, CSRF, the size limit, preview then import,
the refused rows download, and a file's text shown escaped and exported formula-safe."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from servicedesk.callimport.models import CallImport
from servicedesk.contacts.models import Contact
from servicedesk.ingest.models import Delivery
from tests.callimport.calls import FIXTURES
from tests.web.conftest import csrf_token

pytestmark = pytest.mark.postgres


def _preview(client, data: bytes, mapping: str = "generic", name: str = "samtal.csv", **extra):
    token = csrf_token(client.get("/settings/calls/").get_data(as_text=True))
    response = client.post(
        "/settings/calls/preview",
        data={"csrf_token": token, "mapping": mapping, "file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )
    if response.status_code == 303:  # to the preview's own page
        return client.get(response.headers["Location"])
    return response


def test_only_administrators_see_the_page(client, org, signed_in):
    assert client.get("/settings/calls/").status_code == 302  # to the sign-in page
    signed_in(org, "quality")
    assert client.get("/settings/calls/").status_code == 403
    assert client.post("/settings/calls/preview").status_code in (400, 403)


def test_preview_then_import_then_result(client, org, signed_in, db):
    user = signed_in(org, "admin")
    page = client.get("/settings/calls/").get_data(as_text=True)
    assert "teams-cq-historical" in page and "https://learn.microsoft.com" in page
    response = _preview(client, (FIXTURES / "generic.csv").read_bytes())
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'data-count="imported">9<' in html
    assert db.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    preview = db.scalars(sa.select(CallImport)).one()
    assert preview.status == "preview" and preview.upload
    # Importing needs the form's CSRF token.
    assert client.post(f"/settings/calls/{preview.id}/import").status_code == 400
    done = client.post(
        f"/settings/calls/{preview.id}/import", data={"csrf_token": csrf_token(html)}
    )
    assert done.status_code == 303
    db.rollback()
    row = db.get(CallImport, preview.id)
    assert (row.status, row.imported, row.upload, row.created_by) == ("done", 9, None, user.email)
    assert db.get(Delivery, row.delivery_id).source == "import"
    assert db.scalar(sa.select(sa.func.count()).select_from(Contact)) == 9
    audit = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "calls.import")).one()
    assert audit.actor == user.email and audit.details["file"] == "samtal.csv"
    result = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "samtal.csv" in result and 'data-count="imported">9<' in result
    # The same file again: previewed as all already stored.
    again = _preview(client, (FIXTURES / "generic.csv").read_bytes()).get_data(as_text=True)
    assert 'data-count="imported">0<' in again and 'data-count="duplicates">9<' in again


def test_refused_rows_are_listed_escaped_and_downloaded_formula_safe(client, org, signed_in, db):
    signed_in(org, "admin")
    data = (FIXTURES / "bad-rows.csv").read_bytes().replace(b"b4;", b"<script>x</script>;")
    data = data.replace(b"hmm", b"<b>hmm</b>")
    html = _preview(client, data).get_data(as_text=True)
    assert "<b>hmm</b>" not in html and "&lt;b&gt;hmm&lt;/b&gt;" in html
    assert 'data-count="refused">10<' in html
    preview = db.scalars(sa.select(CallImport)).one()
    client.post(f"/settings/calls/{preview.id}/import", data={"csrf_token": csrf_token(html)})
    download = client.get(f"/settings/calls/{preview.id}/refused.csv")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    text = download.get_data(as_text=True)
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Rad;Anledning;") or lines[0].startswith("Line;Reason;")
    formula_row = next(line for line in lines if line.startswith("12;"))
    assert "'=HYPERLINK" in formula_row and ";=HYPERLINK" not in formula_row


def test_a_file_over_the_limit_is_refused_with_a_clear_message(app, client, org, signed_in):
    app.config["CALL_IMPORT_MAX_BYTES"] = 2_000
    signed_in(org, "admin")
    big = (FIXTURES / "generic.csv").read_bytes() * 10
    response = _preview(client, big)
    assert response.status_code == 413
    assert "MB" in response.get_data(as_text=True)


def test_an_unreadable_file_or_mapping_is_explained(client, org, signed_in, db):
    signed_in(org, "admin")
    response = _preview(client, b"\x00\x01\x02 not a table")
    assert response.status_code == 422
    kept = db.scalars(sa.select(Delivery)).one()
    assert (kept.source, kept.status, kept.http_status) == ("import", "rejected", 422)
    assert "delimiter" in kept.reason
    assert "cannot be read" in response.get_data(as_text=True) or "kan inte" in response.get_data(
        as_text=True
    )
    bad = _preview(
        client,
        (FIXTURES / "generic.csv").read_bytes(),
        mapping="custom",
        mapping_text='[columns]\nstart = "start"\n',
    )
    assert bad.status_code == 422
    assert "call_id_from" in bad.get_data(as_text=True)


def test_another_organisations_import_is_not_found(client, org, make_org, signed_in, db):
    other = make_org(slug="other")
    row = CallImport(organisation_id=other.id, file_sha256="0" * 64, status="done")
    db.add(row)
    db.commit()
    signed_in(org, "admin")
    assert client.get(f"/settings/calls/{row.id}").status_code == 404
    assert client.get(f"/settings/calls/{row.id}/refused.csv").status_code == 404


def test_a_preview_never_imported_goes_after_a_day(client, org, signed_in, db):
    from datetime import timedelta

    from servicedesk.gdpr.operations import apply_retention
    from servicedesk.timeutil import utcnow

    signed_in(org, "admin")
    _preview(client, (FIXTURES / "generic.csv").read_bytes())
    db.rollback()
    apply_retention(db, now=utcnow() + timedelta(hours=23))
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(CallImport)) == 1
    apply_retention(db, now=utcnow() + timedelta(hours=25))
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(CallImport)) == 0
