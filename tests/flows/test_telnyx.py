"""Telnyx flows: Call Control with its call queue (call.enqueued / call.dequeued), as Telnyx
sends them, against the generic events that say the same."""

from __future__ import annotations

import base64
import copy
import json
from itertools import count
from typing import Any

import pytest
from nacl.signing import SigningKey

from tests.flows.conftest import flow_ids
from tests.flows.harness import (
    LATE,
    Delivery,
    Flow,
    Provider,
    at,
    fixture_json,
    generic_event,
    iso,
    source_of,
    telnyx_request,
)

KEY = SigningKey(b"t" * 32)
SESSION = "428c31b6-7af4-4bcb-b7f5-5013ef9657c1"
CALLER = "+35319605860"
TEMPLATES = {
    name: fixture_json(f"telnyx-{name.replace('.', '-')}.json")
    for name in (
        "call.initiated",
        "call.answered",
        "call.gather.ended",
        "call.enqueued",
        "call.dequeued",
        "call.hangup",
    )
}
_ids = count(1)


def _sign(url: str, delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return telnyx_request(KEY, delivery.arrives, delivery.body)


TELNYX = Provider("telnyx", base64.b64encode(bytes(KEY.verify_key)).decode(), _sign)


def state(**values: Any) -> str:
    """client_state as the application sets it with a command: base64 of JSON."""
    return base64.b64encode(json.dumps(values).encode()).decode()


def webhook(
    event_type: str,
    seconds: float | None,
    *,
    moment: Any = None,
    event_id: str = "",
    **payload: Any,
) -> Delivery:
    """A Telnyx webhook from its example, occurring (and arriving) ``seconds`` after T0."""
    body = copy.deepcopy(TEMPLATES[event_type])
    when = moment if moment is not None else at(seconds or 0)
    body["data"]["id"] = event_id or f"00000000-0000-4000-8000-{next(_ids):012d}"
    body["data"]["occurred_at"] = iso(when).replace("+00:00", "Z")
    body["data"]["payload"].pop("direction", None)  # only call.initiated carries one
    body["data"]["payload"].update({"call_session_id": SESSION, **payload})
    return Delivery(when, "", body)


def g(kind: str, seconds: float, **fields: Any) -> dict[str, Any]:
    return generic_event(kind, SESSION, at(seconds), **fields)


def ivr(seconds: float) -> list[Delivery]:
    """The application answers the call and asks its IVR question (digit 2)."""
    initiated = webhook("call.initiated", seconds, client_state=None)
    initiated.body["data"]["payload"]["direction"] = "incoming"
    return [
        initiated,
        webhook("call.answered", seconds + 1, client_state=None),
        webhook("call.gather.ended", seconds + 9, digits="2", status="valid", client_state=None),
    ]


def hangup(seconds: float, queue: str) -> Delivery:
    return webhook(
        "call.hangup",
        seconds,
        client_state=state(queue=queue),
        hangup_cause="normal_clearing",
        hangup_source="caller",
        **{"from": CALLER},
    )


FLOWS = [
    Flow(
        "answered",
        [
            *ivr(0),
            webhook("call.enqueued", 12, queue="Bygglov", client_state=state(queue="Bygglov")),
            webhook(
                "call.dequeued",
                42,
                queue="Bygglov",
                reason="bridged",
                wait_time_secs=30,
                client_state=state(queue="Bygglov"),
            ),
            hangup(300, "Bygglov"),
        ],
        [
            g("call.queued", 12, queue="Bygglov"),
            g("call.answered", 42, queue="Bygglov"),
            g("call.ended", 300, queue="Bygglov", caller=CALLER),
        ],
        expect={"phone.offered": 1, "phone.answered": 1, "phone.wait_seconds.mean": 30.0},
    ),
    Flow(
        "abandoned in the queue",
        [
            *ivr(0),
            webhook("call.enqueued", 12, queue="Bygglov", client_state=state(queue="Bygglov")),
            webhook(
                "call.dequeued",
                60,
                queue="Bygglov",
                reason="hangup",
                wait_time_secs=48,
                client_state=state(queue="Bygglov"),
            ),
            hangup(60, "Bygglov"),
        ],
        [
            g("call.queued", 12, queue="Bygglov"),
            g("call.ended", 60, queue="Bygglov", caller=CALLER),
        ],
        expect={"phone.offered": 1, "phone.abandoned": 1},
    ),
    Flow(
        # The caller's digit in the IVR is not a survey grade, and the call never reached a
        # queue: not offered.
        "abandoned in the IVR",
        [
            *ivr(0),
            webhook(
                "call.hangup",
                20,
                client_state=None,
                hangup_source="caller",
                **{"from": CALLER},
            ),
        ],
        [],
        expect={"phone.offered": 0, "survey.treatment.responses": 0},
    ),
    Flow(
        "transferred by the agent to another queue",
        [
            webhook("call.enqueued", 10, queue="Växel", client_state=state(queue="Växel")),
            webhook("call.dequeued", 30, queue="Växel", reason="bridged", wait_time_secs=20),
            webhook("call.enqueued", 200, queue="Bygglov", client_state=state(queue="Bygglov")),
            webhook("call.dequeued", 215, queue="Bygglov", reason="bridged", wait_time_secs=15),
            hangup(400, "Bygglov"),
        ],
        [
            g("call.queued", 10, queue="Växel"),
            g("call.answered", 30, queue="Växel"),
            g("call.queued", 200, queue="Bygglov"),
            g("call.answered", 215, queue="Bygglov"),
            g("call.ended", 400, queue="Bygglov", caller=CALLER),
        ],
        expect={"Växel.phone.answered": 1, "Växel.phone.wait_seconds.mean": 20.0},
    ),
    Flow(
        "overflowed from Växel to Bygglov (max_wait_time_secs)",
        [
            webhook("call.enqueued", 10, queue="Växel", client_state=state(queue="Växel")),
            webhook("call.dequeued", 70, queue="Växel", reason="timeout", wait_time_secs=60),
            webhook("call.enqueued", 71, queue="Bygglov", client_state=state(queue="Bygglov")),
            webhook("call.dequeued", 96, queue="Bygglov", reason="bridged", wait_time_secs=25),
            hangup(300, "Bygglov"),
        ],
        [
            g("call.queued", 10, queue="Växel"),
            g("call.ended", 70, queue="Växel"),
            g("call.queued", 71, queue="Bygglov"),
            g("call.answered", 96, queue="Bygglov"),
            g("call.ended", 300, queue="Bygglov", caller=CALLER),
        ],
        expect={"Bygglov.phone.offered": 1, "Bygglov.phone.wait_seconds.mean": 25.0},
    ),
    Flow(
        # The application restarted: it takes the call out of the queue and enqueues it again,
        # and Telnyx delivers a webhook a second time (meta.attempt 2): a duplicate.
        "application restarted mid-call",
        [
            webhook("call.enqueued", 10, queue="Bygglov", event_id="restart-enqueued-1"),
            webhook("call.dequeued", 40, queue="Bygglov", reason="leave", wait_time_secs=30),
            webhook("call.enqueued", 45, queue="Bygglov", client_state=state(queue="Bygglov")),
            webhook("call.enqueued", 10, queue="Bygglov", event_id="restart-enqueued-1"),
            webhook("call.dequeued", 60, queue="Bygglov", reason="bridged", wait_time_secs=15),
            hangup(200, "Bygglov"),
        ],
        [
            g("call.queued", 10, queue="Bygglov"),
            g("call.ended", 40, queue="Bygglov"),
            g("call.queued", 45, queue="Bygglov"),
            g("call.answered", 60, queue="Bygglov"),
            g("call.ended", 200, queue="Bygglov", caller=CALLER),
        ],
        expect={"phone.offered": 1, "phone.wait_seconds.mean": 15.0},
    ),
    Flow(
        # The agent keys the wrap-up on the agent's own call, months later; client_state names
        # the caller's session.
        "wrap-up keyed in nine months late",
        [
            webhook("call.enqueued", 12, queue="Bygglov", client_state=state(queue="Bygglov")),
            webhook("call.dequeued", 42, queue="Bygglov", reason="bridged", wait_time_secs=30),
            hangup(300, "Bygglov"),
            webhook(
                "call.gather.ended",
                None,
                moment=LATE,
                digits="1",
                status="valid",
                call_session_id="agent-session",
                client_state=state(purpose="wrapup", call=SESSION),
            ),
        ],
        [
            g("call.queued", 12, queue="Bygglov"),
            g("call.answered", 42, queue="Bygglov"),
            g("call.ended", 300, queue="Bygglov", caller=CALLER),
            generic_event("call.ended", SESSION, LATE, direct_answer=True),
        ],
        expect={"phone.direct_answers": 1},
    ),
]


def test_every_fixture_names_its_source():
    for name in TEMPLATES:
        assert "telnyx" in source_of(f"telnyx-{name.replace('.', '-')}.json").lower()


@pytest.mark.parametrize("flow", FLOWS, ids=flow_ids(FLOWS))
def test_telnyx_flow_gives_the_figures_of_generic_events(flow, run_flow):
    run_flow(flow, TELNYX)
