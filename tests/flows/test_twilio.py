"""Twilio flows: a TwiML queue (<Enqueue action>, the agents' <Dial><Queue url>), as Twilio
sends them for incoming calls, against the generic events that say the same."""

from __future__ import annotations

from typing import Any

import pytest

from tests.flows.conftest import flow_ids
from tests.flows.harness import (
    LATE,
    Delivery,
    Flow,
    Provider,
    at,
    fixture_form,
    generic_event,
    source_of,
    twilio_request,
)

AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
CALL = "CA00000000000000000000000000000001"
CALLER = "+46701234567"
ENQUEUE = fixture_form("twilio-enqueue-action.form.txt")
QUEUE_URL = fixture_form("twilio-queue-url.form.txt")
STATUS = fixture_form("twilio-status-completed.form.txt")
GATHER = fixture_form("twilio-gather.form.txt")


def _sign(url: str, delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return twilio_request(AUTH_TOKEN, url, delivery.body)


TWILIO = Provider("twilio", AUTH_TOKEN, _sign)


def left(seconds: float, result: str, waited: int, queue: str, **extra: Any) -> Delivery:
    """The <Enqueue action> request, arriving ``seconds`` after T0."""
    body = {**ENQUEUE, "QueueResult": result, "QueueTime": str(waited), **extra}
    return Delivery(at(seconds), f"enqueue?queue={queue}", body)


def dequeued(seconds: float, waited: int, queue: str, agent: str, **extra: Any) -> Delivery:
    """The <Queue url> request on the caller's leg: the agent takes the call now."""
    body = {**QUEUE_URL, "QueueTime": str(waited), **extra}
    return Delivery(at(seconds), f"dequeue?queue={queue}&agent={agent}", body)


def completed(seconds: float, duration: int, **extra: Any) -> Delivery:
    """The phone number's StatusCallback: for an incoming call only ``completed``."""
    moment = at(seconds).strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = {**STATUS, "CallDuration": str(duration), "Timestamp": moment, **extra}
    return Delivery(at(seconds), "status", body)


def g(kind: str, seconds: float, **fields: Any) -> dict[str, Any]:
    return generic_event(kind, CALL, at(seconds), **fields)


FLOWS = [
    Flow(
        "answered, with the survey",
        [
            dequeued(42, 30, "Bygglov", "anna"),
            left(300, "bridged", 30, "Bygglov"),
            Delivery(at(310), "gather?queue=Bygglov", {**GATHER, "Digits": "4"}),
            completed(320, 320),
        ],
        [
            g("call.queued", 12, queue="Bygglov", caller=CALLER),
            g("call.answered", 42, queue="Bygglov", agent="anna"),
            g("call.ended", 300, queue="Bygglov"),
            g("survey.response", 310, question="treatment", score=4, channel="phone"),
        ],
        expect={"phone.offered": 1, "phone.answered": 1, "phone.wait_seconds.mean": 30.0},
    ),
    Flow(
        "abandoned in the queue",
        [left(80, "hangup", 50, "Bygglov"), completed(80, 80)],
        [
            g("call.queued", 30, queue="Bygglov", caller=CALLER),
            g("call.ended", 80, queue="Bygglov"),
        ],
        expect={"phone.offered": 1, "phone.abandoned": 1, "Bygglov.phone.abandon_rate": 100.0},
    ),
    Flow(
        # The IVR's own <Gather> goes to the municipality's flow, not here: Twilio sends
        # servicedesk only the number's StatusCallback, "completed" after 49 s.
        "abandoned in the IVR",
        [completed(49, 49)],
        [],
        expect={"phone.offered": 0},
    ),
    Flow(
        "transferred by the agent to another queue",
        [
            dequeued(30, 20, "Växel", "anna"),
            left(200, "redirected-from-bridged", 20, "Växel"),
            dequeued(
                230, 15, "Bygglov", "bo", DequeingCallSid="CA00000000000000000000000000000098"
            ),
            left(400, "bridged", 15, "Bygglov"),
            completed(400, 400),
        ],
        [
            g("call.queued", 10, queue="Växel", caller=CALLER),
            g("call.answered", 30, queue="Växel", agent="anna"),
            g("call.ended", 200, queue="Växel"),
            g("call.ended", 200, queue="Växel", direct_answer=False),
            g("call.queued", 215, queue="Bygglov"),
            g("call.answered", 230, queue="Bygglov", agent="bo"),
            g("call.ended", 400, queue="Bygglov"),
        ],
        expect={"Växel.phone.offered": 1, "phone.direct_answers": 0, "phone.answered": 1},
    ),
    Flow(
        # The Växel queue's waitUrl <Leave>s after a minute; the action's TwiML (?next=)
        # enqueues the call in Bygglov, where it is answered after 25 s there.
        "overflowed from Växel to Bygglov",
        [
            left(70, "leave", 60, "Växel"),
            dequeued(96, 25, "Bygglov", "bo"),
            left(300, "bridged", 25, "Bygglov"),
            completed(300, 300),
        ],
        [
            g("call.queued", 10, queue="Växel", caller=CALLER),
            g("call.ended", 70, queue="Växel"),
            g("call.queued", 71, queue="Bygglov"),
            g("call.answered", 96, queue="Bygglov", agent="bo"),
            g("call.ended", 300, queue="Bygglov"),
        ],
        expect={
            "phone.offered": 1,
            "Bygglov.phone.offered": 1,
            "Bygglov.phone.wait_seconds.mean": 25.0,
            "Växel.phone.offered": None,
        },
    ),
    Flow(
        # The call's flow is started again (a REST API redirect while it waits), which puts it
        # in the same queue again; it is answered on its second visit.
        "flow restarted while in the queue",
        [
            left(50, "redirected", 40, "Bygglov"),
            dequeued(75, 20, "Bygglov", "anna"),
            left(200, "bridged", 20, "Bygglov"),
            completed(200, 200),
        ],
        [
            g("call.queued", 10, queue="Bygglov", caller=CALLER),
            g("call.ended", 50, queue="Bygglov"),
            g("call.queued", 55, queue="Bygglov"),
            g("call.answered", 75, queue="Bygglov", agent="anna"),
            g("call.ended", 200, queue="Bygglov"),
        ],
        expect={"phone.offered": 1, "phone.answered": 1, "phone.wait_seconds.mean": 20.0},
    ),
    Flow(
        "wrap-up keyed in nine months late",
        [
            dequeued(42, 30, "Bygglov", "anna"),
            left(300, "bridged", 30, "Bygglov"),
            completed(300, 300),
            Delivery(
                LATE,
                f"gather?purpose=wrapup&call={CALL}",
                {**GATHER, "CallSid": "CA00000000000000000000000000000099", "Digits": "1"},
            ),
        ],
        [
            g("call.queued", 12, queue="Bygglov", caller=CALLER),
            g("call.answered", 42, queue="Bygglov", agent="anna"),
            g("call.ended", 300, queue="Bygglov"),
            generic_event("call.ended", CALL, LATE, direct_answer=True),
        ],
        expect={"phone.direct_answers": 1, "phone.direct_answer_rate": 100.0},
    ),
]


def test_every_fixture_names_its_source():
    for name in (
        "twilio-enqueue-action.form.txt",
        "twilio-queue-url.form.txt",
        "twilio-status-completed.form.txt",
        "twilio-gather.form.txt",
    ):
        assert "twilio.com/docs" in source_of(name)


@pytest.mark.parametrize("flow", FLOWS, ids=flow_ids(FLOWS))
def test_twilio_flow_gives_the_figures_of_generic_events(flow, run_flow):
    run_flow(flow, TWILIO)
