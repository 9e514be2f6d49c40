"""Provider webhooks end to end: configuration, verification, refusal (whole flows: tests/flows)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from nacl.signing import SigningKey
from twilio.request_validator import RequestValidator

from integrations.mailgun import sign as mailgun_sign
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.ingest.models import Delivery, Event
from servicedesk.orgs.models import Queue
from servicedesk.webhooks.models import Integration
from servicedesk.webhooks.operations import add_integration
from tests.helpers import post
from tests.payloads import fixture_bytes, form_body, key_value_form

PUBLIC = "https://desk.example.se"
NOW = datetime(2024, 6, 3, 8, 6, tzinfo=UTC)
TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
MAILGUN_KEY = "key-mailgun-0123456789abcdef"
POSTMARK = "postmark:" + "p" * 24
TELNYX_KEY = SigningKey(b"k" * 32)
DESK = {"desk_addresses": ["kontakt@kumla.se"], "desk_domains": ["kumla.se"]}


@pytest.fixture
def public_app(app):
    app.config["PUBLIC_URL"] = PUBLIC
    return app


@pytest.fixture
def connect(db, public_app):
    """Connect a provider to an organisation; returns the webhook path."""

    def _connect(org, provider: str, secret: str | None = None, **options: Any) -> str:
        _, token, _ = add_integration(
            db,
            org,
            provider,
            secret=secret,
            options=options,
            secret_key=public_app.config["SECRET_KEY"],
        )
        db.commit()
        return f"/hooks/{provider}/{token}"

    return _connect


def contact_rows(db, org) -> list[dict[str, Any]]:
    """An organisation's contacts and survey answers, without ids that differ between orgs."""
    queues = dict(db.execute(sa.select(Queue.id, Queue.name)).all())
    rows = []
    for contact in db.scalars(
        sa.select(Contact).where(Contact.organisation_id == org.id).order_by(Contact.contact_id)
    ):
        row = contact.model_dump(exclude={"id", "organisation_id", "updated_at", "event_count"})
        row["queue"] = queues.get(row.pop("queue_id"))
        rows.append(row)
    for answer in db.scalars(
        sa.select(SurveyResponse).where(SurveyResponse.organisation_id == org.id)
    ):
        rows.append(answer.model_dump(exclude={"id", "organisation_id", "event_id"}))
    return rows


def generic(client, make_token, org, events: list[dict[str, Any]]) -> None:
    for n, e in enumerate(events):
        e.setdefault("id", f"generic-{n}")
    response = post(client, make_token(org), {"events": events})
    assert response.status_code == 202, response.get_json()


def twilio_post(client, path: str, fields: dict[str, str], token: str = TWILIO_TOKEN):
    signature = RequestValidator(token).compute_signature(PUBLIC + path, fields)
    return client.post(
        path,
        data=form_body(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def _twilio_status(status: str, at: str) -> dict[str, str]:
    return {
        "CallSid": "CA0001",
        "AccountSid": "AC1",
        "From": "+46701234567",
        "To": "+4619123456",
        "Direction": "inbound",
        "CallStatus": status,
        "Timestamp": at,
    }


def telnyx_post(client, path: str, body: bytes, ts: int | None = None, key=TELNYX_KEY):
    timestamp = str(ts if ts is not None else int(NOW.timestamp()))
    signature = key.sign(timestamp.encode() + b"|" + body).signature
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": timestamp,
        },
    )


TELNYX_PUBLIC = base64.b64encode(bytes(TELNYX_KEY.verify_key)).decode()


def mailgun_fields(n: int, **headers: str) -> dict[str, str]:
    fields = key_value_form("mailgun-inbound.form.txt")
    names = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    pairs = [p for p in json.loads(fields["message-headers"]) if p[0].lower() not in names]
    pairs += [[name, value] for name, value in names.items()]
    fields.update(
        {
            "message-headers": json.dumps(pairs),
            "token": f"token-{n:046d}",
            "timestamp": str(int(NOW.timestamp())),
        }
    )
    fields["signature"] = mailgun_sign(MAILGUN_KEY, fields["timestamp"], fields["token"])
    return fields


THREAD = [
    {"Date": "Mon, 03 Jun 2024 09:00:00 +0200"},
    {
        "From": "kontakt@kumla.se",
        "To": "anna.andersson@example.com",
        "Message_Id": "<r1@kumla.se>",
        "In_Reply_To": "<CAF1pQ@mail.example.com>",
        "Subject": "SV: Bygglov for garage",
        "Date": "Mon, 03 Jun 2024 09:30:00 +0200",
    },
    {
        "Message_Id": "<CAF2@mail.example.com>",
        "In_Reply_To": "<r1@kumla.se>",
        "References": "<CAF1pQ@mail.example.com> <r1@kumla.se>",
        "Subject": "Re: SV: Bygglov for garage",
        "Date": "Mon, 03 Jun 2024 09:45:00 +0200",
    },
]
THREAD_GENERIC = [
    ("email.received", "2024-06-03T07:00:00Z"),
    ("email.replied", "2024-06-03T07:30:00Z"),
    ("email.received", "2024-06-03T07:45:00Z"),
]


