"""Settings → Surveys, "Replies by SMS": the reply address is made by administrators only,
shown once, and replaces the old one; the same from the command line."""

from __future__ import annotations

import sqlalchemy as sa

from servicedesk.audit.models import AuditEntry
from servicedesk.surveys.models import SurveySettings
from servicedesk.surveys.operations import save_settings
from tests.web.conftest import csrf_token, post_form

SECRET = "test-secret-key-0123456789"
ELKS_FORM = {
    "direction": "incoming",
    "id": "s1",
    "from": "+46701740605",
    "to": "+46766861004",
    "created": "2018-07-13T13:57:23.741000",
    "message": "STOPP",
}


def _elks(db, org, sender: str = "+46766861004") -> None:
    save_settings(
        db,
        org,
        {"phone_enabled": True, "sms_provider": "46elks", "sms_account": "u1", "sms_from": sender},
        secret_key=SECRET,
        sms_secret="pw",
    )
    db.commit()


def _address(html: str) -> str:
    start = html.index('id="reply-address">') + len('id="reply-address">')
    return html[start : html.index("</code>", start)]


def test_an_administrator_makes_the_reply_address_and_it_is_shown_once(client, db, org, signed_in):
    _elks(db, org)
    signed_in(org, "admin")
    page = client.get("/settings/surveys").get_data(as_text=True)
    assert "Svar via sms" in page and "Ingen svarsadress ännu" in page
    made = post_form(client, "/settings/surveys/reply-address", {}, page="/settings/surveys")
    assert made.status_code == 200
    html = made.get_data(as_text=True)
    address = _address(html)
    assert address.startswith("http://localhost/s/sms/") and len(address) > 60
    db.rollback()
    row = db.get(SurveySettings, org.id)
    assert row.sms_inbound_hash.startswith("sha256:")
    assert address.rsplit("/", 1)[1] not in row.sms_inbound_hash
    again = client.get("/settings/surveys").get_data(as_text=True)
    assert address not in again and "Det finns en svarsadress." in again
    path = address.removeprefix("http://localhost")
    stop = client.post(path, data=ELKS_FORM)
    assert stop.status_code == 200 and "Du får inga fler enkäter" in stop.get_data(as_text=True)
    post_form(client, "/settings/surveys/reply-address", {}, page="/settings/surveys")
    assert client.post(path, data=ELKS_FORM).status_code == 404  # replaced at once
    db.rollback()
    actions = db.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("surveys.reply_address") == 2


def test_only_administrators_and_only_with_the_csrf_token(client, db, org, signed_in):
    _elks(db, org)
    signed_in(org, "quality")
    refused = post_form(client, "/settings/surveys/reply-address", {}, page="/")
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    signed_in(org, "admin")
    assert client.post("/settings/surveys/reply-address").status_code == 400
    db.rollback()
    assert db.get(SurveySettings, org.id).sms_inbound_hash == ""


def test_digits_by_reply_need_a_number_as_sender(client, db, org, signed_in):
    _elks(db, org, sender="Kumla")
    signed_in(org, "admin")
    html = client.get("/settings/surveys").get_data(as_text=True)
    data = {
        "share_percent": "100",
        "min_days_between": "90",
        "delay_minutes": "10",
        "quiet_start": "20:00",
        "quiet_end": "08:00",
        "language": "",
        "sms_provider": "46elks",
        "sms_account": "u1",
        "sms_from": "Kumla",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "sms_replies": "y",
        "csrf_token": csrf_token(html),
    }
    refused = client.post("/settings/surveys", data=data)
    assert refused.status_code == 200
    assert "kräver ett telefonnummer som avsändare" in refused.get_data(as_text=True)
    data["sms_from"] = "+46766861004"
    assert client.post("/settings/surveys", data=data).status_code == 303
    db.rollback()
    assert db.get(SurveySettings, org.id).sms_replies is True


def test_the_command_prints_the_address(app, runner, db, org):
    _elks(db, org)
    app.config["PUBLIC_URL"] = ""
    failed = runner.invoke(args=["survey", "reply-address", "--org", org.slug])
    assert failed.exit_code != 0 and "SERVICEDESK_PUBLIC_URL" in failed.output
    app.config["PUBLIC_URL"] = "https://sd.kumla.se"
    result = runner.invoke(args=["survey", "reply-address", "--org", org.slug])
    assert result.exit_code == 0, result.output
    address = result.output.strip().splitlines()[-1]
    assert address.startswith("https://sd.kumla.se/s/sms/")
    client = app.test_client()
    reply = client.post(address.removeprefix("https://sd.kumla.se"), data=ELKS_FORM)
    assert reply.status_code == 200
    unknown = runner.invoke(args=["survey", "reply-address", "--org", "nowhere"])
    assert unknown.exit_code != 0 and len(unknown.output.strip().splitlines()) == 1
