"""Surveys end to end: capture on ingest, dispatch, the survey page, figures; and the citizen's
protections (sampling, one per person, opt-out, hidden numbers, expiry, erasure, no clear number
in the deliveries or the logs)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from integrations.sms import SmsError, SmsSent
from servicedesk.gdpr.erasure import erase
from servicedesk.metrics.queries import figures_by
from servicedesk.surveys.dispatch import DispatchConfig, send_pending
from servicedesk.surveys.models import SurveyInvitation, SurveyOptOut
from servicedesk.surveys.operations import save_settings
from servicedesk.timeutil import local_date, utcnow
from tests.conftest import PSEUDONYM_KEY
from tests.helpers import event
from tests.helpers import ingest as plain_ingest

NUMBER = "+46701740605"
LOCAL_FORM = "070-174 06 05"
ADDRESS = "anna.svensson@example.se"
SECRET = "test-secret-key-0123456789"
CONFIG = DispatchConfig(secret_key=SECRET, public_url="http://localhost")


class Outbox:
    """SmsSender and MailSender in one: keeps what would have been sent."""

    provider = "46elks"

    def __init__(self) -> None:
        self.sms: list[tuple[str, str]] = []
        self.mail: list[EmailMessage] = []
        self.fail: SmsError | None = None

    def send(self, *args: Any, **kwargs: Any) -> SmsSent | None:
        if isinstance(args[0], EmailMessage):
            self.mail.append(args[0])
            return None
        if self.fail:
            raise self.fail
        self.sms.append((args[0], args[1]))
        return SmsSent("46elks", f"s{len(self.sms)}", "created")


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def surveyed(db: Session, org: Any) -> Any:
    save_settings(
        db,
        org,
        {
            "phone_enabled": True,
            "email_enabled": True,
            "share_percent": 100.0,
            "delay_minutes": 0,
            "quiet_start": "00:00",
            "quiet_end": "00:00",
            "sms_on_closed_days": True,
            "sms_provider": "46elks",
            "sms_account": "u1",
            "sms_from": "Kumla",
            "smtp_host": "127.0.0.1",
            "email_from": "enkat@kumla.se",
        },
        secret_key=SECRET,
        sms_secret="api-password",
    )
    db.commit()  # (no settings are cached yet: the app reads them at the first delivery)
    return org


_APP: list[Any] = []


@pytest.fixture(autouse=True)
def _remember_app(app: Any) -> Any:
    _APP[:] = [app]
    yield
    _APP.clear()


def ingest(db: Session, org: Any, *events: dict[str, Any]) -> None:
    """Ingest as a request would: in the app's context, which lends the secret key."""
    with _APP[0].app_context():
        plain_ingest(db, org, *events)


def _at(minutes_ago: float) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat()


def _call(db: Session, org: Any, contact: str, caller: str = NUMBER, answered: bool = True) -> None:
    events = [event("call.queued", contact, _at(30), caller=caller, queue="Växel")]
    if answered:
        events.append(event("call.answered", contact, _at(29), agent="a1"))
    events.append(event("call.ended", contact, _at(20), caller=caller))
    ingest(db, org, *events)
    db.commit()


def _email(db: Session, org: Any, contact: str, caller: str = ADDRESS) -> None:
    ingest(
        db,
        org,
        event("email.received", contact, _at(300), caller=caller, queue="Bygglov"),
        event("email.replied", contact, _at(60)),
    )
    db.commit()


def _send(app: Any, outbox: Outbox, minutes_later: float = 0) -> Any:
    return send_pending(
        app.extensions["servicedesk.engine"],
        CONFIG,
        now=utcnow() + timedelta(minutes=minutes_later),
        sms_factory=lambda settings, secret: outbox,
        mail_factory=lambda settings, password: outbox,
    )


def _link(text: str) -> str:
    found = re.search(r"http://localhost(/s/[A-Za-z0-9._-]+)", text)
    assert found, text
    return found.group(1)


