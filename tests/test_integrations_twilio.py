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


def test_a_calls_own_status_callback_is_verified_and_counts_nothing():
    # For an incoming call the number's StatusCallback gets only the final status, which
    # cannot tell a call that waited in a queue from one that ended in the IVR.
    fields = key_value_form("twilio-status-callback.form.txt")
    request = signed(f"{BASE}/status", fields)
    adapter = TwilioAdapter()
    adapter.verify(request, TOKEN)
    assert adapter.parse(request) == []


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
    assert adapter.parse(RequestParts(url=url, body=body, headers=headers, kind="status")) == []
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


def _at(request: RequestParts, moment: datetime) -> RequestParts:
    return RequestParts(
        url=request.url, body=request.body, headers=request.headers, kind=request.kind,
        received_at=moment,
    )  # fmt: skip


def test_queue_requests_give_queued_answered_and_ended():
    adapter = TwilioAdapter()
    call = {"CallSid": "CA0001", "AccountSid": "AC1", "From": "+46701234567"}
    taken = _at(
        signed(f"{BASE}/dequeue?queue=Bygglov&agent=anna", {**call, "QueueTime": "30"}, "dequeue"),
        datetime(2024, 6, 3, 8, 0, 42, tzinfo=UTC),
    )
    left = _at(
        signed(
            f"{BASE}/enqueue?queue=Bygglov",
            {**call, "QueueResult": "bridged", "QueueTime": "30", "QueueSid": "QU1"},
            "enqueue",
        ),
        datetime(2024, 6, 3, 8, 5, tzinfo=UTC),
    )
    queued, answered = assert_canonical(adapter.parse(taken))
    (ended,) = assert_canonical(adapter.parse(left))
    assert (queued.type, answered.type, ended.type) == (
        "call.queued",
        "call.answered",
        "call.ended",
    )
    assert (answered.occurred_at_utc - queued.occurred_at_utc).total_seconds() == 30
    assert answered.agent == "anna" and ended.caller == "+46701234567"
    assert {queued.queue, answered.queue, ended.queue} == {"Bygglov"}


def test_a_call_that_left_the_queue_unanswered_was_queued_queue_time_before():
    request = _at(
        signed(
            f"{BASE}/enqueue?queue=Bygglov",
            {"CallSid": "CA1", "From": "+46701234567", "QueueResult": "hangup", "QueueTime": "50"},
            "enqueue",
        ),
        datetime(2024, 6, 3, 8, 1, 20, tzinfo=UTC),
    )
    queued, ended = assert_canonical(TwilioAdapter().parse(request))
    assert queued.occurred_at_utc == datetime(2024, 6, 3, 8, 0, 30, tzinfo=UTC)
    assert ended.occurred_at_utc == datetime(2024, 6, 3, 8, 1, 20, tzinfo=UTC)
    reply = TwilioAdapter().reply(request, [])
    assert ElementTree.fromstring(reply.body)[0].tag == "Hangup"
    follow = signed(f"{BASE}/enqueue?next=https://kumla.se/b.xml", {"CallSid": "CA1"}, "enqueue")
    redirect = ElementTree.fromstring(TwilioAdapter().reply(follow, []).body)[0]
    assert (redirect.tag, redirect.text) == ("Redirect", "https://kumla.se/b.xml")


def test_a_retried_request_has_the_same_event_ids():
    fields = {"CallSid": "CA1", "QueueResult": "hangup", "QueueTime": "50"}
    adapter = TwilioAdapter()
    first = adapter.parse(signed(f"{BASE}/enqueue", fields, "enqueue"))
    again = adapter.parse(signed(f"{BASE}/enqueue", fields, "enqueue"))
    assert [e["id"] for e in first] == [e["id"] for e in again]


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
    adapter = TwilioAdapter()
    (event,) = assert_canonical(adapter.parse(signed(f"{BASE}/status", child)))
    assert (event.type, event.contact_id, event.agent) == ("call.answered", "CA0001", "client:anna")
    # The IVR picking up the call is not an answer.
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


def test_unknown_queue_result_and_question_are_payload_errors():
    adapter = TwilioAdapter()
    with pytest.raises(PayloadError):
        adapter.parse(
            signed(f"{BASE}/enqueue", {"CallSid": "CA1", "QueueResult": "bridged-ish"}, "enqueue")
        )
    with pytest.raises(PayloadError):
        adapter.parse(signed(f"{BASE}/dequeue", {"CallSid": "CA1", "QueueTime": "x"}, "dequeue"))
    with pytest.raises(PayloadError):
        adapter.parse(signed(f"{BASE}/status", {"CallStatus": "ringing"}))
    with pytest.raises(PayloadError):
        adapter.parse(
            signed(f"{BASE}/gather?question=mood", {"CallSid": "CA1", "Digits": "3"}, "gather")
        )
