"""Asterisk queue_log lines as canonical events.

A line is ``epoch|uniqueid|queue|agent|EVENT|data1|data2|...``. The call's uniqueid is the
contact id, so every line of one call lands on one contact whatever order they are read in.
The agent's wrap-up is a custom line the dialplan writes with ``QueueLog()``:
``QueueLog(${QUEUE},${UNIQUEID},${AGENT},WRAPUP,1)`` (1 = answered directly, 2 = not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
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
            # Transferred is, by the KKiK definition, not answered directly.
            event["direct_answer"] = False
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