def _invitations(db: Session) -> list[SurveyInvitation]:
    db.rollback()  # a fresh snapshot (SQLite keeps the read transaction's view otherwise)
    db.expire_all()  # and no stale rows from the identity map
    return list(db.scalars(sa.select(SurveyInvitation).order_by(SurveyInvitation.id)))


@pytest.mark.postgres
def test_a_call_is_surveyed_by_sms_and_the_answers_reach_the_figures(
    app, client, db, surveyed, outbox
):
    _call(db, surveyed, "call-1", caller=LOCAL_FORM)
    [invitation] = _invitations(db)
    assert invitation.status == "waiting" and invitation.recipient.startswith("box1:")
    assert NUMBER not in invitation.recipient and "0701740605" not in invitation.recipient
    result = _send(app, outbox)
    assert result.sent == 1
    [(to, text)] = outbox.sms
    assert to == NUMBER  # normalised to E.164
    assert "avböja fler enkäter" in text and len(text) <= 306
    [invitation] = _invitations(db)
    assert invitation.status == "sent" and invitation.recipient is None
    assert invitation.provider_id == "s1"
    page = client.get(_link(text))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hur enkelt var det att få hjälp av kommunen med din fråga via telefoni?" in html
    assert "hur nöjd var du med bemötandet?" in html
    assert "<fieldset" in html and "<legend" in html and "<script" not in html
    assert "Set-Cookie" not in page.headers
    answered = client.post(_link(text), data={"ease": "4", "treatment": "5"})
    assert answered.status_code == 200 and "Tack" in answered.get_data(as_text=True)
    again = client.post(_link(text), data={"ease": "1", "treatment": "1"})
    assert "redan besvarats" in again.get_data(as_text=True)
    today = local_date(utcnow(), surveyed.timezone)
    db.rollback()
    figures = figures_by(db, surveyed, today.replace(day=1), today, [None])[None]
    headline = figures["survey_headline"]
    assert headline["phone_ease"]["responses"] == 1 and headline["phone_ease"]["index"] == 75.0
    assert headline["phone_treatment"]["index"] == 100.0
    assert headline["phone_treatment"]["small_sample"] is True
    assert figures["phone"]["survey_response_rate"] == 100.0
    [invitation] = _invitations(db)
    assert invitation.status == "answered"


@pytest.mark.postgres
def test_an_email_is_surveyed_and_a_no_is_not_scored(app, client, db, surveyed, outbox):
    _email(db, surveyed, "mail-1")
    _email(db, surveyed, "mail-2", caller="bo@example.se")
    assert _send(app, outbox).sent == 2
    first, second = outbox.mail
    assert first["To"] == ADDRESS and first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = first.get_content()
    link = _link(body)
    html = client.get(link + "?lang=nb").get_data(as_text=True)
    assert "Har du fått tilbakemelding eller svar på spørsmålet ditt?" in html
    client.post(link, data={"got_answer": "yes", "ease": "5", "clarity": "3"})
    client.post(_link(second.get_content()), data={"got_answer": "no", "ease": "1", "clarity": "1"})
    today = local_date(utcnow(), surveyed.timezone)
    db.rollback()
    headline = figures_by(db, surveyed, today.replace(day=1), today, [None])[None][
        "survey_headline"
    ]
    assert headline["email_ease"]["responses"] == 1 and headline["email_ease"]["index"] == 100.0
    assert headline["email_clarity"]["index"] == 50.0
    assert headline["email_got_answer"] == {
        "channel": "email",
        "responses": 2,
        "yes": 1,
        "yes_share": 50.0,
    }


