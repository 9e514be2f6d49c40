"""SMS replies to surveys, whole flows: a call is answered, the survey SMS goes out through a
local server that speaks 46elks' or Twilio's messaging API, and the citizen's reply comes back
through the provider's incoming-SMS webhook as the provider posts it.

Incoming requests from the fixtures: 46elks' "Receive an SMS" example
(tests/fixtures/integrations/46elks-inbound-sms.form.txt) and Twilio's incoming message webhook
(twilio-inbound-sms.form.txt), signed with twilio-python's RequestValidator.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from sqlmodel import Session
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

from integrations.sms import Elks46Sms, TwilioSms, parse_inbound
from servicedesk.metrics.queries import figures_by
from servicedesk.privacy import pseudonymise
from servicedesk.surveys.dispatch import DispatchConfig, send_pending
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut
from servicedesk.surveys.operations import save_settings, settings_of
from servicedesk.surveys.replies import classify, make_reply_address
from servicedesk.timeutil import local_date, utcnow
from tests.helpers import event
from tests.helpers import ingest as plain_ingest
from tests.payloads import fixture_text

NUMBER = "+46701740605"
SENDER = "+46766861004"
SECRET = "test-secret-key-0123456789"
CONFIG = DispatchConfig(secret_key=SECRET, public_url="http://localhost")
TWILIO_SID = "AC" + "f" * 32
TWILIO_TOKEN = "twilio-auth-token"


class FakeProvider:
    """46elks' POST /a1/sms and Twilio's POST .../Messages.json on a local server: it checks the
    request as the provider would and keeps what was sent."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.sent: list[dict[str, str]] = []
        server.expect_request("/a1/sms", method="POST").respond_with_handler(self._elks)
        server.expect_request(
            f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json", method="POST"
        ).respond_with_handler(self._twilio)

    def _form(self, request: Request) -> dict[str, str]:
        assert request.mimetype == "application/x-www-form-urlencoded"
        assert request.authorization is not None
        return dict(parse_qsl(request.get_data(as_text=True)))

    def _elks(self, request: Request) -> Response:
        form = self._form(request)
        self.sent.append({"to": form["to"], "text": form["message"], "from": form["from"]})
        n = len(self.sent)
        return Response(
            f'{{"status": "created", "direction": "outgoing", "from": "{form["from"]}", '
            f'"to": "{form["to"]}", "parts": 2, "cost": 7000, "id": "s{n:032x}"}}',
            content_type="application/json",
        )

    def _twilio(self, request: Request) -> Response:
        form = self._form(request)
        self.sent.append({"to": form["To"], "text": form["Body"], "from": form["From"]})
        n = len(self.sent)
        return Response(
            f'{{"sid": "SM{n:032x}", "status": "queued", "direction": "outbound-api", '
            '"api_version": "2010-04-01", "error_code": null}',
            status=201,
            content_type="application/json",
        )

    def factory(self, settings: Any, secret: str) -> Any:
        if settings.sms_provider == "twilio":
            return TwilioSms(
                settings.sms_account,
                secret,
                settings.sms_from,
                base_url=self.server.url_for("/").rstrip("/"),
            )
        return Elks46Sms(
            settings.sms_account, secret, settings.sms_from, base_url=self.server.url_for("/a1")
        )


@pytest.fixture
def provider(httpserver: HTTPServer) -> FakeProvider:
    return FakeProvider(httpserver)


def _setup(app: Any, db: Session, org: Any, provider: str, *, digits: bool = False) -> str:
    """Surveys on, sent through ``provider`` from a number; returns the reply address's path."""
    with app.app_context():
        save_settings(
            db,
            org,
            {
                "phone_enabled": True,
                "share_percent": 100.0,
                "min_days_between": 0,
                "delay_minutes": 0,
                "quiet_start": "00:00",
                "quiet_end": "00:00",
                "sms_on_closed_days": True,
                "sms_provider": provider,
                "sms_account": TWILIO_SID if provider == "twilio" else "u1",
                "sms_from": SENDER,
                "sms_replies": digits,
                "sender_name": "Kumla kommun",
            },
            secret_key=SECRET,
            sms_secret=TWILIO_TOKEN if provider == "twilio" else "api-password",
        )
        secret = make_reply_address(db, settings_of(db, org))
        db.commit()
    return f"/s/sms/{secret}"


def _at(minutes_ago: float) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat()