def _generic_thread() -> list[dict[str, Any]]:
    events = []
    for type_, at in THREAD_GENERIC:
        e = {"type": type_, "contact_id": "CAF1pQ@mail.example.com", "occurred_at": at}
        if type_ == "email.received":
            e["caller"] = "anna.andersson@example.com"
        events.append(e)
    return events


@time_machine.travel(NOW, tick=False)
def test_mailgun_thread_gives_the_rows_of_generic_events(client, db, make_org, make_token, connect):
    via_hooks, via_api = make_org(slug="a"), make_org(slug="b")
    path = connect(via_hooks, "mailgun", MAILGUN_KEY, **DESK)
    for n, headers in enumerate(THREAD):
        response = client.post(path, data=mailgun_fields(n, **headers))
        assert response.status_code == 200, response.get_data(as_text=True)
    generic(client, make_token, via_api, _generic_thread())
    rows = contact_rows(db, via_hooks)
    assert rows == contact_rows(db, via_api)
    assert rows[0]["answered_at"] is not None


def postmark_post(client, path: str, body: bytes, credentials: str = POSTMARK):
    auth = base64.b64encode(credentials.encode()).decode()
    return client.post(
        path, data=body, content_type="application/json", headers={"Authorization": f"Basic {auth}"}
    )


def postmark_body(headers: dict[str, str]) -> bytes:
    data = json.loads(fixture_bytes("postmark-inbound.json"))
    if headers.get("From"):
        data["FromFull"] = {"Email": headers["From"]}
        data["ToFull"] = [{"Email": headers["To"]}]
    data["Subject"] = headers.get("Subject", data["Subject"])
    data["Date"] = headers["Date"]
    names = {"Message_Id": "Message-ID", "In_Reply_To": "In-Reply-To", "References": "References"}
    extra = [{"Name": names[k], "Value": v} for k, v in headers.items() if k in names]
    if extra:
        data["Headers"] = [h for h in data["Headers"] if h["Name"] != "Message-ID"] + extra
    data["MessageID"] = headers.get("Message_Id", data["MessageID"])
    return json.dumps(data).encode()


@time_machine.travel(NOW, tick=False)
def test_postmark_thread_gives_the_rows_of_generic_events(
    client, db, make_org, make_token, connect
):
    via_hooks, via_api = make_org(slug="a"), make_org(slug="b")
    path = connect(via_hooks, "postmark", POSTMARK, **DESK)
    for headers in THREAD:
        response = postmark_post(client, path, postmark_body(headers))
        assert response.status_code == 200, response.get_data(as_text=True)
    generic(client, make_token, via_api, _generic_thread())
    assert contact_rows(db, via_hooks) == contact_rows(db, via_api)


def _rejections(db) -> list[tuple[str, int, str]]:
    rows = db.scalars(
        sa.select(Delivery).where(Delivery.status == "rejected").order_by(Delivery.id)
    )
    return [(d.source, d.http_status, d.reason or "") for d in rows]


@time_machine.travel(NOW, tick=False)
def test_forged_stale_and_replayed_deliveries_are_refused_and_kept(client, db, org, connect):
    twilio = connect(org, "twilio", TWILIO_TOKEN)
    telnyx = connect(org, "telnyx", TELNYX_PUBLIC)
    mailgun = connect(org, "mailgun", MAILGUN_KEY, **DESK)
    postmark = connect(org, "postmark", POSTMARK, **DESK)
    fields = key_value_form("twilio-status-callback.form.txt")
    assert twilio_post(client, f"{twilio}/status", fields, token="forged" * 6).status_code == 401
    hangup = fixture_bytes("telnyx-call-hangup.json")
    stale = int(NOW.timestamp()) - 301
    assert telnyx_post(client, telnyx, hangup, ts=stale).status_code == 401
    forged = SigningKey(b"f" * 32)
    assert telnyx_post(client, telnyx, hangup, key=forged).status_code == 401
    first = mailgun_fields(0)
    assert client.post(mailgun, data=first).status_code == 200
    assert client.post(mailgun, data=first).status_code == 401
    body = postmark_body(THREAD[0])
    assert postmark_post(client, postmark, body, "postmark:guess").status_code == 401
    assert client.post(postmark, data=body, content_type="application/json").status_code == 401
    reasons = _rejections(db)
    assert [(s, c) for s, c, _ in reasons] == [
        ("twilio", 401),
        ("telnyx", 401),
        ("telnyx", 401),
        ("mailgun", 401),
        ("postmark", 401),
        ("postmark", 401),
    ]
    assert "does not match" in reasons[0][2] and "300 s" in reasons[1][2]
    assert "replay" in reasons[3][2] and "wrong" in reasons[4][2]
    assert db.scalar(sa.select(sa.func.count()).select_from(Event)) == 1