@pytest.mark.postgres
def test_unanswered_hidden_and_backlog_calls_are_not_surveyed(app, db, surveyed, outbox):
    _call(db, surveyed, "abandoned", answered=False)
    _call(db, surveyed, "hidden", caller="anonymous")
    _call(db, surveyed, "twilio-hidden", caller="+266696687")
    ingest(
        db,
        surveyed,
        event("call.queued", "old", (utcnow() - timedelta(days=3)).isoformat(), caller="+4670111"),
        event("call.answered", "old", (utcnow() - timedelta(days=3)).isoformat()),
        event("call.ended", "old", (utcnow() - timedelta(days=3)).isoformat()),
    )
    db.commit()
    result = _send(app, outbox)
    assert outbox.sms == [] and result.sent == 0
    assert [(i.contact_id, i.status, i.reason) for i in _invitations(db)] == [
        ("abandoned", "skipped", "the call was not answered")
    ]
    assert _invitations(db)[0].recipient is None


@pytest.mark.postgres
def test_one_survey_per_person_and_opt_out_by_link(app, client, db, surveyed, outbox):
    _call(db, surveyed, "first")
    assert _send(app, outbox).sent == 1
    _call(db, surveyed, "second")  # the same person within 90 days
    assert _send(app, outbox).sent == 0
    _email(db, surveyed, "mail-1")
    assert _send(app, outbox).sent == 1
    stop = _link(outbox.mail[0].get_content()) + "/stop"
    assert "/stop" in outbox.mail[0]["List-Unsubscribe"]
    assert client.get(stop).status_code == 200
    done = client.post(stop, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 204
    [out] = db.scalars(sa.select(SurveyOptOut)).all()
    assert out.via == "link" and "@" not in out.caller_hash
    _email(db, surveyed, "mail-2")  # the same address again: never captured
    assert [i.contact_id for i in _invitations(db)] == ["first", "mail-1"]


@pytest.mark.postgres
def test_sampling_share_is_honoured(app, db, surveyed):
    from servicedesk.surveys.operations import save_settings as save

    with app.app_context():  # saving drops the settings every worker has cached
        save(db, surveyed, {"share_percent": 20.0}, secret_key=SECRET)
        db.commit()
    for n in range(200):
        ingest(db, surveyed, event("call.queued", f"s{n}", _at(5), caller=f"+4670{n:07d}"))
    db.commit()
    chosen = len(_invitations(db))
    assert 20 <= chosen <= 60  # 20 % of 200 is 40; the draw is fixed per contact
    ingest(db, surveyed, *[event("call.ended", f"s{n}", _at(1)) for n in range(200)])
    db.commit()
    assert len(_invitations(db)) == chosen  # later events draw nothing new


@pytest.mark.postgres
def test_numbers_expire_after_48_hours_and_failures_are_logged(app, db, surveyed, outbox):
    ingest(db, surveyed, event("call.queued", "long", _at(1), caller=NUMBER))
    db.commit()
    _call(db, surveyed, "refused", caller="+46702000001")
    outbox.fail = SmsError("46elks answered HTTP 400: Invalid to number", retry=False)
    assert _send(app, outbox).failed == 1
    outbox.fail = None
    result = _send(app, outbox, minutes_later=49 * 60)
    assert result.expired == 1
    rows = {i.contact_id: i for i in _invitations(db)}
    assert rows["long"].status == "expired" and rows["long"].recipient is None
    assert rows["refused"].status == "failed" and "Invalid to number" in rows["refused"].reason
    assert rows["refused"].recipient is None


@pytest.mark.postgres
def test_erasure_removes_the_invitation_and_its_number(app, db, surveyed):
    ingest(db, surveyed, event("call.queued", "c-erase", _at(2), caller=NUMBER))
    db.commit()
    assert len(_invitations(db)) == 1
    erase(db, surveyed, LOCAL_FORM, [PSEUDONYM_KEY], actor="test")
    db.commit()
    assert _invitations(db) == []


@pytest.mark.postgres
def test_no_clear_number_in_logs_or_deliveries(app, client, db, surveyed, outbox, caplog):
    caplog.set_level(logging.DEBUG)
    _call(db, surveyed, "private")
    _email(db, surveyed, "mail-private")
    _send(app, outbox)
    client.post(_link(outbox.sms[0][1]), data={"ease": "3", "treatment": "3"})
    forms = [NUMBER, NUMBER[1:], "0701740605", ADDRESS]
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert not any(f in text for f in forms), text
    engine = app.extensions["servicedesk.engine"]
    with engine.connect() as conn:
        for body, headers, reason in conn.execute(
            sa.text("SELECT body, headers, reason FROM deliveries WHERE source = 'survey'")
        ):
            blob = bytes(body).decode() + str(headers) + str(reason)
            assert not any(f in blob for f in forms)
        for table in ("survey_invitations", "survey_opt_outs", "survey_responses", "audit_log"):
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                assert not any(f in str(row) for f in forms), (table, row)


@pytest.mark.postgres
def test_forged_expired_and_foreign_links(app, client, db, surveyed):
    assert client.get("/s/not-a-token").status_code == 404
    from servicedesk.surveys.links import make_token

    ingest(db, surveyed, event("call.queued", "c9", _at(2), caller=NUMBER))
    db.commit()
    [invitation] = _invitations(db)
    wrong_nonce = make_token(SECRET, invitation.id, "0" * 16)
    assert client.get(f"/s/{wrong_nonce}").status_code == 404
    other_key = make_token("another-secret-key-000000", invitation.id, invitation.nonce)
    assert client.get(f"/s/{other_key}").status_code == 404
    good = make_token(SECRET, invitation.id, invitation.nonce)
    bad = client.post(f"/s/{good}", data={"ease": "9"})
    assert bad.status_code == 422 and "<script" not in bad.get_data(as_text=True)


@pytest.mark.postgres
def test_delivery_reports_of_46elks_and_twilio(app, client, db, surveyed, outbox):
    """46elks posts id/status/delivered (docs: sms-delivery-reports); Twilio posts MessageSid and
    MessageStatus, signed with X-Twilio-Signature over the URL and the sorted form fields."""
    from servicedesk.surveys.dispatch import status_url
    from servicedesk.surveys.operations import save_settings as save

    _call(db, surveyed, "dlr-1")
    _call(db, surveyed, "dlr-2", caller="+46702000002")
    _send(app, outbox)
    first, second = _invitations(db)
    url = status_url(CONFIG, first).removeprefix("http://localhost")
    assert client.post(url, data={"id": "wrong", "status": "delivered"}).status_code == 404
    reply = client.post(
        url, data={"id": first.provider_id, "status": "delivered", "delivered": "2026-06-01"}
    )
    assert reply.status_code == 204
    assert _invitations(db)[0].status == "delivered"
    # The second as if Twilio had sent it: unsigned is refused, signed is taken.
    save(db, surveyed, {"sms_provider": "twilio", "sms_account": "AC" + "a" * 32},
         secret_key=SECRET, sms_secret="twilio-auth-token")  # fmt: skip
    db.execute(sa.update(SurveyInvitation).where(SurveyInvitation.id == second.id)
               .values(provider="twilio", provider_id="SM" + "b" * 32))  # fmt: skip
    db.commit()
    url = status_url(CONFIG, second).removeprefix("http://localhost")
    form = {
        "MessageSid": "SM" + "b" * 32,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "To": NUMBER,
        "From": "+46766861004",
        "AccountSid": "AC" + "a" * 32,
    }
    assert client.post(url, data=form).status_code == 403
    from twilio.request_validator import RequestValidator

    signature = RequestValidator("twilio-auth-token").compute_signature(
        "http://localhost" + url, form
    )
    reply = client.post(url, data=form, headers={"X-Twilio-Signature": signature})
    assert reply.status_code == 204, reply.get_data(as_text=True)
    row = _invitations(db)[1]
    assert row.status == "failed" and row.reason == "twilio reported undelivered (error 30003)"
    with app.extensions["servicedesk.engine"].connect() as conn:
        bodies = [bytes(b) for (b,) in conn.execute(sa.text("SELECT body FROM deliveries"))]
    assert not any(b"701740605" in body for body in bodies)
