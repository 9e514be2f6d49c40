"""The nine calls every call list fixture describes, and the generic events they stand for.

The fixtures in tests/fixtures/callimport/ write these calls in each export's own columns; the
tests import a fixture and compare its figures with those of these events sent as generic
events, so an import must give exactly what the same calls through the events API give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "callimport"


@dataclass(frozen=True)
class Call:
    call_id: str
    queue: str
    start: str  # local wall clock, Europe/Stockholm (and the same clock for the Oslo fixture)
    outcome: str  # answered | abandoned | transferred
    wait: int
    talk: int | None
    agent: str | None
    caller: str | None
    direct: bool | None


CALLS = [
    Call(
        "c1", "Bygglov", "2026-03-02 08:14:05", "answered", 23, 180, "anna", "070-111 11 11", True
    ),
    Call("c2", "Bygglov", "2026-03-02 08:20:00", "abandoned", 95, None, None, "0702222222", None),
    Call("c3", "Växel", "2026-03-03 09:00:10", "answered", 75, 60, "bo", None, False),
    Call("c4", "Växel", "2026-03-03 09:05:00", "transferred", 12, 30, "bo", "0703333333", None),
    Call("c5", "Bygglov", "2026-03-10 13:45:30", "answered", 5, 240, "anna", None, True),
    Call("c6", "Växel", "2026-03-17 15:59:59", "abandoned", 30, None, None, None, None),
    # After the change to summer time, and on the month's last evening in local time.
    Call("c7", "Bygglov", "2026-03-31 23:30:00", "answered", 61, 100, "cia", None, True),
    Call("c8", "Växel", "2026-04-01 00:10:00", "answered", 40, 50, "bo", None, None),
    Call("c9", "Växel", "2026-04-02 10:00:00", "abandoned", 3, None, None, None, None),
]


def local(call: Call, zone: str = "Europe/Stockholm") -> datetime:
    return datetime.fromisoformat(call.start).replace(tzinfo=ZoneInfo(zone))


def generic_events(
    calls: list[Call] = CALLS,
    *,
    zone: str = "Europe/Stockholm",
    agents: bool = True,
    verdicts: bool = True,
    callers: bool = True,
    contact: Any = None,
) -> list[dict[str, Any]]:
    """The events a live integration would have sent for these calls (ids of its own)."""
    events: list[dict[str, Any]] = []
    for call in calls:
        cid = contact(call) if contact else f"live-{call.call_id}"
        start = local(call, zone)
        queued: dict[str, Any] = {
            "id": f"{cid}-q",
            "type": "call.queued",
            "contact_id": cid,
            "occurred_at": start.isoformat(),
            "queue": call.queue,
        }
        if callers and call.caller:
            queued["caller"] = call.caller
        events.append(queued)
        answered = call.outcome in ("answered", "transferred")
        at = start + timedelta(seconds=call.wait)
        if answered:
            event: dict[str, Any] = {
                "id": f"{cid}-a",
                "type": "call.answered",
                "contact_id": cid,
                "occurred_at": at.isoformat(),
                "queue": call.queue,
            }
            if agents and call.agent:
                event["agent"] = call.agent
            events.append(event)
        end = at + timedelta(seconds=call.talk or 0)
        ended: dict[str, Any] = {
            "id": f"{cid}-e",
            "type": "call.ended",
            "contact_id": cid,
            "occurred_at": end.isoformat(),
            "queue": call.queue,
        }
        direct = call.direct if call.outcome != "transferred" else False
        if verdicts and direct is not None:
            ended["direct_answer"] = direct
        events.append(ended)
    return events
