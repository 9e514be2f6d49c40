"""Asterisk flows: queue_log lines followed from the file and posted, signed, to the events API
by the follower, against the generic events that say the same."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import pytest

from integrations.events_api import EventsApiSender
from integrations.queue_log_follow import QueueLogFollower
from tests.flows.conftest import flow_ids
from tests.flows.harness import (
    LATE,
    T0,
    Flow,
    at,
    contact_rows,
    generic_event,
    lookup,
    month_figures,
    post_generic,
    source_of,
)

CALL, OTHER = "1770710400.101", "1770710400.102"
CALLER = "0701234567"


def line(seconds: float | datetime, call: str, queue: str, event: str, *data: str, agent="NONE"):
    moment = seconds if isinstance(seconds, datetime) else at(seconds)
    return "|".join([str(int(moment.timestamp())), call, queue, agent, event, *data])


def g(kind: str, seconds: float, call: str = CALL, **fields):
    return generic_event(kind, call, at(seconds), **fields)


AGENT = "PJSIP/anna"
#: Each flow's "deliveries" are the queue_log lines, in the order Asterisk writes them.
FLOWS = [
    Flow(
        "answered",
        [
            line(0, CALL, "Bygglov", "ENTERQUEUE", "", CALLER, "1"),
            line(15, CALL, "Bygglov", "CONNECT", "15", "1770710415.7", "3", agent=AGENT),
            line(200, CALL, "Bygglov", "COMPLETECALLER", "15", "185", "1", agent=AGENT),
        ],
        [
            g("call.queued", 0, queue="Bygglov", caller=CALLER),
            g("call.answered", 15, queue="Bygglov", agent=AGENT),
            g("call.ended", 200, queue="Bygglov", agent=AGENT),
        ],
        expect={"phone.answered": 1, "phone.wait_seconds.mean": 15.0},
    ),
    Flow(
        "abandoned in the queue",
        [
            line(0, CALL, "Bygglov", "ENTERQUEUE", "", CALLER, "1"),
            line(68, CALL, "Bygglov", "ABANDON", "1", "1", "68"),
        ],
        [g("call.queued", 0, queue="Bygglov", caller=CALLER), g("call.ended", 68, queue="Bygglov")],
        expect={"phone.offered": 1, "phone.abandoned": 1},
    ),
    Flow(
        # A caller who hangs up in the IVR never reaches Queue(): queue_log has no line for it.
        "abandoned in the IVR",
        [],
        [],
        expect={"phone.offered": 0},
    ),
    Flow(
        "transferred by the agent to another queue",
        [
            line(0, CALL, "Växel", "ENTERQUEUE", "", CALLER, "1"),
            line(20, CALL, "Växel", "CONNECT", "20", "1770710420.9", "4", agent=AGENT),
            line(
                90,
                CALL,
                "Växel",
                "BLINDTRANSFER",
                "7001",
                "from-internal",
                "20",
                "70",
                "1",
                agent=AGENT,
            ),
            line(91, CALL, "Bygglov", "ENTERQUEUE", "", CALLER, "1"),
            line(106, CALL, "Bygglov", "CONNECT", "15", "1770710506.3", "2", agent="PJSIP/bo"),
            line(300, CALL, "Bygglov", "COMPLETEAGENT", "15", "194", "1", agent="PJSIP/bo"),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.answered", 20, queue="Växel", agent=AGENT),
            g("call.ended", 90, queue="Växel", agent=AGENT),
            g("call.ended", 90, queue="Växel", agent=AGENT, direct_answer=False),
            g("call.queued", 91, queue="Bygglov", caller=CALLER),
            g("call.answered", 106, queue="Bygglov", agent="PJSIP/bo"),
            g("call.ended", 300, queue="Bygglov", agent="PJSIP/bo"),
        ],
        expect={"Växel.phone.answered": 1, "phone.direct_answers": 0},
    ),
    Flow(
        # Växel's timeout sends the caller on to Bygglov, same uniqueid, answered there.
        "overflowed from Växel to Bygglov",
        [
            line(0, CALL, "Växel", "ENTERQUEUE", "", CALLER, "1"),
            line(60, CALL, "Växel", "EXITWITHTIMEOUT", "1", "1", "60"),
            line(60, CALL, "Bygglov", "ENTERQUEUE", "", CALLER, "1"),
            line(85, CALL, "Bygglov", "CONNECT", "25", "1770710485.2", "5", agent=AGENT),
            line(240, CALL, "Bygglov", "COMPLETECALLER", "25", "155", "1", agent=AGENT),
        ],
        [
            g("call.queued", 0, queue="Växel", caller=CALLER),
            g("call.ended", 60, queue="Växel"),
            g("call.queued", 60, queue="Bygglov", caller=CALLER),
            g("call.answered", 85, queue="Bygglov", agent=AGENT),
            g("call.ended", 240, queue="Bygglov", agent=AGENT),
        ],
        expect={
            "Bygglov.phone.offered": 1,
            "Bygglov.phone.wait_seconds.mean": 25.0,
            "Växel.phone.offered": None,
        },
    ),
    Flow(
        # The PBX restarts (QUEUESTART) with one call waiting and one talking: both end there.
        "PBX restarted mid-call",
        [
            line(0, CALL, "Bygglov", "ENTERQUEUE", "", CALLER, "1"),
            line(5, OTHER, "Bygglov", "ENTERQUEUE", "", "0709876543", "2"),
            line(20, CALL, "Bygglov", "CONNECT", "20", "1770710420.5", "2", agent=AGENT),
            line(120, "NONE", "NONE", "QUEUESTART", ""),
        ],
        [
            g("call.queued", 0, queue="Bygglov", caller=CALLER),
            g("call.answered", 20, queue="Bygglov", agent=AGENT),
            g("call.ended", 120, queue="Bygglov"),
            g("call.queued", 5, OTHER, queue="Bygglov", caller="0709876543"),
            g("call.ended", 120, OTHER, queue="Bygglov"),
        ],
        expect={"phone.offered": 2, "phone.answered": 1},
    ),
    Flow(
        "wrap-up keyed in nine months late",
        [
            line(0, CALL, "Bygglov", "ENTERQUEUE", "", CALLER, "1"),
            line(15, CALL, "Bygglov", "CONNECT", "15", "1770710415.7", "3", agent=AGENT),
            line(200, CALL, "Bygglov", "COMPLETEAGENT", "15", "185", "1", agent=AGENT),
            line(LATE, CALL, "Bygglov", "WRAPUP", "1", agent=AGENT),
        ],
        [
            g("call.queued", 0, queue="Bygglov", caller=CALLER),
            g("call.answered", 15, queue="Bygglov", agent=AGENT),
            g("call.ended", 200, queue="Bygglov", agent=AGENT),
            generic_event(
                "call.ended", CALL, LATE, queue="Bygglov", agent=AGENT, direct_answer=True
            ),
        ],
        expect={"phone.direct_answers": 1},
    ),
]


def test_the_fixture_names_its_source():
    assert "queuelog" in source_of("asterisk-queue_log.txt")


@pytest.mark.parametrize("flow", FLOWS, ids=flow_ids(FLOWS))
def test_asterisk_flow_gives_the_figures_of_generic_events(
    flow, app, client, db, make_org, make_token, tmp_path: Path
):
    via_follower, via_api = make_org(), make_org()
    token, secret = make_token(via_follower, signing=True)
    transport = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://desk")
    sender = EventsApiSender("http://desk", token, secret, client=transport, max_attempts=1)
    log = tmp_path / "queue_log"
    follower = QueueLogFollower(log, tmp_path / "position.json", sender)
    log.write_text("")
    for text in flow.deliveries:
        # Line by line, as Asterisk appends them, each read on its own (the reader's memory of
        # open calls lives in the saved position between steps).
        with open(log, "a") as fh:
            fh.write(text + "\n")
        follower.step()
        follower.close()
        follower = QueueLogFollower(log, tmp_path / "position.json", sender)
    sender.close()
    post_generic(client, make_token(via_api), flow.generic)
    month = T0.date()
    got = month_figures(db, via_follower, month)
    assert got == month_figures(db, via_api, month)
    assert contact_rows(db, via_follower) == contact_rows(db, via_api)
    for name, value in flow.expect.items():
        assert lookup(got, name) == value, (name, lookup(got, name), value)
