"""Every provider adapter's parser, fuzzed: a payload is read, or refused with PayloadError.

Bodies are the real sample payloads with fields changed, removed or added, and arbitrary bytes.
Whatever the parser makes of them must be events the core either accepts or names the faults
of; no other exception may escape (it would be a 500 at the webhook endpoint).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations import PROVIDERS
from integrations.base import PayloadError, RequestParts
from servicedesk.ingest.schemas import parse_events
from tests.payloads import FIXTURES, fixture_text, key_value_form

#: Fuzzing every adapter's parser: make test-all and CI.
pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
FORMS = [
    "twilio-status-callback.form.txt",
    "46elks-voice-start.form.txt",
    "46elks-next-ivr.form.txt",
    "mailgun-inbound.form.txt",
    "mailgun-forward.form.txt",
    "twilio-enqueue-action.form.txt",
    "twilio-queue-url.form.txt",
    "twilio-status-completed.form.txt",
    "twilio-gather.form.txt",
    "46elks-next.form.txt",
    "46elks-inbound-sms.form.txt",
    "twilio-inbound-sms.form.txt",
]
JSONS = [
    "46elks-whenhangup.json",
    "telnyx-call-hangup.json",
    "telnyx-call-answered.json",
    "telnyx-call-gather-ended.json",
    "telnyx-call-initiated.json",
    "postmark-inbound.json",
    "telnyx-call-enqueued.json",
    "telnyx-call-dequeued.json",
]
TARGETS = [(name, kind) for name, cls in PROVIDERS.items() for kind in cls().kinds]

TEXT = st.text(max_size=30) | st.sampled_from(
    [
        "",
        "0",
        "-1",
        "99999999999999999999",
        "+46701234567",
        "2026-06-01T10:00:00Z",
        "not a date",
        "completed",
        "in-progress",
        "1",
        "true",
        "null",
        "{}",
        "[]",
        "\x00",
    ]
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))] or [path]
    return [path]


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


@st.composite
def form_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    fields = dict(key_value_form(draw(st.sampled_from(FORMS))))
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["change", "drop", "add"]))
        if action == "add" or not fields:
            fields[draw(TEXT)] = draw(TEXT)
        elif action == "drop":
            fields.pop(draw(st.sampled_from(sorted(fields))))
        else:
            fields[draw(st.sampled_from(sorted(fields)))] = draw(TEXT)
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


@st.composite
def json_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    document = json.loads(fixture_text(draw(st.sampled_from(JSONS))))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_leaf_paths(document)))
        document = _replace(document, path, draw(JSON_VALUE))
    return json.dumps(document).encode(), "application/json"


RAW = st.tuples(
    st.binary(max_size=300),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)


def _parse_safely(provider: str, kind: str, body: bytes, content_type: str) -> None:
    adapter = PROVIDERS[provider]()
    request = RequestParts(
        url=f"https://sd.example/hooks/{provider}/tok/{kind}".rstrip("/"),
        body=body,
        headers={"Content-Type": content_type} if content_type else {},
        kind=kind,
        token="tok",
    )
    try:
        found = adapter.parse(request)
    except PayloadError:
        return
    assert isinstance(found, list) and all(isinstance(e, dict) for e in found)
    if found:
        parse_events({"events": found})  # accepted or refused with named faults, never raises


@pytest.mark.parametrize("provider", ["46elks", "twilio"])
def test_survey_reply_parser_reads_or_refuses_any_form(provider: str) -> None:
    """The incoming-SMS reader of the survey replies: an InboundSms or InboundError, and the
    reply's text is read for STOPP or a digit whatever it holds."""
    from urllib.parse import parse_qsl

    from integrations.sms import InboundError, parse_inbound
    from servicedesk.surveys.replies import classify

    @FUZZ
    @given(payload=form_bodies())
    def check(payload: tuple[bytes, str]) -> None:
        form = dict(parse_qsl(payload[0].decode(), keep_blank_values=True))
        try:
            sms = parse_inbound(provider, form)
        except InboundError:
            return
        assert sms.sender and sms.message_id and len(sms.text) <= 1600
        assert classify(sms.text)[0] in ("stop", "digit", "other")

    check()


def test_the_fixtures_are_all_used():
    on_disk = {p.name for p in FIXTURES.rglob("*") if p.suffix in (".txt", ".json")}
    assert set(FORMS) | set(JSONS) == on_disk - {"asterisk-queue_log.txt"}


@pytest.mark.parametrize(("provider", "kind"), TARGETS)
def test_adapter_parser_reads_or_refuses_any_payload(provider: str, kind: str) -> None:
    @FUZZ
    @given(payload=form_bodies() | json_bodies() | RAW)
    def check(payload: tuple[bytes, str]) -> None:
        _parse_safely(provider, kind, *payload)

    check()
