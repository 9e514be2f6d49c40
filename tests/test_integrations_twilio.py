"""Twilio: status callbacks, the survey <Gather>, and signatures made by Twilio's library."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from twilio.request_validator import RequestValidator

from integrations.base import PayloadError, RequestParts, SignatureError
from integrations.twilio import TwilioAdapter
from tests.payloads import assert_canonical, form_body, key_value_form

TOKEN = "12345678901234567890123456789012"
BASE = "https://desk.example.se/hooks/twilio/tok123"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def signed(url: str, fields: dict[str, str], kind: str = "status", token: str = TOKEN):
    signature = RequestValidator(token).compute_signature(url, fields)
    headers = {**FORM, "X-Twilio-Signature": signature}
    return RequestParts(url=url, body=form_body(fields), headers=headers, kind=kind)


def test_sample_busy_callback_is_an_ended_call():
    fields = key_value_form("twilio-status-callback.form.txt")
    request = signed(f"{BASE}/status", fields)
    adapter = TwilioAdapter()
    adapter.verify(request, TOKEN)
    events = adapter.parse(request)
    (event,) = assert_canonical(events)
    assert event.type == "call.ended"
    assert event.contact_id == fields["CallSid"]
    assert event.occurred_at_utc == datetime(2025, 10, 8, 13, 54, 12, tzinfo=UTC)


def test_signature_refuses_forged_and_tampered_requests():
    fields = key_value_form("twilio-status-callback.form.txt")
    adapter = TwilioAdapter()
    good = signed(f"{BASE}/status", fields)
    tampered = RequestParts(
        url=good.url,
        body=form_body({**fields, "CallStatus": "completed"}),
        headers=good.headers,
        kind="status",
    )
    other_key = signed(f"{BASE}/status", fields, token="x" * 32)
    other_url = RequestParts(
        url=f"{BASE}/status?queue=Bygglov", body=good.body, headers=good.headers, kind="status"
    )
    unsigned = RequestParts(url=good.url, body=good.body, headers=FORM, kind="status")
    for request in (tampered, other_key, other_url, unsigned):
        with pytest.raises(SignatureError):
            adapter.verify(request, TOKEN)


def test_signature_over_url_with_default_port_is_accepted():
    fields = {"CallSid": "CA1", "CallStatus": "ringing"}
    # Some Twilio products sign the URL with :443 though the request went to the bare host.
    signature = RequestValidator(TOKEN).compute_signature(
        "https://desk.example.se:443/hooks/twilio/tok123/status", fields
    )
    request = RequestParts(
        url=f"{BASE}/status",
        body=form_body(fields),
        headers={**FORM, "X-Twilio-Signature": signature},
        kind="status",
    )
    TwilioAdapter().verify(request, TOKEN)


def test_json_body_is_verified_by_body_sha256():
    body = json.dumps({"CallSid": "CA9", "CallStatus": "completed"}).encode()
    url = f"{BASE}/status?bodySHA256={hashlib.sha256(body).hexdigest()}"
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(url, {})
    headers = {"Content-Type": "application/json", "X-Twilio-Signature": signature}
    assert validator.validate(url, body.decode(), signature)
    adapter = TwilioAdapter()
    adapter.verify(RequestParts(url=url, body=body, headers=headers, kind="status"), TOKEN)
    (event,) = assert_canonical(
        adapter.parse(RequestParts(url=url, body=body, headers=headers, kind="status"))
    )
    assert event.type == "call.ended"
    with pytest.raises(SignatureError, match="bodySHA256"):
        adapter.verify(
            RequestParts(url=url, body=body.replace(b"CA9", b"CA8"), headers=headers), TOKEN
        )


def test_shared_key_hmac_sha256_signatures():
    fields = {"CallSid": "CA1", "CallStatus": "ringing"}
    url = f"{BASE}/status"
    signature = RequestValidator(TOKEN).compute_signature(url, fields, "HMAC_SHA256")
    headers = {
        **FORM,
        "X-Twilio-Signature": signature,
        "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
    }
    TwilioAdapter().verify(RequestParts(url=url, body=form_body(fields), headers=headers), TOKEN)
    with pytest.raises(SignatureError):
        TwilioAdapter().verify(
            RequestParts(
                url=url,
                body=form_body(fields),
                headers={
                    **headers,
                    **{"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA1"},
                },
            ),
            TOKEN,
        )


def _callback(status: str, timestamp: str, seq: int, **extra: str) -> dict[str, str]:
    return {
        "CallSid": "CA0001",
        "AccountSid": "AC1",
        "From": "+46701234567",
        "To": "+4619123456",
        "Direction": "inbound",
        "CallStatus": status,
        "Timestamp": timestamp,
        "SequenceNumber": str(seq),
        "CallbackSource": "call-progress-events",
        **extra,
    }


def call_flow() -> list[tuple[str, dict[str, str]]]:
    """One inbound call: rings, is answered after 42 s, ends; then the citizen grades it 4."""
    return [
        ("status", _callback("initiated", "Mon, 03 Jun 2024 08:00:00 +0000", 0)),
        ("status", _callback("ringing", "Mon, 03 Jun 2024 08:00:01 +0000", 1)),
        ("status", _callback("in-progress", "Mon, 03 Jun 2024 08:00:42 +0000", 2)),
        ("status", _callback("completed", "Mon, 03 Jun 2024 08:05:00 +0000", 3)),
        ("gather", {"CallSid": "CA0001", "AccountSid": "AC1", "Digits": "4"}),
    ]


def test_call_flow_and_survey():
    adapter = TwilioAdapter()
    received = datetime(2024, 6, 3, 8, 6, tzinfo=UTC)
    events = []
    for kind, fields in call_flow():
        url = f"{BASE}/{kind}?queue=Bygglov"
        request = signed(url, fields, kind)
        request = RequestParts(
            url=request.url,
            body=request.body,
            headers=request.headers,
            kind=kind,
            received_at=received,
        )
        adapter.verify(request, TOKEN)
        events += adapter.parse(request)
    parsed = assert_canonical(events)
    assert [e.type for e in parsed] == [
        "call.queued",
        "call.queued",
        "call.answered",
        "call.ended",
        "survey.response",
    ]
    assert {e.contact_id for e in parsed} == {"CA0001"}
    assert {e.queue for e in parsed} == {"Bygglov"}
    assert parsed[0].caller == "+46701234567"
    assert (parsed[2].occurred_at_utc - parsed[0].occurred_at_utc).total_seconds() == 42
    assert (parsed[-1].question, parsed[-1].score, parsed[-1].channel) == ("treatment", 4, "phone")
    assert len({e.id for e in parsed}) == len(parsed)


def test_a_retried_callback_has_the_same_event_id():
    fields = _callback("completed", "Mon, 03 Jun 2024 08:05:00 +0000", 3)
    adapter = TwilioAdapter()
    first = adapter.parse(signed(f"{BASE}/status", fields))
    again = adapter.parse(signed(f"{BASE}/status", fields))
    assert first[0]["id"] == again[0]["id"]


def test_agent_leg_answer_counts_for_the_parent_call():
    child = _callback(
        "in-progress",
        "Mon, 03 Jun 2024 08:01:10 +0000",
        1,
        CallSid="CA0002",
        ParentCallSid="CA0001",
        To="client:anna",
        Direction="outbound-dial",
    )
    parent_answer = _callback("in-progress", "Mon, 03 Jun 2024 08:00:01 +0000", 2)
    adapter = TwilioAdapter({"answer_on": "agent_leg"})
    (event,) = assert_canonical(adapter.parse(signed(f"{BASE}/status", child)))
    assert (event.type, event.contact_id, event.agent) == ("call.answered", "CA0001", "client:anna")
    # With answer_on=agent_leg the IVR picking up the call is not an answer.
    assert adapter.parse(signed(f"{BASE}/status", parent_answer)) == []
    ended_child = {**child, "CallStatus": "completed"}
    assert adapter.parse(signed(f"{BASE}/status", ended_child)) == []


def test_wrapup_key_marks_direct_answer():
    adapter = TwilioAdapter()
    fields = {"CallSid": "CA0002", "ParentCallSid": "CA0001", "Digits": "1"}
    (event,) = assert_canonical(
        adapter.parse(signed(f"{BASE}/gather?purpose=wrapup", fields, "gather"))
    )
    assert (event.type, event.contact_id, event.direct_answer) == ("call.ended", "CA0001", True)
    fields["Digits"] = "2"
    (event,) = assert_canonical(
        adapter.parse(signed(f"{BASE}/gather?purpose=wrapup", fields, "gather"))
    )
    assert event.direct_answer is False


def test_survey_twiml_and_replies_are_valid_xml():
    adapter = TwilioAdapter()
    url = f"{BASE}/survey?question=ease"
    request = signed(url, {"CallSid": "CA0001"}, "survey")
    assert adapter.parse(request) == []
    reply = adapter.reply(request, [])
    root = ElementTree.fromstring(reply.body)
    gather = root.find("Gather")
    assert reply.content_type == "text/xml"
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == f"{BASE}/gather?question=ease"
    request = signed(f"{BASE}/gather?question=ease", {"CallSid": "CA0001", "Digits": "5"}, "gather")
    events = adapter.parse(request)
    assert events[0]["question"] == "ease"
    root = ElementTree.fromstring(adapter.reply(request, events).body)
    assert [child.tag for child in root] == ["Say", "Hangup"]


@pytest.mark.parametrize("digits", ["", "0", "6", "12", "*"])
def test_digits_that_are_no_grade_give_no_event(digits):
    request = signed(f"{BASE}/gather", {"CallSid": "CA1", "Digits": digits}, "gather")
    assert TwilioAdapter().parse(request) == []


def test_unknown_status_and_question_are_payload_errors():
    adapter = TwilioAdapter()
    with pytest.raises(PayloadError):
        adapter.parse(signed(f"{BASE}/status", {"CallSid": "CA1", "CallStatus": "ringing-ish"}))
    with pytest.raises(PayloadError):
        adapter.parse(signed(f"{BASE}/status", {"CallStatus": "ringing"}))
    with pytest.raises(PayloadError):
        adapter.parse(
            signed(f"{BASE}/gather?question=mood", {"CallSid": "CA1", "Digits": "3"}, "gather")
        )
