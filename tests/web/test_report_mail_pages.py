"""Report by e-mail on the web: an administrator keeps the recipients (Settings), quality staff
send a frozen version to them on demand (Reports page), against a local SMTP server."""

from __future__ import annotations

import email
import email.policy

import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from servicedesk.notify.models import NotificationEndpoint
from servicedesk.notify.operations import add_endpoint
from tests.web.conftest import post_form

PAGE = "/settings/report-mail"


def _endpoints(db):
    db.rollback()
    return db.scalars(sa.select(NotificationEndpoint)).all()


def _audit(db, action):
    db.rollback()
    return [e.details for e in db.scalars(sa.select(AuditEntry)) if e.action == action]


def test_an_administrator_adds_and_removes_a_recipient_who_is_never_shown_in_full(
    client, db, org, signed_in
):
    signed_in(org, "admin")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Inga mottagare ännu." in page
    added = post_form(client, PAGE, {"address": "anna.andersson@kumla.se", "language": "nb"})
    assert added.status_code == 303
    listing = client.get(PAGE).get_data(as_text=True)
    assert "a…@kumla.se" in listing
    assert "anna.andersson" not in listing, "the address is shown only as its hint"
    (row,) = _endpoints(db)
    assert (row.kind, row.language, row.url_hint) == ("email", "nb", "a…@kumla.se")
    assert "anna" not in row.url_sealed, "stored encrypted"
    assert _audit(db, "notify.recipient.add") == [{"recipient": "a…@kumla.se", "language": "nb"}]

    row_id = row.id
    removed = post_form(client, f"{PAGE}/{row_id}/remove", {}, page=PAGE)
    assert removed.status_code == 303
    assert _endpoints(db) == []
    assert _audit(db, "notify.recipient.remove") == [{"recipient": "a…@kumla.se"}]
    again = post_form(client, f"{PAGE}/{row_id}/remove", {}, page=PAGE)
    assert again.status_code == 404


def test_a_bad_address_is_named_and_nothing_is_stored(client, db, org, signed_in):
    signed_in(org, "admin")
    for bad in ("", "not an address", "a@b", "x@kumla.se\r\nBcc: all@kumla.se", "<s>@kumla.se"):
        answer = post_form(client, PAGE, {"address": bad, "language": "sv"})
        assert answer.status_code == 200, bad
        html = answer.get_data(as_text=True)
        assert 'id="address-error"' in html and 'aria-invalid="true"' in html, bad
    answer = post_form(client, PAGE, {"address": "ok@kumla.se", "language": "de"})
    assert answer.status_code == 200
    assert _endpoints(db) == []


def _recipient(app, db, org, address, language=""):
    key = app.config["SECRET_KEY"]
    row, _ = add_endpoint(db, org, "email", address, secret_key=key, language=language)
    db.commit()
    return row


def test_quality_staff_send_a_version_to_every_recipient_now(
    app, client, db, org, report, signed_in, mail_config
):
    inbox = mail_config()
    _recipient(app, db, org, "anna.andersson@kumla.se")
    _recipient(app, db, org, "ola@kumla.se", "nb")
    made = report()
    signed_in(org, "quality")
    reports_page = client.get("/reports/?month=2026-06").get_data(as_text=True)
    assert "/reports/2026-06/v1/mail" in reports_page
    sent = post_form(client, "/reports/2026-06/v1/mail", {}, page="/reports/?month=2026-06")
    assert sent.status_code == 303
    assert sent.headers["Location"].endswith("/reports/?month=2026-06")
    by_to = {
        rcpt[0]: email.message_from_bytes(raw, policy=email.policy.default)
        for _, rcpt, raw in inbox.messages
    }
    assert set(by_to) == {"anna.andersson@kumla.se", "ola@kumla.se"}
    assert by_to["ola@kumla.se"]["Subject"].startswith("Månedsrapport Juni 2026")
    assert made.sha256 in by_to["anna.andersson@kumla.se"].get_body(("plain",)).get_content()
    flashed = client.get("/reports/?month=2026-06").get_data(as_text=True)
    assert "Version 1 skickades till 2 mottagare." in flashed
    (details,) = _audit(db, "report.mail")
    assert details == {
        "month": "2026-06",
        "version": 1,
        "recipients": 2,
        "failed": 0,
        "via": "web",
    }


def test_a_refusing_server_and_a_missing_one_are_said_and_nothing_is_lost(
    app, client, db, org, report, signed_in, mail_config
):
    report()
    _recipient(app, db, org, "anna.andersson@kumla.se")
    signed_in(org, "quality")
    url, page = "/reports/2026-06/v1/mail", "/reports/?month=2026-06"
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    assert post_form(client, url, {}, page=page).status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "Ingen e-postserver är inställd, så inget skickades." in html
    assert _audit(db, "report.mail") == []
    mail_config(refuse=True)
    assert post_form(client, url, {}, page=page).status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "a…@kumla.se" in html and "550" in html
    (details,) = _audit(db, "report.mail")
    assert details["failed"] == 1
    assert len(_endpoints(db)) == 1, "the recipient stays"
    assert post_form(client, "/reports/2026-06/v9/mail", {}, page=page).status_code == 404


def test_sending_by_hand_is_limited_and_recipients_are_capped(
    app, client, db, org, report, signed_in, mail_config
):
    from servicedesk.notify.mail_views import SEND_LIMIT
    from servicedesk.notify.operations import MAX_RECIPIENTS, NotifyError

    inbox = mail_config()
    report()
    _recipient(app, db, org, "anna.andersson@kumla.se")
    signed_in(org, "quality")
    url, page = "/reports/2026-06/v1/mail", "/reports/?month=2026-06"
    allowed = int(SEND_LIMIT.split()[0])
    codes = [post_form(client, url, {}, page=page).status_code for _ in range(allowed + 1)]
    assert codes == [303] * allowed + [429]
    assert len(inbox.messages) == allowed
    for n in range(1, MAX_RECIPIENTS):
        _recipient(app, db, org, f"person{n}@kumla.se")
    try:
        _recipient(app, db, org, "one.too.many@kumla.se")
    except NotifyError as exc:
        assert str(MAX_RECIPIENTS) in str(exc)
    else:
        raise AssertionError("a recipient over the cap was added")
    db.rollback()
    assert len(_endpoints(db)) == MAX_RECIPIENTS
