"""46elks flows: voice_start, the IVR's next URL and whenhangup, as 46elks sends them, against
the generic events that say the same."""

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
    fixture_json,
    form_request,
    generic_event,
    source_of,
)

START = fixture_form("46elks-voice-start.form.txt")
HANGUP = fixture_json("46elks-whenhangup.json")
NEXT = fixture_form("46elks-next.form.txt")
CALL = START["callid"]
CALLER = START["from"]
VAXEL, BYGGLOV = "+4619000001", "+4619000002"
WHENHANGUP = "https://desk.example.se/hooks/46elks/<token>/whenhangup"
#: servicedesk answers voice_start by connecting the call to Växel's line at once.
CONNECT_AT_ONCE = {
    "queue": "Växel",
    "voice_start_action": {"connect": VAXEL, "whenhangup": WHENHANGUP},
}


def _sign(url: str, delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    return form_request(delivery.body)


ELKS = Provider("46elks", None, _sign)


def _elks_time(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%f")


def voice_start(seconds: float = 0) -> Delivery:
    return Delivery(at(seconds), "voice_start", {**START, "created": _elks_time(seconds)})


def whenhangup(
    duration: float, actions: list[dict[str, Any]], legs: list[dict[str, Any]], **extra: Any
) -> Delivery:
    """The whenhangup of a call created (and picked up by 46elks) at T0."""
    body = {
        **{k: v for k, v in HANGUP.items() if k != "id"},
        "callid": CALL,
        "from": CALLER,
        "created": _elks_time(0),
        "start": _elks_time(0),
        "duration": duration,
        "actions": actions,
        "legs": legs,
        **extra,
    }
    return Delivery(at(duration + 1), "whenhangup", body)


def leg(to: str, duration: float, state: str = "success") -> dict[str, Any]:
    return {"duration": duration, "to": to, "state": state, "from": CALLER}


def g(kind: str, seconds: float, **fields: Any) -> dict[str, Any]:
    return generic_event(kind, CALL, at(seconds), **fields)


FLOWS = [
    Flow(
        # Answered 15 s after it came in: the call lasted 95 s, the agent's leg 80 s.
        "answered, with the survey",
        [
            voice_start(),
            whenhangup(95, [{"connect": VAXEL, "result": "success"}], [leg(VAXEL, 80)]),
            Delivery(at(97), "next", {**NEXT, "callid": CALL, "result": "5"}),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.answered", 15, queue="Växel", agent=VAXEL),
            g("call.ended", 95, queue="Växel"),
            g("survey.response", 97, question="treatment", score=5, channel="phone"),
        ],
        options=CONNECT_AT_ONCE,
        expect={"phone.answered": 1, "phone.wait_seconds.mean": 15.0},
    ),
    Flow(
        # Nobody answered Växel's line; the caller hung up after 40 s. (46elks documents only
        # "success" as a leg's state; "failed" here stands for any other.)
        "abandoned in the queue",
        [
            voice_start(),
            whenhangup(40, [{"connect": VAXEL, "result": "failed"}], [leg(VAXEL, 0, "failed")]),
        ],
        [g("call.queued", 0, queue="Växel", caller=CALLER), g("call.ended", 40, queue="Växel")],
        options=CONNECT_AT_ONCE,
        expect={"phone.offered": 1, "phone.abandoned": 1},
    ),
    Flow(
        # voice_start answers with an IVR; the caller hangs up before choosing anything.
        "abandoned in the IVR",
        [
            voice_start(),
            whenhangup(25, [{"ivr": "https://desk.example.se/meny.mp3", "result": "noinput"}], []),
        ],
        [],
        options={"queue": "Växel", "voice_start_action": {"ivr": "https://x/meny.mp3"}},
        expect={"phone.offered": 0},
    ),
    Flow(
        # Växel's agent took the call and connected it on to Bygglov's line.
        "transferred by the agent",
        [
            voice_start(),
            whenhangup(
                130,
                [
                    {"connect": VAXEL, "result": "success"},
                    {"connect": BYGGLOV, "result": "success"},
                ],
                [leg(VAXEL, 60), leg(BYGGLOV, 40)],
            ),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.answered", 30, queue="Växel", agent=VAXEL),
            g("call.ended", 130, queue="Växel"),
            g("call.ended", 130, queue="Växel", direct_answer=False),
        ],
        options=CONNECT_AT_ONCE,
        expect={"phone.answered": 1, "phone.wait_seconds.mean": 30.0, "phone.direct_answers": 0},
    ),
    Flow(
        # Växel's line rang out after 30 s; its next URL put the call in Bygglov's queue, whose
        # line answered 19 s later.
        "overflowed from Växel to Bygglov",
        [
            voice_start(),
            Delivery(
                at(31),
                "next?purpose=queue&queue=Bygglov",
                {**NEXT, "callid": CALL, "result": "failed"},
            ),
            whenhangup(
                150,
                [{"connect": VAXEL, "result": "failed"}, {"connect": BYGGLOV, "result": "success"}],
                [leg(VAXEL, 0, "failed"), leg(BYGGLOV, 100)],
            ),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.queued", 31, queue="Bygglov", caller=CALLER),
            g("call.answered", 50, queue="Växel", agent=BYGGLOV),
            g("call.ended", 150, queue="Växel"),
        ],
        options=CONNECT_AT_ONCE,
        expect={
            "Bygglov.phone.offered": 1,
            "Bygglov.phone.wait_seconds.mean": 19.0,
            "Växel.phone.offered": None,
        },
    ),
    Flow(
        # servicedesk restarted while 46elks called it: voice_start and whenhangup come again.
        "deliveries repeated after a restart",
        [
            voice_start(),
            voice_start(),
            whenhangup(60, [{"connect": VAXEL, "result": "success"}], [leg(VAXEL, 50)]),
            whenhangup(60, [{"connect": VAXEL, "result": "success"}], [leg(VAXEL, 50)]),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.answered", 10, queue="Växel", agent=VAXEL),
            g("call.ended", 60, queue="Växel"),
        ],
        options=CONNECT_AT_ONCE,
        expect={"phone.offered": 1, "phone.answered": 1},
    ),
    Flow(
        "wrap-up keyed in nine months late",
        [
            voice_start(),
            whenhangup(95, [{"connect": VAXEL, "result": "success"}], [leg(VAXEL, 80)]),
            Delivery(
                LATE,
                f"next?purpose=wrapup&call={CALL}",
                {**NEXT, "callid": "agentcall", "result": "1"},
            ),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.answered", 15, queue="Växel", agent=VAXEL),
            g("call.ended", 95, queue="Växel"),
            generic_event("call.ended", CALL, LATE, direct_answer=True, queue="Växel"),
        ],
        options=CONNECT_AT_ONCE,
        expect={"phone.direct_answers": 1},
    ),
]


def test_every_fixture_names_its_source():
    for name in ("46elks-voice-start.form.txt", "46elks-whenhangup.json", "46elks-next.form.txt"):
        assert "46elks.se/docs" in source_of(name)


@pytest.mark.parametrize("flow", FLOWS, ids=flow_ids(FLOWS))
def test_46elks_flow_gives_the_figures_of_generic_events(flow, run_flow):
    run_flow(flow, ELKS)
