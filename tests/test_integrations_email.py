"""Mailgun and Postmark inbound: signatures, replays, and threading into contacts."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from integrations.base import MemoryNonceStore, RequestParts, SignatureError
from integrations.mail import MemoryThreadIndex, message_ids, normalise_subject, split_plus
from integrations.mailgun import MailgunAdapter, sign
from integrations.postmark import PostmarkAdapter
from tests.payloads import assert_canonical, fixture_bytes, form_body, key_value_form

KEY = "key-0123456789abcdef0123456789abcdef"
DESK = {"desk_addresses": ["kontakt@kumla.se"], "desk_domains": ["kumla.se"]}
ARRIVED = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


def mailgun(fields: dict[str, str], *, at: datetime = ARRIVED, key: str = KEY) -> RequestParts:
    fields = dict(fields)
    fields.setdefault("timestamp", str(int(at.timestamp())))
    fields["signature"] = sign(key, fields["timestamp"], fields["token"])
    return RequestParts(
        url="https://desk.example.se/hooks/mailgun/tok",
        body=form_body(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        received_at=at,
    )


def sample_fields(**headers: str) -> dict[str, str]:
    """The documented sample with its headers replaced (and a fresh token per message)."""
    fields = key_value_form("mailgun-inbound.form.txt")
    names = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    pairs = [p for p in json.loads(fields["message-headers"]) if p[0].lower() not in names]
    pairs += [[name, value] for name, value in names.items()]
    fields["message-headers"] = json.dumps(pairs)
    fields["token"] = base64.b32encode(json.dumps(headers).encode()).decode()[-50:]
    del fields["timestamp"]
    return fields


def test_mailgun_sample_is_a_received_email():
    adapter = MailgunAdapter(DESK)
    request = mailgun(sample_fields())
    adapter.verify(request, KEY)
    (event,) = assert_canonical(adapter.parse(request))
    assert event.type == "email.received"
    assert event.contact_id == "CAF1pQ@mail.example.com"
    assert event.caller == "anna.andersson@example.com"
    # The Date header (two seconds before arrival) is believed.
    assert event.occurred_at_utc == datetime(2024, 6, 1, 8, 59, 58, tzinfo=UTC)


def test_mailgun_refuses_forged_stale_and_replayed():
    adapter = MailgunAdapter(DESK, nonces=MemoryNonceStore())
    fields = sample_fields()
    now = datetime.now(UTC)
    adapter.verify(mailgun(fields, at=now), KEY)
    with pytest.raises(SignatureError, match="replay"):
        adapter.verify(mailgun(fields, at=now), KEY)
    with pytest.raises(SignatureError, match="does not match"):
        adapter.verify(mailgun({**fields, "token": "t" * 50}, at=now, key="other"), KEY)
    stale = mailgun({**fields, "token": "s" * 50}, at=now - timedelta(seconds=301))
    stale = RequestParts(url=stale.url, body=stale.body, headers=stale.headers, received_at=now)
    with pytest.raises(SignatureError, match="off"):
        adapter.verify(stale, KEY)
    unsigned = RequestParts(url="https://x/", body=b"token=a&timestamp=1", received_at=now)
    with pytest.raises(SignatureError, match="required"):
        adapter.verify(unsigned, KEY)


def test_mailgun_multipart_body():
    adapter = MailgunAdapter(DESK)
    fields = sample_fields()
    fields["timestamp"] = str(int(ARRIVED.timestamp()))
    fields["signature"] = sign(KEY, fields["timestamp"], fields["token"])
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachment-1"; '
        f'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n'
    )
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    request = RequestParts(
        url="https://x/",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        received_at=ARRIVED,
    )
    adapter.verify(request, KEY)
    assert adapter.parse(request)[0]["contact_id"] == "CAF1pQ@mail.example.com"


def thread_through_mailgun(adapter: MailgunAdapter) -> list[dict]:
    """Citizen asks, desk answers, citizen replies, then writes anew to the plus address."""
    messages = [
        sample_fields(),
        sample_fields(
            From="Kumla kommun <kontakt@kumla.se>",
            To="anna.andersson@example.com",
            Reply_To="kontakt+4711@kumla.se",
            Message_Id="<reply1@kumla.se>",
            In_Reply_To="<CAF1pQ@mail.example.com>",
            References="<CAF1pQ@mail.example.com>",
            Subject="SV: Bygglov for garage",
            Date="Mon, 03 Jun 2024 09:00:00 +0200",
        ),
        sample_fields(
            Message_Id="<CAF2@mail.example.com>",
            In_Reply_To="<reply1@kumla.se>",
            References="<CAF1pQ@mail.example.com> <reply1@kumla.se>",
            Subject="Re: SV: Bygglov for garage",
            Date="Mon, 03 Jun 2024 10:00:00 +0200",
        ),
        sample_fields(
            Message_Id="<CAF3@mail.example.com>",
            To="kontakt+4711@kumla.se",
            Subject="En fråga till",
            Date="Mon, 03 Jun 2024 11:00:00 +0200",
        ),
    ]
    later = datetime(2024, 6, 3, 12, tzinfo=UTC)
    events = []
    for n, fields in enumerate(messages):
        request = mailgun(fields, at=ARRIVED if n == 0 else later)
        adapter.verify(request, KEY)
        events += adapter.parse(request)
    return events


def test_mailgun_thread_is_one_contact():
    events = assert_canonical(thread_through_mailgun(MailgunAdapter(DESK)))
    assert [e.type for e in events] == [
        "email.received",
        "email.replied",
        "email.received",
        "email.received",
    ]
    assert {e.contact_id for e in events} == {"CAF1pQ@mail.example.com"}
    assert len({e.id for e in events}) == 4
    # The desk's answer names its recipient, the citizen who wrote (the survey's address when
    # the answer comes after the first one's 48 hours: docs/privacy.md, "Surveys").
    assert events[1].caller == events[0].caller == "anna.andersson@example.com"
    assert events[1].occurred_at_utc == datetime(2024, 6, 3, 7, tzinfo=UTC)


def test_subject_fallback_when_headers_were_dropped():
    adapter = PostmarkAdapter(DESK, threads=MemoryThreadIndex())
    first = postmark_body()
    answer = postmark_body(
        From="kontakt@kumla.se",
        FromFull={"Email": "kontakt@kumla.se", "Name": "Kumla"},
        ToFull=[{"Email": "anna.andersson@example.com"}],
        Subject="SV: Bygglov for garage",
        MessageID="pm-2",
        Headers=[],
    )
    again = postmark_body(Subject="Re: Bygglov for garage", MessageID="pm-3", Headers=[])
    unrelated = postmark_body(Subject="Parkering", MessageID="pm-4", Headers=[])
    events = []
    for body in (first, answer, again, unrelated):
        events += adapter.parse(postmark_request(body))
    parsed = assert_canonical(events)
    assert [e.contact_id for e in parsed] == ["CAF1pQ@mail.example.com"] * 3 + ["pm-4"]


def test_desk_writing_first_is_no_contact():
    adapter = MailgunAdapter(DESK)
    fields = sample_fields(From="kontakt@kumla.se", To="someone@example.com")
    assert adapter.parse(mailgun(fields)) == []


def test_queue_by_desk_address():
    adapter = MailgunAdapter({**DESK, "queues": {"bygglov@kumla.se": "Bygglov"}})
    (event,) = adapter.parse(mailgun(sample_fields(To="Bygglov <bygglov+77@kumla.se>")))
    assert event["queue"] == "Bygglov"


def test_header_helpers():
    assert message_ids("<a@b> <c@d>\r\n <e@f>") == ["a@b", "c@d", "e@f"]
    assert message_ids("bare@id") == ["bare@id"]
    assert normalise_subject("SV: Re:  [Ärende 12] VB: Bygglov  ") == "bygglov"
    assert split_plus("kontakt+4711@kumla.se") == ("kontakt@kumla.se", "4711")
    assert split_plus("kontakt@kumla.se") == ("kontakt@kumla.se", None)


# --- Postmark -----------------------------------------------------------------------------------

CREDENTIALS = "postmark:" + "p" * 32


def postmark_body(**changes) -> bytes:
    data = json.loads(fixture_bytes("postmark-inbound.json"))
    data.update(changes)
    return json.dumps(data).encode()


def postmark_request(body: bytes, credentials: str = CREDENTIALS) -> RequestParts:
    auth = base64.b64encode(credentials.encode()).decode()
    return RequestParts(
        url="https://desk.example.se/hooks/postmark/tok",
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        received_at=ARRIVED,
    )


def test_postmark_sample_with_basic_auth():
    adapter = PostmarkAdapter(DESK)
    stored = adapter.stored_secret(CREDENTIALS)
    assert CREDENTIALS.split(":")[1] not in stored
    request = postmark_request(postmark_body())
    adapter.verify(request, stored)
    (event,) = assert_canonical(adapter.parse(request))
    assert (event.type, event.contact_id) == ("email.received", "CAF1pQ@mail.example.com")
    with pytest.raises(SignatureError, match="wrong"):
        adapter.verify(postmark_request(postmark_body(), "postmark:guess"), stored)
    no_auth = RequestParts(url=request.url, body=request.body, received_at=ARRIVED)
    with pytest.raises(SignatureError, match="missing"):
        adapter.verify(no_auth, stored)


def test_postmark_mailbox_hash_threads_a_fresh_message():
    adapter = PostmarkAdapter(DESK)
    adapter.parse(postmark_request(postmark_body()))
    reply = postmark_body(
        FromFull={"Email": "kontakt@kumla.se"},
        ToFull=[{"Email": "anna.andersson@example.com"}],
        ReplyTo="kontakt+4711@kumla.se",
        MessageID="pm-2",
        Headers=[
            {"Name": "Message-ID", "Value": "<r1@kumla.se>"},
            {"Name": "In-Reply-To", "Value": "<CAF1pQ@mail.example.com>"},
        ],
    )
    fresh = postmark_body(
        ToFull=[{"Email": "kontakt+4711@kumla.se"}],
        MailboxHash="4711",
        Subject="Ny fråga",
        MessageID="pm-3",
        Headers=[{"Name": "Message-ID", "Value": "<new@mail.example.com>"}],
    )
    (replied,) = adapter.parse(postmark_request(reply))
    (received,) = adapter.parse(postmark_request(fresh))
    assert replied["type"] == "email.replied"
    assert replied["contact_id"] == received["contact_id"] == "CAF1pQ@mail.example.com"


def test_mailgun_tolerance_can_be_widened():
    now = datetime.now(UTC)
    late = mailgun(sample_fields(), at=now - timedelta(hours=2))
    late = RequestParts(url=late.url, body=late.body, headers=late.headers, received_at=now)
    with pytest.raises(SignatureError, match="300 s"):
        MailgunAdapter(DESK).verify(late, KEY)
    MailgunAdapter({**DESK, "tolerance_seconds": 28800}).verify(late, KEY)
