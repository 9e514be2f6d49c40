"""Bad bytes and hostile shapes get a 4xx naming the field, the same on SQLite and PostgreSQL.

NUL, lone surrogates, deep nesting, huge numbers and chunked bodies, thrown at the events API
and at every provider hook with a valid signature: never a 5xx, a refusal is problem+json and
its delivery is kept, and nothing of it reaches the events.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
import time_machine

from integrations import PROVIDERS
from servicedesk.ingest.models import Delivery, Event
from tests.helpers import event
from tests.payloads import fixture_bytes, key_value_form
from tests.test_hooks import (
    MAILGUN_KEY,
    NOW,
    POSTMARK,
    TELNYX_PUBLIC,
    TWILIO_TOKEN,
    mailgun_fields,
    postmark_post,
    telnyx_post,
    twilio_post,
)

NUL_TEXT = ["\x00", "Bygg\x00lov"]
SURROGATE = "\ud800"
DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000


def _counts(db) -> tuple[int, int]:
    db.rollback()
    events = db.scalar(sa.select(sa.func.count()).select_from(Event))
    rejected = db.scalar(
        sa.select(sa.func.count()).select_from(Delivery).where(Delivery.status == "rejected")
    )
    return int(events or 0), int(rejected or 0)


def _refused_and_kept(db, before: tuple[int, int], response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        after = _counts(db)
        assert after == (before[0], before[1] + 1), (before, after)


def _api(client, token: str, body: bytes, **kwargs: Any):
    return client.post(
        "/api/v1/events",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        **kwargs,
    )


@pytest.mark.parametrize("field", ["id", "contact_id", "queue", "agent", "caller"])
@pytest.mark.parametrize("text", [*NUL_TEXT, SURROGATE, f"a{SURROGATE}b"])
def test_invalid_text_is_422_naming_the_field_and_kept(client, db, token, field, text):
    before = _counts(db)
    response = _api(
        client, token, json.dumps({"events": [event(), event(**{field: text})]}).encode()
    )
    assert response.status_code == 422
    assert {"index": 1, "field": field} in [
        {k: e[k] for k in ("index", "field")} for e in response.get_json()["errors"]
    ]
    _refused_and_kept(db, before, response)


@pytest.mark.parametrize(
    "body",
    [
        DEEP.encode(),
        ('{"events": ' + DEEP + "}").encode(),
        json.dumps(event()).replace('"c1"', HUGE).encode(),
        json.dumps(event()).replace('"c1"', "1e999").encode(),
        b'{"id": "\\u0000"}',
        b'{"events": [{"id": "\\udfff", "type": "call.queued"}]}',
        b"\xff\xfe\x00{",
    ],
    ids=["nesting", "nested-events", "huge-int", "huge-float", "nul", "surrogate", "bytes"],
)
def test_hostile_shapes_are_4xx_and_kept(client, db, token, body):
    before = _counts(db)
    response = _api(client, token, body)
    assert 400 <= response.status_code < 500
    _refused_and_kept(db, before, response)


def test_a_chunked_body_is_read_whole(client, db, token):
    body = json.dumps({"events": [event(contact_id=f"k{n}") for n in range(50)]}).encode()
    response = _api(
        client,
        token,
        b"",
        input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 202 and response.get_json()["accepted"] == 50


# --- every provider hook, signed as the provider signs ------------------------------------------

HOSTILE_VALUES = [*NUL_TEXT, SURROGATE, HUGE, "-1e999"]


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _set(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _set(value[path[0]], path[1:], new)
    return copy


def _form(fields: dict[str, str]) -> bytes:
    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()


def _json_variants(name: str) -> list[bytes]:
    document = json.loads(fixture_bytes(name))
    bodies = [
        json.dumps(_set(document, p, v)).encode() for p in _leaves(document) for v in HOSTILE_VALUES
    ]
    return [
        *bodies,
        DEEP.encode(),
        json.dumps(document).replace("{", '{"x": ' + DEEP + ",", 1).encode(),
    ]


@time_machine.travel(NOW, tick=False)
def test_every_provider_hook_refuses_bad_bytes_with_a_4xx_and_keeps_them(client, db, org, connect):
    twilio = connect(org, "twilio", TWILIO_TOKEN)
    elks = connect(org, "46elks", queue="Växel")
    telnyx = connect(org, "telnyx", TELNYX_PUBLIC)
    mailgun = connect(org, "mailgun", MAILGUN_KEY, desk_addresses=["kontakt@kumla.se"])
    postmark = connect(org, "postmark", POSTMARK, desk_addresses=["kontakt@kumla.se"])
    sent = 0

    def check(response: Any, before: tuple[int, int]) -> None:
        nonlocal sent
        sent += 1
        _refused_and_kept(db, before, response)

    twilio_fields = key_value_form("twilio-status-callback.form.txt")
    for name in twilio_fields:
        for value in HOSTILE_VALUES:
            before = _counts(db)
            fields = {**twilio_fields, name: value}
            try:
                response = twilio_post(client, f"{twilio}/status", fields)
            except UnicodeEncodeError:  # the validator cannot sign a lone surrogate: raw bytes
                response = client.post(
                    f"{twilio}/status",
                    data=_form(fields),
                    content_type="application/x-www-form-urlencoded",
                )
            check(response, before)
    elks_fields = key_value_form("46elks-voice-start.form.txt")
    for name in elks_fields:
        for value in HOSTILE_VALUES:
            before = _counts(db)
            response = client.post(
                f"{elks}/voice_start",
                data=_form({**elks_fields, name: value}),
                content_type="application/x-www-form-urlencoded",
            )
            check(response, before)
    for body in _json_variants("telnyx-call-hangup.json"):
        before = _counts(db)
        check(telnyx_post(client, telnyx, body), before)
    n = 0
    base = mailgun_fields(0)
    for name in base:
        if name in ("signature", "timestamp"):
            continue
        for value in HOSTILE_VALUES:
            n += 1
            fields = {**mailgun_fields(n), name: value}
            if name != "token":
                from integrations.mailgun import sign

                fields["signature"] = sign(MAILGUN_KEY, fields["timestamp"], fields["token"])
            else:
                from integrations.mailgun import sign

                try:
                    fields["signature"] = sign(MAILGUN_KEY, fields["timestamp"], value)
                except UnicodeEncodeError:
                    pass
            before = _counts(db)
            response = client.post(
                mailgun, data=_form(fields), content_type="application/x-www-form-urlencoded"
            )
            check(response, before)
    for body in _json_variants("postmark-inbound.json"):
        before = _counts(db)
        check(postmark_post(client, postmark, body), before)
    for path in (f"{twilio}/status", postmark):  # a chunked body over the limit, signed or not
        before = _counts(db)
        response = client.post(
            path,
            input_stream=io.BytesIO(b"x" * 1_100_000),
            content_type="application/json",
            environ_overrides={"wsgi.input_terminated": True},
        )
        provider = path.split("/")[2]
        # 413, or the status that stops this provider's retries (Postmark: 403)
        assert response.status_code in (413, PROVIDERS[provider].refusal_status), provider
        check(response, before)
    assert sent > 300
    stored = db.scalars(sa.select(Event)).all()
    for e in stored:
        for text in (e.event_id, e.contact_id, e.queue or "", e.agent or ""):
            assert "\x00" not in text
