"""One call list row as one call, and one call as the canonical events every other path makes.

Event ids are derived from the call id and the event's kind, so the same call read again (the
same file twice, two overlapping exports) gives the same ids, which the ingest service counts
as duplicates. A file without a call id column gets one made from the columns the mapping
names in ``call_id_from``, normalised, so it is as stable as those values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from servicedesk.callimport.mapping import Mapping, normalise_header
from servicedesk.callimport.readers import FileProblem
from servicedesk.callimport.values import (
    ValueProblem,
    as_text,
    clean,
    parse_bool,
    parse_datetime,
    parse_seconds,
)

#: Every event id an import makes starts with this, which tells imported calls from live ones.
EVENT_PREFIX = "callimport:"
#: Contact ids made for files without a call id column.
DERIVED_PREFIX = "import-"
#: Caller ids that name no one.
NO_CALLER = {"", "anonymous", "anonym", "unknown", "okänt", "okänd", "ukjent", "dolt nummer",
             "skjult nummer", "hidden", "private", "restricted"}  # fmt: skip
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
#: Fields whose column must be in the file; any other mapped column may be left out of it.
REQUIRED = ("call_id", "start", "outcome")
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class RowRefused(ValueError):
    """A row that cannot be a call; the message is the reason shown to the user."""


@dataclass(frozen=True, slots=True)
class CallRow:
    """A call as a row describes it, times aware."""

    line: int
    contact_id: str
    start: datetime
    outcome: str
    answered_at: datetime | None
    ended_at: datetime | None
    queue: str | None
    agent: str | None
    caller: str | None
    direct_answer: bool | None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row the mapping says is not a queue call to count (an outbound call, say)."""

    line: int
    reason: str


class Columns:
    """The mapping's fields resolved to positions in this file's header."""

    def __init__(self, mapping: Mapping, header: list[str]) -> None:
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            positions.setdefault(normalise_header(name), index)
        self.header = header

        def find(name: str, what: str) -> int:
            key = normalise_header(name)
            if key not in positions:
                shown = ", ".join(repr(h) for h in header if h)[:600]
                raise FileProblem(
                    f"the file has no column {name!r} ({what} in mapping {mapping.name}); "
                    f"its columns are: {shown}"
                )
            return positions[key]

        #: Mapped columns the file lacks: their fields are read as empty (the preview says so).
        self.missing = [
            c for f, c in mapping.columns.items()
            if f not in REQUIRED and normalise_header(c) not in positions
        ]  # fmt: skip
        self.fields = {
            f: find(c, f"columns.{f}")
            for f, c in mapping.columns.items()
            if f in REQUIRED or normalise_header(c) in positions
        }
        self.id_parts = [find(c, "call_id_from") for c in mapping.call_id_from]
        self.skip = find(mapping.skip_column, "skip.column") if mapping.skip_column else None

    def get(self, cells: list[Any], field: str) -> Any:
        index = self.fields.get(field)
        if index is None or index >= len(cells):
            return None
        return clean(cells[index])

    def shown(self, cells: list[Any]) -> dict[str, str]:
        """The mapped cells of a row as text, for a refused row's report (never the caller)."""
        return {
            self.header[i]: as_text(cells[i])[:200] if i < len(cells) else ""
            for f, i in self.fields.items()
            if f != "caller"
        }


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(as_text(value).split())
    if len(text) > limit:
        raise RowRefused(f"{field}: longer than {limit} characters")
    return text or None


def _derived_id(cells: list[Any], columns: Columns, zone: tzinfo, mapping: Mapping) -> str:
    parts = []
    for index in columns.id_parts:
        value = clean(cells[index]) if index < len(cells) else None
        if value is None:
            parts.append("")
            continue
        try:
            # Times are normalised to the instant, so 08:14 and 08:14:00 make the same id.
            parts.append(parse_datetime(value, zone, mapping.formats).astimezone(UTC).isoformat())
        except ValueProblem:
            parts.append(" ".join(as_text(value).split()).casefold())
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return DERIVED_PREFIX + digest


