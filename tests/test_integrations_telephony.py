"""46elks, Telnyx and Asterisk queue_log: sample payloads, flows and authenticity checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from nacl.signing import SigningKey

from integrations.asterisk import QueueLogReader, parse_line, parse_lines
from integrations.base import PayloadError, RequestParts, SignatureError
from integrations.elks46 import Elks46Adapter
from integrations.telnyx import TelnyxAdapter
from tests.payloads import assert_canonical, fixture_bytes, fixture_text

ELKS_URL = "https://desk.example.se/hooks/46elks/secret-token-0123456789abcdef"
ELKS_TOKEN = "secret-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def elks(kind: str, body: bytes, query: str = "", **kwargs) -> RequestParts:
    headers = {"Content-Type": "application/json"} if body.startswith(b"{") else FORM
    return RequestParts(
        url=f"{ELKS_URL}/{kind}{query}",
        body=body,
        headers=headers,
        kind=kind,
        token=kwargs.pop("token", ELKS_TOKEN),
        **kwargs,
    )


def test_46elks_voice_start_sample_queues_the_call():
    # Offered at once only when servicedesk's own voice_start answer connects to the agents.
    adapter = Elks46Adapter({"voice_start_action": {"connect": "+4619000000"}})
    assert (
        Elks46Adapter().parse(elks("voice_start", fixture_bytes("46elks-voice-start.form.txt")))
        == []
    )
    (event,) = assert_canonical(
        adapter.parse(elks("voice_start", fixture_bytes("46elks-voice-start.form.txt")))
    )
    assert event.type == "call.queued"
    assert event.contact_id == "sf8425555e5d8db61dda7a7b3f1b91bdb"
    assert event.caller == "+46706861004"
    assert event.occurred_at_utc == datetime(2018, 7, 13, 13, 57, 23, 741000, tzinfo=UTC)


def test_46elks_whenhangup_sample_is_queued_answered_ended():
    events = Elks46Adapter().parse(elks("whenhangup", fixture_bytes("46elks-whenhangup.json")))
    queued, answered, ended = assert_canonical(events)
    assert [queued.type, answered.type, ended.type] == [
        "call.queued",
        "call.answered",
        "call.ended",
    ]
    assert {e.contact_id for e in (queued, answered, ended)} == {
        "c595183c042b1e43d1c8e79b9fd5cbcab"
    }
    # The leg talked 14 s of the call's 15: answered 1 s after start (never before created).
    assert answered.occurred_at_utc == datetime(2016, 11, 3, 9, 24, 25, 333000, tzinfo=UTC)
    assert answered.agent == "+4634090510"
    assert ended.occurred_at_utc == datetime(2016, 11, 3, 9, 24, 39, 333000, tzinfo=UTC)


def test_46elks_call_nobody_answered_is_only_queued_and_ended():
    data = json.loads(fixture_bytes("46elks-whenhangup.json"))
    data["legs"] = [{"duration": 0, "to": "+4634090510", "state": "busy", "from": data["from"]}]
    events = Elks46Adapter().parse(elks("whenhangup", json.dumps(data).encode()))
    assert [e.type for e in assert_canonical(events)] == ["call.queued", "call.ended"]
    # Actions that never reached a connect: the call ended in the IVR and is not offered.
    data.update(actions=[{"ivr": "https://x/menu.mp3", "result": "2"}], legs=[])
    assert Elks46Adapter().parse(elks("whenhangup", json.dumps(data).encode())) == []


def test_46elks_voice_start_and_whenhangup_share_the_queued_event():
    adapter = Elks46Adapter({"voice_start_action": {"connect": "+4619000000"}})
    start = adapter.parse(elks("voice_start", fixture_bytes("46elks-voice-start.form.txt")))
    form = (
        fixture_bytes("46elks-voice-start.form.txt")
        + b"&start=2018-07-13T13%3A57%3A30&duration=60"
        + b"&actions=%5B%7B%22connect%22%3A%22%2B4619000000%22%7D%5D"
    )
    hangup = adapter.parse(elks("whenhangup", form))
    assert start[0] == hangup[0]


def test_46elks_next_result_is_a_grade_and_wrapup_a_verdict():
    adapter = Elks46Adapter({"queue": "Bygglov"})
    body = fixture_bytes("46elks-next-ivr.form.txt")
    (grade,) = assert_canonical(adapter.parse(elks("next", body, "?question=ease")))
    assert (grade.type, grade.question, grade.score, grade.queue) == (
        "survey.response",
        "ease",
        5,
        "Bygglov",
    )
    wrapup = body.replace(b"result=5", b"result=2")
    (verdict,) = assert_canonical(adapter.parse(elks("next", wrapup, "?purpose=wrapup")))
    assert (verdict.type, verdict.direct_answer) == ("call.ended", False)


def test_46elks_secret_and_source_addresses():
    adapter = Elks46Adapter({"allow_from": ["176.10.154.199", "2001:9b0:2:902::/64"]})
    stored = adapter.stored_secret(ELKS_TOKEN)
    assert ELKS_TOKEN not in stored
    body = fixture_bytes("46elks-voice-start.form.txt")
    adapter.verify(elks("voice_start", body, remote_addr="176.10.154.199"), stored)
    adapter.verify(elks("voice_start", body, remote_addr="2001:9b0:2:902::199"), stored)
    with pytest.raises(SignatureError, match="not allowed"):
        adapter.verify(elks("voice_start", body, remote_addr="203.0.113.9"), stored)
    with pytest.raises(SignatureError, match="token"):
        adapter.verify(
            elks("voice_start", body, token="guess", remote_addr="176.10.154.199"), stored
        )
    # Without an allow-list the secret URL alone is the credential.
    Elks46Adapter().verify(elks("voice_start", body, remote_addr="203.0.113.9"), stored)


def test_46elks_reply_is_the_configured_action():
    adapter = Elks46Adapter({"voice_start_action": {"connect": "+4619000000"}})
    reply = adapter.reply(elks("voice_start", b""), [])
    assert json.loads(reply.body) == {"connect": "+4619000000"}
    assert adapter.reply(elks("whenhangup", b""), []).status == 204


# --- Telnyx -------------------------------------------------------------------------------------

SIGNING_KEY = SigningKey.generate()
PUBLIC_KEY = base64.b64encode(bytes(SIGNING_KEY.verify_key)).decode()
TELNYX_URL = "https://desk.example.se/hooks/telnyx/tok"


def telnyx(body: bytes, *, at: datetime, key: SigningKey = SIGNING_KEY, ts=None) -> RequestParts:
    timestamp = str(int((ts or at).timestamp()))
    signature = key.sign(timestamp.encode() + b"|" + body).signature
    headers = {
        "Content-Type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": timestamp,
    }
    return RequestParts(url=TELNYX_URL, body=body, headers=headers, received_at=at)


NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def test_telnyx_sample_hangup_signed_with_pynacl():
    adapter = TelnyxAdapter()
    request = telnyx(fixture_bytes("telnyx-call-hangup.json"), at=NOW)
    adapter.verify(request, adapter.stored_secret(PUBLIC_KEY))
    # The sample's client_state names no queue: a leg that never waited in one.
    assert adapter.parse(request) == []
    data = json.loads(fixture_bytes("telnyx-call-hangup.json"))
    data["data"]["payload"]["client_state"] = _state(queue="Bygglov")
    (event,) = assert_canonical(adapter.parse(telnyx(json.dumps(data).encode(), at=NOW)))
    assert (event.type, event.contact_id) == ("call.ended", "428c31b6-7af4-4bcb-b7f5-5013ef9657c1")
    assert event.id == "telnyx:0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"
    assert (event.queue, event.caller) == ("Bygglov", "+35319605860")


def test_telnyx_refuses_forged_tampered_and_stale():
    adapter = TelnyxAdapter()
    body = fixture_bytes("telnyx-call-hangup.json")
    forged = telnyx(body, at=NOW, key=SigningKey.generate())
    good = telnyx(body, at=NOW)
    tampered = RequestParts(
        url=good.url,
        body=body.replace(b"hangup", b"answered"),
        headers=good.headers,
        received_at=NOW,
    )
    stale = telnyx(body, at=NOW, ts=NOW - timedelta(seconds=301))
    future = telnyx(body, at=NOW, ts=NOW + timedelta(seconds=301))
    unsigned = RequestParts(url=TELNYX_URL, body=body, received_at=NOW)
    for request in (forged, tampered, stale, future, unsigned):
        with pytest.raises(SignatureError):
            adapter.verify(request, PUBLIC_KEY)
    adapter.verify(telnyx(body, at=NOW, ts=NOW - timedelta(seconds=299)), PUBLIC_KEY)


def test_telnyx_public_key_must_be_an_ed25519_key():
    with pytest.raises(ValueError):
        TelnyxAdapter().stored_secret("not-base64!")
    with pytest.raises(ValueError):
        TelnyxAdapter().stored_secret(base64.b64encode(b"short").decode())


def _state(**values: object) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


def test_telnyx_call_answered_and_initiated_alone_count_nothing():
    adapter = TelnyxAdapter()
    for name in ("telnyx-call-initiated.json", "telnyx-call-answered.json"):
        assert adapter.parse(telnyx(fixture_bytes(name), at=NOW)) == []


def test_telnyx_gather_counts_only_when_our_survey_or_wrapup_asked():
    adapter = TelnyxAdapter()
    gather = json.loads(fixture_bytes("telnyx-call-gather-ended.json"))
    (grade,) = assert_canonical(adapter.parse(telnyx(json.dumps(gather).encode(), at=NOW)))
    assert (grade.type, grade.question, grade.score) == ("survey.response", "treatment", 4)
    gather["data"]["payload"]["client_state"] = None  # an IVR menu's digit
    assert adapter.parse(telnyx(json.dumps(gather).encode(), at=NOW)) == []
    gather["data"]["payload"].update(
        client_state=_state(purpose="wrapup", call="caller-session"), digits="1"
    )
    (verdict,) = assert_canonical(adapter.parse(telnyx(json.dumps(gather).encode(), at=NOW)))
    assert (verdict.type, verdict.direct_answer, verdict.contact_id) == (
        "call.ended",
        True,
        "caller-session",
    )
    gather["data"]["payload"]["status"] = "timeout"
    assert adapter.parse(telnyx(json.dumps(gather).encode(), at=NOW)) == []


def test_telnyx_other_events_and_bad_payloads():
    adapter = TelnyxAdapter()
    data = json.loads(fixture_bytes("telnyx-call-hangup.json"))
    data["data"]["event_type"] = "call.bridged"
    assert adapter.parse(telnyx(json.dumps(data).encode(), at=NOW)) == []
    with pytest.raises(PayloadError):
        adapter.parse(telnyx(b'{"data": {}}', at=NOW))
    data["data"].update(event_type="call.dequeued")
    data["data"]["payload"]["reason"] = "vanished"
    with pytest.raises(PayloadError):
        adapter.parse(telnyx(json.dumps(data).encode(), at=NOW))
    with pytest.raises(PayloadError):
        adapter.parse(telnyx(b"not json", at=NOW))


# --- Asterisk -----------------------------------------------------------------------------------


def test_asterisk_sample_queue_log():
    lines = fixture_text("asterisk-queue_log.txt").splitlines()
    events = [e for _, found in parse_lines(lines) for e in found]
    parsed = assert_canonical(events)
    assert [(e.contact_id, e.type) for e in parsed] == [
        ("1596512941.163", "call.queued"),
        ("1596512941.163", "call.ended"),
        ("1266833905.2", "call.queued"),
        ("1266833905.2", "call.answered"),
        ("1266833905.2", "call.ended"),
    ]
    assert parsed[0].caller == "7000" and parsed[0].queue == "support"
    # CONNECT's hold time (6 s) is what the event times give as the wait.
    assert (parsed[3].occurred_at_utc - parsed[2].occurred_at_utc).total_seconds() == 6
    assert parsed[3].agent == "Local/2004@from-internal/n"
    assert parsed[4].direct_answer is None


def test_asterisk_ids_are_stable_and_lines_distinct():
    line = "1266833911|1266833905.2|9000|Local/2004@from-internal/n|CONNECT|6|1266833911.7|3"
    assert parse_line(line)[0]["id"] == parse_line(line + "\n")[0]["id"]
    other = line.replace("1266833911|", "1266833912|", 1)
    assert parse_line(line)[0]["id"] != parse_line(other)[0]["id"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1700000000|1.1|q|NONE|EXITWITHTIMEOUT|1|1|300", ("call.ended", None)),
        ("1700000000|1.1|q|SIP/a|COMPLETECALLER|5|120|1", ("call.ended", None)),
        ("1700000000|1.1|q|SIP/a|WRAPUP|1", ("call.ended", True)),
        ("1700000000|1.1|q|SIP/a|WRAPUP|2", ("call.ended", False)),
    ],
)
def test_asterisk_endings_and_wrapup(line, expected):
    (event,) = assert_canonical(parse_line(line))
    assert (event.type, event.direct_answer) == expected


def test_asterisk_transfer_is_a_hangup_and_a_verdict():
    line = "1700000000|1.1|q|SIP/a|TRANSFER|200|from-internal|5|60|1"
    hangup, verdict = assert_canonical(parse_line(line))
    assert (hangup.type, hangup.direct_answer) == ("call.ended", None)
    assert (verdict.type, verdict.direct_answer) == ("call.ended", False)


def test_asterisk_queuestart_ends_the_calls_still_open():
    reader = QueueLogReader()
    lines = [
        "1700000000|1.1|q|NONE|ENTERQUEUE||0701|1",
        "1700000005|1.2|q|NONE|ENTERQUEUE||0702|2",
        "1700000010|1.2|q|NONE|ABANDON|1|2|5",
        "1700000020|1.3|q|NONE|ENTERQUEUE||0703|1",
        "1700000021|1.3|q|SIP/a|CONNECT|1|1.9|1",
    ]
    for text in lines:
        reader.events(text)
    assert set(reader.state()) == {"1.1", "1.3"}
    again = QueueLogReader(json.loads(json.dumps(reader.state())))
    ended = assert_canonical(again.events("1700000100|NONE|NONE|NONE|QUEUESTART|"))
    assert {(e.contact_id, e.type) for e in ended} == {("1.1", "call.ended"), ("1.3", "call.ended")}
    assert again.state() == {}


@pytest.mark.parametrize(
    "line",
    [
        "1700000000|NONE|NONE|NONE|QUEUESTART|",
        "1700000000|1.1|q|SIP/a|RINGNOANSWER|15000",
        "1700000000|NONE|q|SIP/a|ADDMEMBER|",
        "1700000000|1.1|q|SIP/a|WRAPUP|",
        "",
    ],
)
def test_asterisk_lines_without_contact_events(line):
    assert parse_line(line) == []


def test_asterisk_bad_lines_name_their_number():
    with pytest.raises(PayloadError, match="line 2"):
        list(parse_lines(["", "garbage"]))
    with pytest.raises(PayloadError):
        parse_line("yesterday|1.1|q|NONE|ENTERQUEUE||070|1")
