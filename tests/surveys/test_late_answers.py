"""E-mails answered more than 48 hours after they arrived: the citizen's address is deleted by
then, and the survey takes it again from the desk's answer (its recipient), through Mailgun's
inbound route as Mailgun posts it (tests/fixtures/integrations/mailgun-inbound.form.txt, from
Mailgun's "Receiving messages via HTTP"), only when the answer goes back to whoever wrote.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from integrations.mailgun import sign
from servicedesk.surveys.dispatch import DispatchConfig, send_pending
from servicedesk.surveys.models import SurveyInvitation
from servicedesk.surveys.operations import save_settings
from servicedesk.timeutil import utcnow
from servicedesk.webhooks.operations import add_integration
from tests.payloads import key_value_form

SECRET = "test-secret-key-0123456789"
KEY = "key-mailgun-0123456789abcdef"
CITIZEN = "anna.andersson@example.com"
CONFIG = DispatchConfig(secret_key=SECRET, public_url="http://localhost")


@pytest.fixture
def mailgun(app: Any, db: Session, org: Any) -> str:
    """E-mail surveys on; Mailgun connected to the desk kontakt@kumla.se. Returns its path."""
    with app.app_context():
        save_settings(
            db,
            org,
            {
                "email_enabled": True,
                "share_percent": 100.0,
                "min_days_between": 0,
                "delay_minutes": 0,
                "smtp_host": "127.0.0.1",
                "email_from": "enkat@kumla.se",
            },
            secret_key=SECRET,
        )
        _, token, _ = add_integration(
            db,
            org,
            "mailgun",
            secret=KEY,
            secret_key=SECRET,
            options={"desk_addresses": ["kontakt@kumla.se"], "desk_domains": ["kumla.se"]},
        )
    db.commit()
    return f"/hooks/mailgun/{token}"


_n = iter(range(1, 1000))


def _message(minutes_ago: float, **headers: str) -> dict[str, str]:
    """The fixture's fields with these headers, dated ``minutes_ago`` and signed now."""
    fields = key_value_form("mailgun-inbound.form.txt")
    names = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    names["date"] = format_datetime(utcnow() - timedelta(minutes=minutes_ago))
    pairs = [p for p in json.loads(fields["message-headers"]) if p[0].lower() not in names]
    pairs += [[name, value] for name, value in names.items()]
    sender = names.get("from", fields["from"])
    fields |= {
        "message-headers": json.dumps(pairs),
        "from": sender,
        "sender": sender,
        "token": f"token-{next(_n):046d}",
        "timestamp": str(int(utcnow().timestamp())),
    }
    fields["signature"] = sign(KEY, fields["timestamp"], fields["token"])
    return fields


def _answer(minutes_ago: float, to: str, thread: str) -> dict[str, str]:
    return _message(
        minutes_ago,
        From="Kumla kommun <kontakt@kumla.se>",
        To=to,
        Message_Id=f"<answer-{next(_n)}@kumla.se>",
        In_Reply_To=thread,
        References=thread,
        Subject="SV: Bygglov for garage",
    )


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def _send(app: Any, box: Mailbox) -> Any:
    return send_pending(
        app.extensions["servicedesk.engine"],
        CONFIG,
        sms_factory=lambda s, p: pytest.fail("no SMS here"),
        mail_factory=lambda s, p: box,
    )


def _rows(db: Session) -> list[SurveyInvitation]:
    db.rollback()
    db.expire_all()
    return list(db.scalars(sa.select(SurveyInvitation).order_by(SurveyInvitation.id)))


def _two_days_pass(db: Session) -> None:
    """The captured address's 48 hours are over (as if it had arrived 50 hours ago)."""
    db.execute(
        sa.update(SurveyInvitation).values(
            captured_at=utcnow() - timedelta(hours=50), expires_at=utcnow() - timedelta(hours=2)
        )
    )
    db.commit()


@pytest.mark.postgres
def test_an_answer_after_48_hours_is_surveyed_from_its_recipient(app, client, db, mailgun):
    box = Mailbox()
    assert client.post(mailgun, data=_message(10)).status_code == 200
    [row] = _rows(db)
    assert row.status == "waiting" and row.recipient is not None
    _two_days_pass(db)
    assert _send(app, box).expired == 1
    [row] = _rows(db)
    assert (row.status, row.recipient) == ("expired", None)
    assert (
        client.post(mailgun, data=_answer(1, CITIZEN, "<CAF1pQ@mail.example.com>")).status_code
        == 200
    )
    [row] = _rows(db)
    assert row.status == "waiting" and row.recipient.startswith("box1:")
    assert CITIZEN not in row.recipient
    assert row.expires_at <= utcnow() + timedelta(hours=48)
    assert _send(app, box).sent == 1
    [mail] = box.sent
    assert mail["To"] == CITIZEN and "/s/" in mail.get_content()
    [row] = _rows(db)
    assert (row.status, row.recipient) == ("sent", None)
    with app.extensions["servicedesk.engine"].connect() as conn:
        for table in ("survey_invitations", "events", "contacts"):
            for found in conn.execute(sa.text(f"SELECT * FROM {table}")):
                assert CITIZEN not in str(found), (table, found)


@pytest.mark.postgres
def test_an_answer_to_someone_else_is_not_surveyed(app, client, db, mailgun):
    box = Mailbox()
    client.post(mailgun, data=_message(10))
    _two_days_pass(db)
    _send(app, box)
    forwarded = _answer(1, "Advokatbyrån <jurist@advokat.example>", "<CAF1pQ@mail.example.com>")
    assert client.post(mailgun, data=forwarded).status_code == 200
    [row] = _rows(db)
    assert (row.status, row.recipient) == ("expired", None)
    assert _send(app, box).sent == 0 and box.sent == []


@pytest.mark.postgres
def test_an_answer_within_48_hours_sends_one_survey(app, client, db, mailgun):
    box = Mailbox()
    client.post(mailgun, data=_message(10))
    client.post(mailgun, data=_answer(1, CITIZEN, "<CAF1pQ@mail.example.com>"))
    assert len(_rows(db)) == 1
    assert _send(app, box).sent == 1 and len(box.sent) == 1
    client.post(mailgun, data=_answer(0.5, CITIZEN, "<CAF1pQ@mail.example.com>"))
    [row] = _rows(db)
    assert (row.status, row.recipient) == ("sent", None)  # a sent survey is never re-armed
    assert _send(app, box).sent == 0