def _call(app: Any, db: Session, org: Any, contact: str, caller: str = NUMBER) -> None:
    with app.app_context():
        plain_ingest(
            db,
            org,
            event("call.queued", contact, _at(30), caller=caller, queue="Växel"),
            event("call.answered", contact, _at(29), agent="a1"),
            event("call.ended", contact, _at(20), caller=caller),
        )
    db.commit()


def _send(app: Any, provider: FakeProvider) -> Any:
    return send_pending(
        app.extensions["servicedesk.engine"],
        CONFIG,
        sms_factory=provider.factory,
        mail_factory=lambda settings, password: pytest.fail("no e-mail here"),
    )


def _fixture_form(name: str) -> dict[str, str]:
    return dict(parse_qsl(fixture_text(name), keep_blank_values=True))


def _reply(client: Any, path: str, provider: str, text: str, message_id: str = "") -> Any:
    """The citizen's SMS as the provider posts it (Twilio's signed with the Auth Token)."""
    if provider == "twilio":
        form = _fixture_form("twilio-inbound-sms.form.txt")
        sid = message_id or "SM" + "1" * 32
        form |= {
            "From": NUMBER,
            "To": SENDER,
            "Body": text,
            "AccountSid": TWILIO_SID,
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
        }
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            "http://localhost" + path, form
        )
        return client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    form = _fixture_form("46elks-inbound-sms.form.txt")
    form |= {"from": NUMBER, "to": SENDER, "message": text, "id": message_id or "s" + "1" * 32}
    return client.post(path, data=form)


def _reply_text(response: Any, provider: str) -> str:
    """What the provider would text back: 46elks the body, Twilio the TwiML <Message>."""
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    if provider == "twilio":
        assert response.mimetype == "application/xml" and body.endswith("</Response>")
        if "<Message>" not in body:
            return ""
        return body.split("<Message>", 1)[1].split("</Message>", 1)[0]
    assert response.mimetype == "text/plain"
    return body


def _opt_outs(db: Session) -> list[SurveyOptOut]:
    db.rollback()
    return list(db.scalars(sa.select(SurveyOptOut)))


def _invitations(db: Session) -> list[SurveyInvitation]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(sa.select(SurveyInvitation).order_by(SurveyInvitation.id)))


@pytest.mark.postgres
@pytest.mark.parametrize("sms_provider", ["46elks", "twilio"])
def test_stopp_by_reply_ends_the_surveys(app, client, db, org, provider, sms_provider):
    path = _setup(app, db, org, sms_provider)
    _call(app, db, org, "call-1", caller="070-174 06 05")
    assert _send(app, provider).sent == 1
    [first] = provider.sent
    assert first["to"] == NUMBER and first["from"] == SENDER
    assert "Svara STOPP" in first["text"] and "/s/" in first["text"]
    _call(app, db, org, "call-2")  # the same person again, captured before the reply
    assert _invitations(db)[1].status == "waiting"
    answer = _reply(client, path, sms_provider, "  Stopp!\n")
    assert _reply_text(answer, sms_provider) == (
        "Du får inga fler enkäter från Kumla kommun. Ångrar du dig? Svara START."
    )
    [out] = _opt_outs(db)
    assert out.via == "sms" and NUMBER not in out.caller_hash
    second = _invitations(db)[1]
    assert (second.status, second.reason, second.recipient) == ("skipped", "opted out", None)
    _call(app, db, org, "call-3")  # after the reply: never captured
    assert [i.contact_id for i in _invitations(db)] == ["call-1", "call-2"]
    assert _send(app, provider).sent == 0
    assert len(provider.sent) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("sms_provider", ["46elks", "twilio"])
def test_start_by_reply_takes_the_opt_out_back(app, client, db, org, provider, sms_provider):
    path = _setup(app, db, org, sms_provider)
    _call(app, db, org, "call-1")
    assert _send(app, provider).sent == 1
    _reply(client, path, sms_provider, "STOPP", "m-1")
    assert len(_opt_outs(db)) == 1
    _call(app, db, org, "call-2")  # opted out: never captured
    answer = _reply(client, path, sms_provider, "Start", "m-2")
    assert _reply_text(answer, sms_provider) == (
        "Du kan få enkäter från Kumla kommun igen. Svara STOPP om du inte vill det."
    )
    assert _opt_outs(db) == []
    _call(app, db, org, "call-3")  # surveyed again, as anyone else
    assert [i.contact_id for i in _invitations(db)] == ["call-1", "call-3"]
    assert _send(app, provider).sent == 1
    assert [m["to"] for m in provider.sent] == [NUMBER, NUMBER]
    # START again (a provider's retry, or twice by hand): the same answer, nothing else changes.
    again = _reply(client, path, sms_provider, "START", "m-3")
    assert _reply_text(again, sms_provider).startswith("Du kan få enkäter")
    assert _opt_outs(db) == []