def _when(value: Any, zone: tzinfo, mapping: Mapping, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = parse_datetime(value, zone, mapping.formats)
    except ValueProblem as exc:
        raise RowRefused(f"{field}: {exc}") from None
    if not EARLIEST <= instant <= LATEST:
        raise RowRefused(f"{field}: {as_text(value)!r} is not between 1990 and 2100")
    return instant


def _seconds(value: Any, mapping: Mapping, field: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_seconds(value, mapping.duration_unit_seconds)
    except ValueProblem as exc:
        raise RowRefused(f"{field}: {exc}") from None


def convert(
    line: int, cells: list[Any], columns: Columns, mapping: Mapping, zone: tzinfo
) -> CallRow | Skipped:
    """The call a row stands for; raises RowRefused with the reason when it is none."""
    if columns.skip is not None and columns.skip < len(cells):
        word = " ".join(as_text(cells[columns.skip]).split()).casefold()
        if word in mapping.skip_values:
            return Skipped(line, f"{mapping.skip_column} is {as_text(cells[columns.skip])!r}")
    start_value = columns.get(cells, "start")
    if start_value is None:
        raise RowRefused("start: empty")
    start = _when(start_value, zone, mapping, "start")
    assert start is not None
    if "call_id" in columns.fields:
        contact_id = _text(columns.get(cells, "call_id"), "call_id", 200)
        if contact_id is None:
            raise RowRefused("call_id: empty")
    else:
        contact_id = _derived_id(cells, columns, zone, mapping)
    raw_outcome = columns.get(cells, "outcome")
    wait = _seconds(columns.get(cells, "wait_seconds"), mapping, "wait_seconds")
    talk = _seconds(columns.get(cells, "talk_seconds"), mapping, "talk_seconds")
    answered_at = _when(columns.get(cells, "answered_at"), zone, mapping, "answered_at")
    end = _when(columns.get(cells, "end"), zone, mapping, "end")
    if "outcome" in columns.fields:
        if raw_outcome is None:
            raise RowRefused("outcome: empty")
        outcome = mapping.outcome_of(as_text(raw_outcome))
        if outcome is None:
            raise RowRefused(
                f"outcome: {as_text(raw_outcome)[:80]!r} is not listed in the mapping's [outcome]"
            )
        if outcome == "skip":
            return Skipped(line, f"outcome {as_text(raw_outcome)[:80]!r} is skipped")
    else:
        outcome = "talked"
    if outcome == "talked":
        outcome = "answered" if answered_at is not None or (talk or 0) > 0 else "abandoned"
    answered = outcome in ("answered", "transferred")
    if answered and answered_at is None:
        if wait is None:
            raise RowRefused("answered, but the row gives neither the wait nor the answer time")
        answered_at = start + timedelta(seconds=wait)
    if not answered:
        answered_at = None
    if end is None:
        if answered_at is not None and talk is not None:
            end = answered_at + timedelta(seconds=talk)
        elif answered_at is None and wait is not None:
            end = start + timedelta(seconds=wait)
    if answered_at is not None and answered_at < start:
        raise RowRefused("answered before it started")
    if end is not None and end < (answered_at or start):
        raise RowRefused("ends before it was answered" if answered_at else "ends before it starts")
    direct = None
    if "direct_answer" in columns.fields:
        try:
            direct = parse_bool(
                columns.get(cells, "direct_answer"), mapping.direct_yes, mapping.direct_no
            )
        except ValueProblem as exc:
            raise RowRefused(f"direct_answer: {exc}") from None
    if direct and not answered:
        raise RowRefused("direct_answer: a call nobody answered cannot have a direct answer")
    if outcome in ("transferred", "callback") and direct is None:
        # By the KKiK definition a transfer or a call-back is not a direct answer.
        direct = False
    caller = _text(columns.get(cells, "caller"), "caller", 320)
    if caller is not None and caller.casefold() in NO_CALLER:
        caller = None
    queue = _text(columns.get(cells, "queue"), "queue", 128) or mapping.default_queue
    return CallRow(
        line=line,
        contact_id=contact_id,
        start=start,
        outcome=outcome,
        answered_at=answered_at,
        ended_at=end,
        queue=queue,
        agent=_text(columns.get(cells, "agent"), "agent", 128) if answered else None,
        caller=caller,
        direct_answer=direct,
    )


def event_key(contact_id: str) -> str:
    """The part of a call's event ids that comes from its call id."""
    return EVENT_PREFIX + hashlib.blake2b(contact_id.encode(), digest_size=16).hexdigest()


def queued_event_id(contact_id: str) -> str:
    return event_key(contact_id) + ":queued"


def _iso(value: datetime) -> str:
    return value.isoformat()


def events_of(call: CallRow) -> list[dict[str, Any]]:
    """The canonical events of the call (the generic API's shape)."""
    key = event_key(call.contact_id)
    base: dict[str, Any] = {"contact_id": call.contact_id}
    if call.queue:
        base["queue"] = call.queue
    queued = {**base, "id": key + ":queued", "type": "call.queued", "occurred_at": _iso(call.start)}
    if call.caller:
        queued["caller"] = call.caller
    events = [queued]
    if call.answered_at is not None:
        answered = {
            **base,
            "id": key + ":answered",
            "type": "call.answered",
            "occurred_at": _iso(call.answered_at),
        }
        if call.agent:
            answered["agent"] = call.agent
        events.append(answered)
    ended_at = call.ended_at
    if ended_at is None and call.direct_answer is not None:
        # The verdict rides on call.ended; without an end time it is put at the answer.
        ended_at = call.answered_at or call.start
    if ended_at is not None:
        ended = {**base, "id": key + ":ended", "type": "call.ended", "occurred_at": _iso(ended_at)}
        if call.direct_answer is not None:
            ended["direct_answer"] = call.direct_answer
        events.append(ended)
    return events