def test_unknown_urls_and_bad_payloads_are_refused_and_kept(client, db, org, connect):
    elks = connect(org, "46elks", allow_from=["176.10.154.199"])
    form = "application/x-www-form-urlencoded"
    body = fixture_bytes("46elks-voice-start.form.txt")
    environ = {"REMOTE_ADDR": "176.10.154.199"}
    assert (
        client.post(
            f"{elks}/voice_start", data=body, content_type=form, environ_base=environ
        ).status_code
        == 204
    )
    assert (
        client.post(
            f"{elks}/voice_start",
            data=body,
            content_type=form,
            environ_base={"REMOTE_ADDR": "203.0.113.5"},
        ).status_code
        == 401
    )
    wrong_token = elks[:-4] + "AAAA"
    response = client.post(f"{wrong_token}/voice_start", data=body, content_type=form)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert (
        client.post(f"{elks}/other", data=body, content_type=form, environ_base=environ).status_code
        == 404
    )
    response = client.post(
        f"{elks}/voice_start", data=b"direction=incoming", content_type=form, environ_base=environ
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "(body)"
    assert [c for _, c, _ in _rejections(db)] == [401, 404, 404, 422]


def test_signature_covers_the_public_url(client, db, org, connect, public_app):
    path = connect(org, "twilio", TWILIO_TOKEN)
    fields = key_value_form("twilio-status-callback.form.txt")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        f"http://localhost{path}/status", fields
    )
    response = client.post(
        f"{path}/status",
        data=form_body(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 401
    assert "SERVICEDESK_PUBLIC_URL" in response.get_json()["detail"]
    public_app.config["PUBLIC_URL"] = ""
    response = client.post(
        f"{path}/status",
        data=form_body(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200


# --- CLI ----------------------------------------------------------------------------------------


def test_integration_add_prints_the_path_last_and_stores_no_secret_in_clear(runner, db, org):
    result = runner.invoke(
        args=[
            "integration",
            "add",
            "--org",
            "kumla",
            "--provider",
            "twilio",
            "--secret",
            TWILIO_TOKEN,
            "--queue",
            "Växel",
        ]
    )
    assert result.exit_code == 0, result.output
    path = result.stdout.strip().splitlines()[-1]
    assert path.startswith("/hooks/twilio/wh_")
    row = db.scalars(sa.select(Integration)).one()
    assert TWILIO_TOKEN not in row.secret and path.rsplit("/", 1)[1] not in row.token_hash
    assert row.options == {"queue": "Växel"}
    result = runner.invoke(
        args=[
            "integration",
            "add",
            "--org",
            "kumla",
            "--provider",
            "postmark",
            "--desk-domain",
            "kumla.se",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    db.rollback()
    credentials = lines[-2].split(": ", 1)[1]
    assert credentials.startswith("servicedesk:") and credentials not in str(
        db.scalars(sa.select(Integration.secret)).all()
    )
    listing = runner.invoke(args=["integration", "list", "--org", "kumla"])
    assert [line.split("\t")[0] for line in listing.stdout.splitlines()] == ["postmark", "twilio"]
    removed = runner.invoke(
        args=["integration", "remove", "--org", "kumla", "--provider", "twilio"]
    )
    assert removed.exit_code == 0
    db.rollback()
    assert db.scalars(sa.select(Integration.provider)).all() == ["postmark"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "twilio"], "--secret"),
        (["--provider", "telnyx", "--secret", "bm90IGEga2V5"], "32 bytes"),
        (["--provider", "46elks", "--secret", "x"], "46elks signs nothing"),
        (["--provider", "mailgun", "--secret", "k"], "--desk-address"),
        (["--provider", "postmark", "--secret", "u:short", "--desk-domain", "x.se"], "16+"),
        (["--provider", "twilio", "--secret", "s", "--option", "oops"], "KEY=VALUE"),
    ],
)
def test_integration_add_errors_are_one_line(runner, org, args, message):
    result = runner.invoke(args=["integration", "add", "--org", "kumla", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_integration_add_twice_and_remove_missing(runner, org):
    args = ["integration", "add", "--org", "kumla", "--provider", "46elks"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already has 46elks" in again.output
    missing = runner.invoke(
        args=["integration", "remove", "--org", "kumla", "--provider", "telnyx"]
    )
    assert missing.exit_code != 0 and "no telnyx" in missing.output


@time_machine.travel(NOW, tick=False)
def test_a_delivery_that_can_never_be_read_stops_the_providers_retries(client, db, org, connect):
    # Postmark retries anything but 200 ten times and stops on 403; Mailgun stops on 406.
    postmark = connect(org, "postmark", POSTMARK, **DESK)
    mailgun = connect(org, "mailgun", MAILGUN_KEY, **DESK)
    assert postmark_post(client, postmark, "[1, 2]").status_code == 403
    assert client.post(f"{postmark}/nowhere", data=b"{}").status_code == 403
    fields = {**mailgun_fields(0), "message-headers": "not json"}
    answer = client.post(mailgun, data=fields)
    assert answer.status_code == 406 and answer.mimetype == "application/problem+json"
    assert [(s, c) for s, c, _ in _rejections(db)] == [
        ("postmark", 403),
        ("postmark", 403),
        ("mailgun", 406),
    ]