def test_start_from_a_stranger_gets_no_answer(app, client, db, org):
    sms_provider = "46elks"
    path = _setup(app, db, org, sms_provider)
    answer = _reply(client, path, sms_provider, "start")
    assert _reply_text(answer, sms_provider) == ""
    assert _opt_outs(db) == []


@pytest.mark.postgres
@pytest.mark.parametrize("sms_provider", ["46elks", "twilio"])
def test_digits_by_reply_reach_the_months_figures(app, client, db, org, provider, sms_provider):
    path = _setup(app, db, org, sms_provider, digits=True)
    _call(app, db, org, "call-1")
    assert _send(app, provider).sent == 1
    text = provider.sent[0]["text"]
    assert "Hur enkelt var det att få hjälp av kommunen med din fråga via telefoni?" in text
    assert "1 (mycket svårt) till 5 (mycket enkelt)" in text and "Svara STOPP" in text
    assert len(text) <= 3 * 153  # three SMS parts at most, with the link
    [invitation] = _invitations(db)
    assert invitation.sms_step == 0
    assert "siffra" in _reply_text(_reply(client, path, sms_provider, "bra", "m-0"), sms_provider)
    first = _reply_text(_reply(client, path, sms_provider, " 4 ", "m-1"), sms_provider)
    assert first.startswith("Tack! I din senaste kontakt") and "1 (mycket missnöjd)" in first
    again = _reply_text(_reply(client, path, sms_provider, " 4 ", "m-1"), sms_provider)
    assert again == first  # the provider's retry: taken once
    last = _reply_text(_reply(client, path, sms_provider, "5", "m-2"), sms_provider)
    assert last == "Tack för dina svar! Hälsningar Kumla kommun"
    late = _reply_text(_reply(client, path, sms_provider, "1", "m-3"), sms_provider)
    assert late == "Tack, vi har redan fått dina svar."
    [invitation] = _invitations(db)
    assert invitation.status == "answered" and invitation.sms_step == 2
    today = local_date(utcnow(), org.timezone)
    db.rollback()
    figures = figures_by(db, org, today.replace(day=1), today, [None])[None]
    headline = figures["survey_headline"]
    assert headline["phone_ease"]["responses"] == 1 and headline["phone_ease"]["index"] == 75.0
    assert headline["phone_treatment"]["responses"] == 1
    assert headline["phone_treatment"]["index"] == 100.0
    with app.extensions["servicedesk.engine"].connect() as conn:
        kept = conn.execute(sa.text("SELECT source, body FROM deliveries ORDER BY id")).all()
    survey = [bytes(body).decode() for source, body in kept if source == "survey"]
    assert len(survey) == 2 and all(f"survey:{invitation.id}:" in b for b in survey)
    # The link of the same SMS is used up by the replies.
    page = client.get("/s/" + text.split("/s/", 1)[1].split()[0])
    assert "redan besvarats" in page.get_data(as_text=True)


@pytest.mark.postgres
def test_replies_without_a_survey_or_by_link_are_answered_politely(app, client, db, org, provider):
    path = _setup(app, db, org, "46elks")
    stranger = _reply(client, path, "46elks", "Hej, när öppnar ni?")
    assert stranger.status_code == 204 and stranger.get_data() == b""
    _call(app, db, org, "call-1")
    _send(app, provider)
    digit = _reply_text(_reply(client, path, "46elks", "3"), "46elks")
    assert "länken" in digit and "STOPP" in digit
    assert _invitations(db)[0].answered_at is None  # a link survey takes no digits
    with app.extensions["servicedesk.engine"].connect() as conn:
        responses = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE type = 'survey.response'")
        ).scalar_one()
    assert responses == 0


