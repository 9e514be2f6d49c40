"""Importing a call list: the dry run, and the import itself in resumable chunks.

Every call goes through ``servicedesk.ingest.service.ingest_events`` like any other delivery, so
duplicates, the fold and the figures work as for live events. The whole file is one delivery
(source "import"); it is written in chunks of ``CHUNK_ROWS`` rows, each committed with the
import's progress, so an interrupted import is resumed by importing the same file again.

Backlog and live events (each call counted once):

1. A call's contact id is the suite's call id, so events about the same call from a live
   integration that uses that id land on the same contact, never a second one.
2. Rows of a queue that already gets live events (events that did not come from an import) are
   not imported from the first live event of that queue on: from then on the live integration
   counts that queue's calls. Such rows are reported as "covered by live events".
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col

from servicedesk.cache import forget_org_after_commit
from servicedesk.callimport.mapping import Mapping
from servicedesk.callimport.models import CallImport
from servicedesk.callimport.readers import Table, read_table
from servicedesk.callimport.rows import (
    EVENT_PREFIX,
    CallRow,
    Columns,
    RowRefused,
    Skipped,
    convert,
    events_of,
    queued_event_id,
)
from servicedesk.db import table_of
from servicedesk.ingest.models import Event
from servicedesk.ingest.schemas import EventIn
from servicedesk.ingest.service import RawDelivery, ingest_events, store_delivery
from servicedesk.metrics.percentiles import MEDIAN, P90, interpolate
from servicedesk.metrics.phone import PhoneMeasures, phone_section
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import local_date, to_utc, utcnow

#: Rows per committed chunk. Each call takes a per-contact lock while its chunk is folded on
#: PostgreSQL, and those locks share a table of a few thousand entries: a chunk stays well below.
CHUNK_ROWS = 2000
#: Rows shown mapped in a preview.
PREVIEW_ROWS = 10
#: Refused rows kept with an import for the download (all are counted).
MAX_REFUSALS_KEPT = 1000
SOURCE = "import"

T = TypeVar("T")
#: Runs a function in a write transaction of its own and commits it (the caller's unit of work).
WriteTransaction = Callable[[Callable[[Session], T]], T]


@dataclass(frozen=True, slots=True)
class Refusal:
    line: int
    reason: str
    values: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "values": self.values}


@dataclass(frozen=True, slots=True)
class Covered:
    """A row of a queue that live events already count from its time on."""

    line: int
    queue: str | None


Item = CallRow | Skipped | Refusal | Covered


@dataclass
class Summary:
    """What a file gives (dry run) or gave (import)."""

    rows: int = 0
    calls: int = 0
    imported: int = 0
    duplicates: int = 0
    refused: int = 0
    skipped: int = 0
    live: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    preview: list[CallRow] = field(default_factory=list)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header: list[str] = field(default_factory=list)
    #: Mapped columns the file does not have (read as empty).
    missing: list[str] = field(default_factory=list)
    import_id: int | None = None
    delivery_id: int | None = None
    resumed_after: int = 0

    def refuse(self, refusal: Refusal) -> None:
        self.refused += 1
        if len(self.refusals) < MAX_REFUSALS_KEPT:
            self.refusals.append(refusal)


#: An upload previewed but not imported is dropped after this long (it holds the whole file).
PREVIEW_KEPT = timedelta(hours=24)


def drop_stale_previews(session: Session, *, now: datetime | None = None) -> int:
    """Forget uploads that were previewed and never imported (``callimport/tasks.py``, hourly)."""
    cutoff = (now or utcnow()) - PREVIEW_KEPT
    result = session.execute(
        sa.delete(CallImport).where(
            col(CallImport.status) == "preview", col(CallImport.created_at) < cutoff
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML statement's CursorResult


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_table(data: bytes, mapping: Mapping) -> Table:
    return read_table(
        data,
        sheet=mapping.sheet,
        header_row=mapping.header_row,
        encoding=mapping.encoding,
        delimiter=mapping.delimiter,
    )


def check_file(data: bytes, mapping: Mapping) -> None:
    """Raise FileProblem unless the file opens and has the columns the mapping needs."""
    Columns(mapping, open_table(data, mapping).header)


def keep_refused_upload(session: Session, org: Organisation, data: bytes, reason: str) -> int:
    """Keep a file that could not be read as a refused delivery (source "import"), as every
    refused delivery is kept, with the reason. Flushes."""
    return store_delivery(
        session,
        RawDelivery(source=SOURCE, body=data, content_type=_content_type(data)),
        organisation_id=org.id,
        status="rejected",
        http_status=422,
        reason=reason[:4000],
    )


def live_since(session: Session, org: Organisation) -> dict[str | None, datetime]:
    """Per queue (None: events without one), the first phone event that no import made."""
    events = table_of(Event)
    rows = session.connection().execute(
        sa.select(events.c.queue, sa.func.min(events.c.occurred_at))
        .where(
            events.c.organisation_id == org.id,
            events.c.channel == "phone",
            sa.not_(events.c.event_id.startswith(EVENT_PREFIX, autoescape=True)),
        )
        .group_by(events.c.queue)
    )
    return {queue: to_utc(first) for queue, first in rows}


def items(
    table: Table,
    mapping: Mapping,
    zone: tzinfo,
    live: dict[str | None, datetime],
    *,
    after_line: int = 0,
) -> Iterator[Item]:
    """Each data row of the file as a call, or why it is none (rows up to ``after_line``
    are passed over: a resumed import)."""
    columns = Columns(mapping, table.header)
    for line, cells in table.rows:
        if line <= after_line:
            continue
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        try:
            item = convert(line, cells, columns, mapping, zone)
        except RowRefused as exc:
            yield Refusal(line, str(exc), columns.shown(cells))
            continue
        if isinstance(item, CallRow):
            since = live.get(item.queue)
            if since is not None and item.start >= since:
                yield Covered(line, item.queue)
                continue
        yield item


def _validated(call: CallRow) -> list[EventIn]:
    """The call's events checked by the generic API's own rules."""
    parsed = []
    for event in events_of(call):
        try:
            parsed.append(EventIn.model_validate(event))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "event"
            raise RowRefused(f"{where}: {first['msg']}") from None
    return parsed


def _existing_calls(session: Session, org: Organisation, contact_ids: list[str]) -> set[str]:
    """The calls among these whose opening event an import stored before."""
    events = table_of(Event)
    found: set[str] = set()
    by_event = {queued_event_id(cid): cid for cid in contact_ids}
    ids = list(by_event)
    for start in range(0, len(ids), 500):
        rows = session.connection().execute(
            sa.select(events.c.event_id).where(
                events.c.organisation_id == org.id,
                events.c.event_id.in_(ids[start : start + 500]),
            )
        )
        found.update(by_event[r] for (r,) in rows)
    return found


def _wait(call: CallRow) -> float | None:
    if call.answered_at is None:
        return None
    return (call.answered_at - call.start).total_seconds()


def figures_of(calls: list[CallRow], org: Organisation) -> dict[str, dict[str, Any]]:
    """The phone figures these calls give, per local month of their start, by the definitions
    of docs/metrics.md (the same arithmetic as the reports')."""
    months: dict[str, list[CallRow]] = defaultdict(list)
    for call in calls:
        day = local_date(call.start, org.timezone)
        months[f"{day.year:04d}-{day.month:02d}"].append(call)
    result = {}
    for month, group in sorted(months.items()):
        waits = sorted(w for w in (_wait(c) for c in group) if w is not None)
        answered = len(waits)
        within = sum(1 for w in waits if w <= org.service_level_seconds)
        direct = sum(1 for c in group if c.direct_answer)
        points = dict(enumerate(waits))
        pcts = [interpolate(points, answered, MEDIAN), interpolate(points, answered, P90)]
        measures = PhoneMeasures(
            offered=len(group), answered=answered, within=within, direct=direct, wait_sum=sum(waits)
        )
        result[month] = phone_section(org, measures, pcts)
    return result


def dry_run(
    session: Session, org: Organisation, data: bytes, mapping: Mapping, *, preview_rows: int = 10
) -> Summary:
    """What importing the file would do, without storing anything."""
    table = open_table(data, mapping)
    summary = _summary_of(table, mapping)
    zone = mapping.timezone(org.timezone)
    calls: dict[str, CallRow] = {}
    for item in items(table, mapping, zone, live_since(session, org)):
        summary.rows += 1
        if isinstance(item, Refusal):
            summary.refuse(item)
        elif isinstance(item, Skipped):
            summary.skipped += 1
        elif isinstance(item, Covered):
            summary.live += 1
        else:
            try:
                _validated(item)
            except RowRefused as exc:
                summary.refuse(Refusal(item.line, str(exc), {}))
                continue
            if len(summary.preview) < preview_rows:
                summary.preview.append(item)
            # The first row of a call wins, as the import would keep it.
            calls.setdefault(item.contact_id, item)
    summary.calls = len(calls)
    summary.duplicates = len(_existing_calls(session, org, list(calls)))
    summary.imported = summary.calls - summary.duplicates
    summary.figures = figures_of(list(calls.values()), org)
    return summary


def _summary_of(table: Table, mapping: Mapping) -> Summary:
    return Summary(
        missing=Columns(mapping, table.header).missing,
        kind=table.kind,
        encoding=table.encoding,
        delimiter=table.delimiter,
        sheet=table.sheet,
        header=table.header,
    )


def _resumable(session: Session, org: Organisation, sha: str) -> CallImport | None:
    return session.scalars(
        sa.select(CallImport)
        .where(
            col(CallImport.organisation_id) == org.id,
            col(CallImport.file_sha256) == sha,
            col(CallImport.status) == "running",
        )
        .order_by(col(CallImport.id).desc())
    ).first()


def start_import(
    session: Session,
    org: Organisation,
    data: bytes,
    mapping: Mapping,
    *,
    file_name: str,
    created_by: str,
    content_type: str | None = None,
    preview: CallImport | None = None,
) -> CallImport:
    """The import row of this file: an unfinished one of the same file to resume, or a new one
    with the file stored as its delivery. Flushes; the caller commits before the chunks run."""
    sha = file_sha256(data)
    running = _resumable(session, org, sha)
    if running is not None:
        if preview is not None:
            session.delete(preview)
        return running
    delivery_id = store_delivery(
        session,
        RawDelivery(source=SOURCE, body=data, content_type=content_type or _content_type(data)),
        organisation_id=org.id,
        status="accepted",
        http_status=202,
    )
    row = preview or CallImport(organisation_id=org.id, file_sha256=sha, status="running")
    row.delivery_id = delivery_id
    row.file_name = file_name[:255]
    row.size_bytes = len(data)
    row.mapping_name = mapping.name
    row.mapping_text = mapping.text
    row.status = "running"
    row.created_by = created_by[:320]
    row.created_at = utcnow()
    row.upload = None
    session.add(row)
    session.flush()
    return row


def _content_type(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv"


def run_import(
    write: WriteTransaction[Any],
    org: Organisation,
    import_id: int,
    data: bytes,
    mapping: Mapping,
    *,
    pseudonym_key: bytes,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] = lambda line: None,
) -> Summary:
    """Import the file's calls chunk by chunk, each chunk committed with the import's progress
    by ``write``; resumes after the last committed line of an interrupted run."""
    table = open_table(data, mapping)
    summary = _summary_of(table, mapping)
    zone = mapping.timezone(org.timezone)

    def begin(session: Session) -> tuple[int, int, dict[str | None, datetime]]:
        row = session.get(CallImport, import_id)
        assert row is not None and row.delivery_id is not None
        return row.last_line, row.delivery_id, live_since(session, org)

    after, delivery_id, live = write(begin)
    summary.import_id, summary.delivery_id, summary.resumed_after = import_id, delivery_id, after
    chunk: list[CallRow] = []
    pending = Summary()
    last_line = after

    def flush(final: bool) -> None:
        nonlocal chunk, pending
        counts, calls = pending, chunk
        line = last_line

        def commit(session: Session) -> None:
            _commit_chunk(session, org, import_id, delivery_id, calls, counts, line, final,
                          pseudonym_key)  # fmt: skip

        write(commit)
        for name in ("rows", "calls", "imported", "duplicates", "skipped", "live"):
            setattr(summary, name, getattr(summary, name) + getattr(counts, name))
        for refusal in counts.refusals:
            summary.refuse(refusal)
        summary.refused += counts.refused - len(counts.refusals)
        progress(line)
        chunk, pending = [], Summary()

    for item in items(table, mapping, zone, live, after_line=after):
        pending.rows += 1
        last_line = item.line
        if isinstance(item, Refusal):
            pending.refuse(item)
        elif isinstance(item, Skipped):
            pending.skipped += 1
        elif isinstance(item, Covered):
            pending.live += 1
        else:
            chunk.append(item)
        if pending.rows >= chunk_rows:
            flush(final=False)
    flush(final=True)
    return summary


def _commit_chunk(
    session: Session,
    org: Organisation,
    import_id: int,
    delivery_id: int,
    calls: list[CallRow],
    counts: Summary,
    last_line: int,
    final: bool,
    pseudonym_key: bytes,
) -> None:
    events: list[EventIn] = []
    kept: dict[str, CallRow] = {}
    valid = 0
    for call in calls:
        if call.contact_id in kept:
            valid += 1  # a second row of the same call: a duplicate of the first
            continue
        try:
            events.extend(_validated(call))
        except RowRefused as exc:
            counts.refuse(Refusal(call.line, str(exc), {}))
            continue
        valid += 1
        kept[call.contact_id] = call
    existing = _existing_calls(session, org, list(kept))
    counts.calls = valid
    counts.imported = len(kept) - len(existing)
    counts.duplicates = valid - counts.imported
    if events:
        ingest_events(
            session,
            org,
            events,
            RawDelivery(source=SOURCE, body=b""),
            pseudonym_key=pseudonym_key,
            delivery_id=delivery_id,
        )
        # A backlog changes past months too, whose figures the pages keep for minutes.
        forget_org_after_commit(session, org.id)
    row = session.get(CallImport, import_id)
    assert row is not None
    row.rows += counts.rows
    row.imported += counts.imported
    row.duplicates += counts.duplicates
    row.refused += counts.refused
    row.skipped += counts.skipped
    row.live += counts.live
    room = MAX_REFUSALS_KEPT - len(row.refused_rows)
    if room > 0 and counts.refusals:
        row.refused_rows = [*row.refused_rows, *(r.as_dict() for r in counts.refusals[:room])]
    row.last_line = max(row.last_line, last_line)
    if final:
        row.status = "done"
        row.finished_at = utcnow()
    session.add(row)
    session.flush()
