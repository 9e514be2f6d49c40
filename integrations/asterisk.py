"""Asterisk queue_log lines as canonical events.

A line is ``epoch|uniqueid|queue|agent|EVENT|data1|data2|...``. The call's uniqueid is the
contact id, so every line of one call lands on one contact whatever order they are read in.
The agent's wrap-up is a custom line the dialplan writes with ``QueueLog()``:
``QueueLog(${QUEUE},${UNIQUEID},${AGENT},WRAPUP,1)`` (1 = answered directly, 2 = not).

Event names and their data are those of Asterisk's own description of the file (doc/queuelog.txt
in the Asterisk sources, docs.asterisk.org "Queue Logs"). A restart of the PBX writes
``QUEUESTART`` and ends every call it had: a call whose last line was ENTERQUEUE or CONNECT then
gets no ending line of its own, so ``QueueLogReader`` (which remembers the calls still open) ends
them at the QUEUESTART.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from integrations.base import PayloadError, bounded, direct_answer_of, rfc3339

#: queue_log events that end a call, whoever hung up and whether it was answered.
ENDING = {
    "ABANDON",
    "EXITWITHTIMEOUT",
    "EXITWITHKEY",
    "EXITEMPTY",
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "TRANSFER",
    "BLINDTRANSFER",
    "ATTENDEDTRANSFER",
}
TRANSFERS = {"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
#: Caller ids that carry no number.
_NO_CALLER = {"", "anonymous", "unknown", "restricted", "private"}


def event_id(line: str) -> str:
    """A stable id per line: reading the same line again (restart, import twice) is a duplicate."""
    return "asterisk:" + hashlib.sha256(line.strip().encode()).hexdigest()[:40]


def parse_line(line: str, *, default_queue: str | None = None) -> list[dict[str, Any]]:
    """The events one queue_log line stands for (none for agent and system lines)."""
    line = line.rstrip("\r\n")
    if not line.strip():
        return []
    fields = line.split("|")
    if len(fields) < 5:
        raise PayloadError("a queue_log line has at least 5 fields separated by |")
    epoch, uniqueid, queue, agent, name = fields[:5]
    data = fields[5:]
    if uniqueid in ("", "NONE") or name not in ENDING | {"ENTERQUEUE", "CONNECT", "WRAPUP"}:
        return []
    try:
        when = datetime.fromtimestamp(float(epoch), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise PayloadError(f"{epoch!r} is not a Unix time") from exc
    event: dict[str, Any] = {
        "id": event_id(line),
        "contact_id": uniqueid,
        "occurred_at": rfc3339(when),
    }
    queue_name = bounded(queue if queue != "NONE" else default_queue, 128)
    if queue_name:
        event["queue"] = queue_name
    agent_name = bounded(agent if agent != "NONE" else None, 128)
    if name == "ENTERQUEUE":
        event["type"] = "call.queued"
        caller = data[1] if len(data) > 1 else ""
        if caller.strip().lower() not in _NO_CALLER:
            event["caller"] = bounded(caller, 320)
    elif name == "CONNECT":
        event["type"] = "call.answered"
        if agent_name:
            event["agent"] = agent_name
    elif name == "WRAPUP":
        verdict = direct_answer_of(data[0] if data else None)
        if verdict is None:
            return []
        event.update(type="call.ended", direct_answer=verdict)
    else:
        event["type"] = "call.ended"
        if name in TRANSFERS:
            # Transferred is, by the KKiK definition, not answered directly. The verdict is an
            # event of its own, so the hang-up stays one (a later WRAPUP may still decide).
            transfer = {**event, "id": event["id"] + ":transfer", "direct_answer": False}
            return [event, transfer]
    return [event]


def parse_lines(
    lines: Iterable[str], *, default_queue: str | None = None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(line number, events) for each line; unreadable lines raise with their number."""
    for number, line in enumerate(lines, 1):
        try:
            yield number, parse_line(line, default_queue=default_queue)
        except PayloadError as exc:
            raise PayloadError(f"line {number}: {exc}") from exc


#: How long a call may stay open (no ending line) before the reader forgets it.
OPEN_CALL_HOURS = 24
#: The most open calls remembered (a PBX that never logs endings must not grow this forever).
MAX_OPEN_CALLS = 10_000


class QueueLogReader:
    """Reads queue_log lines in file order, remembering the calls still in a queue or talking.

    At ``QUEUESTART`` (the PBX started again) every call still open is ended at that moment. The
    open calls are plain data (``state()``/``QueueLogReader(state)``), so a follower keeps them
    with its file position and an import over several chunks keeps them between chunks.
    """

    def __init__(self, state: Mapping[str, Any] | None = None) -> None:
        self.open: dict[str, dict[str, Any]] = {}
        for uniqueid, value in dict(state or {}).items():
            if isinstance(value, dict) and isinstance(value.get("at"), int | float):
                self.open[str(uniqueid)] = {"at": float(value["at"]), "queue": value.get("queue")}

    def state(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.open.items()}

    def events(self, line: str) -> list[dict[str, Any]]:
        fields = line.rstrip("\r\n").split("|")
        if len(fields) >= 5 and fields[4] == "QUEUESTART":
            return self._restart(line, fields[0])
        events = parse_line(line)
        for event in events:
            self._track(event, fields)
        return events

    def _track(self, event: dict[str, Any], fields: list[str]) -> None:
        uniqueid = event["contact_id"]
        if event["type"] == "call.ended":
            if "direct_answer" not in event or fields[4] in TRANSFERS:
                self.open.pop(uniqueid, None)
            return
        at = float(fields[0])
        self.open[uniqueid] = {"at": at, "queue": event.get("queue")}
        self._forget_old(at)

    def _forget_old(self, now: float) -> None:
        horizon = now - OPEN_CALL_HOURS * 3600
        for uniqueid in [k for k, v in self.open.items() if v["at"] < horizon]:
            del self.open[uniqueid]
        while len(self.open) > MAX_OPEN_CALLS:
            del self.open[next(iter(self.open))]

    def _restart(self, line: str, epoch: str) -> list[dict[str, Any]]:
        try:
            when = datetime.fromtimestamp(float(epoch), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise PayloadError(f"{epoch!r} is not a Unix time") from exc
        self._forget_old(when.timestamp())
        events = []
        for uniqueid, call in self.open.items():
            if call["at"] > when.timestamp():
                continue
            event: dict[str, Any] = {
                "id": event_id(line) + ":" + hashlib.sha256(uniqueid.encode()).hexdigest()[:16],
                "type": "call.ended",
                "contact_id": uniqueid,
                "occurred_at": rfc3339(when),
            }
            if call.get("queue"):
                event["queue"] = call["queue"]
            events.append(event)
        self.open.clear()
        return events