@pytest.mark.postgres
def test_forged_and_malformed_replies_are_refused(app, client, db, org, provider):
    path = _setup(app, db, org, "twilio")
    assert client.post("/s/sms/not-the-secret", data={"From": NUMBER}).status_code == 404
    form = _fixture_form("twilio-inbound-sms.form.txt") | {"From": NUMBER, "Body": "STOPP"}
    unsigned = client.post(path, data=form)
    assert unsigned.status_code == 401
    assert unsigned.mimetype == "application/problem+json"
    forged = client.post(path, data=form, headers={"X-Twilio-Signature": "AAAA"})
    assert forged.status_code == 401
    other = form | {"AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("http://localhost" + path, other)
    foreign = client.post(path, data=other, headers={"X-Twilio-Signature": signature})
    assert foreign.status_code == 401
    assert _opt_outs(db) == []
    path = _setup(app, db, org, "46elks")
    missing = client.post(path, data={"message": "STOPP", "id": "s1"})
    assert missing.status_code == 422
    assert missing.json["errors"][0]["field"] == "from"
    assert _opt_outs(db) == []
    # The secret changes with a new address: the old one is refused at once.
    new_path = _setup(app, db, org, "46elks")
    assert _reply(client, path, "46elks", "STOPP").status_code == 404
    assert _reply(client, new_path, "46elks", "STOPP").status_code == 200


@pytest.mark.postgres
def test_no_clear_number_or_reply_text_is_kept_or_logged(app, client, db, org, provider, caplog):
    caplog.set_level(logging.DEBUG)
    path = _setup(app, db, org, "46elks", digits=True)
    _call(app, db, org, "private")
    _send(app, provider)
    _reply(client, path, "46elks", "4 jättebra bemötande", "m-1")
    _reply(client, path, "46elks", "STOPP", "m-2")
    forms = [NUMBER, NUMBER[1:], "0701740605", "jättebra"]
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert not any(f in text for f in forms), text
    with app.extensions["servicedesk.engine"].connect() as conn:
        for table in ("deliveries", "events", "survey_invitations", "survey_opt_outs", "audit_log"):
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                blob = " ".join(
                    bytes(v).decode(errors="replace")
                    if isinstance(v, bytes | memoryview)
                    else str(v)
                    for v in row
                )
                assert not any(f in blob for f in forms), (table, row)


def test_keywords_and_digits_whatever_the_case_or_spacing() -> None:
    for text in ("STOPP", "stopp", " Stopp! ", "STOP", "sluta", "Stans.", "stopp tack", "\tSTOP\n"):
        assert classify(text) == ("stop", None), text
    for text in ("START", "start", " Start! ", "Starta", "start igen"):
        assert classify(text) == ("start", None), text
    for text, digit in (("1", 1), (" 5 ", 5), ("4.", 4), ("3 tack", 3)):
        assert classify(text) == ("digit", digit)
    for text in ("", "6", "0", "45", "stoppa inte", "hej", "10", "startar"):
        assert classify(text)[0] == "other", text


def test_the_fixtures_parse_as_each_provider_posts_them() -> None:
    elks = parse_inbound("46elks", _fixture_form("46elks-inbound-sms.form.txt"))
    assert (elks.sender, elks.text, elks.message_id) == (
        "+46706861004",
        "Hello how are you?",
        "sf8425555e5d8db61dda7a7b3f1b91bdb",
    )
    twilio = parse_inbound("twilio", _fixture_form("twilio-inbound-sms.form.txt"))
    assert twilio.sender == NUMBER and twilio.text == "St"
    assert twilio.account == "ACf54dd7a47a8011d65b54d472a7190549"


@pytest.mark.postgres
def test_a_reply_finds_its_survey_across_a_pseudonym_key_rotation(app, client, db, org, provider):
    path = _setup(app, db, org, "46elks", digits=True)
    _call(app, db, org, "call-1")
    _send(app, provider)
    app.config["PSEUDONYM_PREVIOUS_KEYS"] = [app.config["PSEUDONYM_KEY"]]
    app.config["PSEUDONYM_KEY"] = b"the-next-pseudonym-key-0123456"
    answer = _reply_text(_reply(client, path, "46elks", "4", "m-1"), "46elks")
    assert answer.startswith("Tack! I din senaste kontakt")
    [row] = _invitations(db)
    assert row.sms_step == 1 and row.caller_hash.startswith(
        pseudonymise(NUMBER, b"the-next-pseudonym-key-0123456").split(":")[0] + ":"
    )
