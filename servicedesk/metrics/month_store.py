"""Materialised month aggregates: what the figures of a closed month are made of, kept so that a
long period (a quarter, the year to date, the period before, a year before) does not read every
contact of its closed months again on every cold view.

One row per organisation and closed calendar month (``month_aggregates``, migration 0022) holds,
per (queue, local day): the additive cells of both channels (``metrics.cells``), the survey cells
(``metrics.surveys``), and the exact distributions the percentiles need: every answered call's
wait, every answered e-mail's working time and every handled call's handle time, as float64
values sorted within each (queue, day). So the median and 90th percentile of any set of days
and queues of closed months are read off these arrays with the same rank arithmetic
(``percentiles.interpolate``) as the walks over the contacts: the result is the same number,
not an estimate. A closed month is one before the organisation's running month (local time).

Never stale:

- the fold drops the aggregates of a month it writes a contact of, when that month is not the
  running month (and of the later closed months: a late first event can move a contact to an
  earlier month), and so do survey responses linked to such contacts; erasure and retention
  deletes and calendar changes drop all of the organisation's; the figures' settings
  (service-level threshold, time zone) are part of a fingerprint a row must match;
- dropping keeps the row with its data emptied and its ``version`` raised, and a build writes
  only over the version it read before it read the contacts; so a build that raced a late
  event cannot store what it computed from the rows before that event. A month that has no row
  yet gets an empty one first (``_placeholders``), and its build reads the version and the
  contacts afterwards in a session of its own: a drop raises the versions of existing rows
  only, so without the row an erasure landing during a month's first build would not stop it.

Rows are built by the scheduler's runs (``build_missing``: the last ``KEPT_MONTHS`` closed
months) and, when one is still missing, by the page that needs it (in a transaction of its own).
"""

from __future__ import annotations

import hashlib
import json
import struct
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from servicedesk.db import _engine_of, dialect_of, insert_for, unit_of_work
from servicedesk.metrics.cells import Cell, Cells, contact_cells, roll
from servicedesk.metrics.email import EmailMeasures
from servicedesk.metrics.groups import C
from servicedesk.metrics.models import MA, month_key
from servicedesk.metrics.periods import Month
from servicedesk.metrics.phone import PhoneMeasures
from servicedesk.metrics.survey_stats import ScoreSums
from servicedesk.metrics.surveys import (
    FilterCounts,
    SurveyCells,
    roll_filters,
    roll_responding,
    roll_scores,
    survey_cells,
)
from servicedesk.orgs.models import Organisation
from servicedesk.statements import DriverStatement
from servicedesk.timeutil import local_date, utcnow

log = structlog.get_logger(__name__)

#: The layout of ``data``; a row of another layout is rebuilt (it is part of the fingerprint).
FORMAT = 2
#: The distributions kept: the phone's waits, the e-mails' working times (``answer_seconds``
#: of each channel) and the calls' handle times.
KINDS = ("phone", "email", "handle")


def fingerprint(org: Organisation) -> str:
    """The settings a month's aggregates depend on, hashed: the layout, the time zone (which
    day a contact falls on) and the service-level threshold (the ``within`` cells)."""
    text = json.dumps([FORMAT, org.timezone, org.service_level_seconds])
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# what a row holds


Segments = dict[tuple[Any, date], tuple[int, int]]


class MonthData:
    """One month's aggregates: per (queue, day), and rolled up per queue for the whole month
    (keyed by (queue, the month's first day), so that a period covering the month adds a few
    cells instead of a month of days). Decoded lazily from a row: a whole month needs only the
    per-queue parts."""

    def __init__(self, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self._header = header
        #: {kind: values sorted within each (queue, day) segment, queues in turn}
        self.arrays = arrays

    @classmethod
    def of(
        cls,
        month: Month,
        cells: Cells,
        surveys: SurveyCells,
        values: dict[str, tuple[np.ndarray, Segments]],
    ) -> MonthData:
        """From what ``compute_month`` read (per day), with the per-queue roll-ups."""
        whole = month.first
        month_cells = roll(cells, "queue")
        header = {
            "first": whole.isoformat(),
            "cells": _cells_out(cells),
            "surveys": _surveys_out(surveys),
            "month_cells": _cells_out({(q, whole): c for q, c in month_cells.items()}),
            "month_surveys": _surveys_out(SurveyCells(
                {(q, whole): v for q, v in roll_scores(surveys.scores, "queue").items()},
                {(q, whole): v for q, v in roll_responding(surveys.responding, "queue").items()},
                {(q, whole): v for q, v in roll_filters(surveys.filters, "queue").items()},
            )),
            "segments": {k: _segments_out(seg) for k, (_, seg) in values.items()},
            "queue_ranges": {k: _queue_ranges(seg) for k, (_, seg) in values.items()},
            "sizes": {k: len(v) for k, (v, _) in values.items()},
        }  # fmt: skip
        return cls(header, {k: v for k, (v, _) in values.items()})

    @cached_property
    def cells(self) -> Cells:
        return _cells_in(self._header["cells"])

    @cached_property
    def surveys(self) -> SurveyCells:
        return _surveys_in(self._header["surveys"])

    @cached_property
    def month_cells(self) -> Cells:
        return _cells_in(self._header["month_cells"])

    @cached_property
    def month_surveys(self) -> SurveyCells:
        return _surveys_in(self._header["month_surveys"])

    @cached_property
    def segments(self) -> dict[str, Segments]:
        day = date.fromisoformat
        return {
            kind: {(q, day(d)): (a, b) for q, d, a, b in rows}
            for kind, rows in self._header["segments"].items()
        }

    def queue_ranges(self, kind: str) -> dict[Any, tuple[int, int]]:
        """Where each queue's values of the whole month lie in the array of ``kind``."""
        return {q: (a, b) for q, a, b in self._header["queue_ranges"][kind]}


def _plain(value: Any) -> Any:
    """A number as JSON keeps it (PostgreSQL's SUM of integers is a Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _cells_out(cells: Cells) -> list[Any]:
    return [
        [q, d.isoformat(), [_plain(v) for v in c.phone], [_plain(v) for v in c.email]]
        for (q, d), c in cells.items()
    ]


def _cells_in(rows: list[Any]) -> Cells:
    day = date.fromisoformat
    return {(q, day(d)): Cell(PhoneMeasures(*p), EmailMeasures(*e)) for q, d, p, e in rows}


def _surveys_out(surveys: SurveyCells) -> dict[str, Any]:
    return {
        "scores": [
            [q, d.isoformat(),
             [[qu, ch, s.responses, s.index_sum, s.index_square_sum, s.good]
              for (qu, ch), s in per.items()]]
            for (q, d), per in surveys.scores.items()
        ],
        "responding": [[q, d.isoformat(), per] for (q, d), per in surveys.responding.items()],
        "filters": [
            [q, d.isoformat(), {ch: list(f) for ch, f in per.items()}]
            for (q, d), per in surveys.filters.items()
        ],
    }  # fmt: skip


def _surveys_in(rows: dict[str, Any]) -> SurveyCells:
    day = date.fromisoformat
    scores = {
        (q, day(d)): {(qu, ch): ScoreSums(*rest) for qu, ch, *rest in per}
        for q, d, per in rows["scores"]
    }
    responding = {(q, day(d)): dict(per) for q, d, per in rows["responding"]}
    filters = {
        (q, day(d)): {ch: FilterCounts(*f) for ch, f in per.items()}
        for q, d, per in rows["filters"]
    }
    return SurveyCells(scores, responding, filters)


def _segments_out(segments: Segments) -> list[Any]:
    return [[q, d.isoformat(), a, b] for (q, d), (a, b) in segments.items()]


def _queue_ranges(segments: Segments) -> list[Any]:
    """Each queue's first and last position (its days are consecutive segments)."""
    ranges: dict[Any, list[int]] = {}
    for (q, _), (a, b) in segments.items():
        have = ranges.setdefault(q, [a, b])
        have[0], have[1] = min(have[0], a), max(have[1], b)
    return [[q, a, b] for q, (a, b) in ranges.items()]


def encode(month: MonthData) -> bytes:
    """The row's bytes: a JSON header (cells, surveys, segments), then the float64 arrays."""
    header = {**month._header, "kinds": list(month.arrays)}
    head = json.dumps(header, separators=(",", ":")).encode()
    blobs = [np.ascontiguousarray(month.arrays[k], dtype="<f8").tobytes() for k in month.arrays]
    return struct.pack("<I", len(head)) + head + b"".join(blobs)


def decode(data: bytes) -> MonthData:
    (size,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + size])
    offset = 4 + size
    arrays = {}
    for kind in header.pop("kinds"):
        n = header["sizes"][kind]
        arrays[kind] = np.frombuffer(data, dtype="<f8", count=n, offset=offset)
        offset += 8 * n
    return MonthData(header, arrays)


# ---------------------------------------------------------------------------------------------
# building one month from the contacts


#: The queue id of contacts without a queue in the numeric arrays (ids start at 1).
NO_QUEUE = -1


def _sorted_segments(
    session: Session, month: Month, x: Any, conds: list[Any]
) -> tuple[np.ndarray, Segments]:
    """The values of ``x`` of the contacts ``conds`` select, as one array sorted by (queue,
    day, value), with where each (queue, day) segment starts and ends. The rows (a month's:
    about a hundred thousand) come in one fetch on the driver's cursor and are sorted in numpy."""
    queue = sa.type_coerce(sa.func.coalesce(C.c.queue_id, NO_QUEUE), NullType())
    day = sa.type_coerce(sa.extract("day", C.c.start_date), NullType())
    stmt = sa.select(queue, day, sa.type_coerce(x, NullType())).where(*conds, x.is_not(None))
    conn = session.connection()
    rows = DriverStatement(stmt, conn.dialect).execute(conn, {})
    if not rows:
        return np.empty(0, dtype=np.float64), {}
    table = np.asarray(rows, dtype=np.float64)
    queues, days, values = table[:, 0], table[:, 1], table[:, 2]
    order = np.lexsort((values, days, queues))
    queues, days, values = queues[order], days[order], values[order]
    keys = queues * 100 + days
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = [*starts[1:].tolist(), len(values)]
    segments: Segments = {}
    for a, b in zip(starts.tolist(), ends, strict=True):
        q = None if queues[a] == NO_QUEUE else int(queues[a])
        segments[(q, month.first.replace(day=int(days[a])))] = (a, b)
    return np.ascontiguousarray(values), segments


def compute_month(session: Session, org: Organisation, month: Month) -> MonthData:
    """One month's aggregates from its contacts (the same queries the live figures run)."""
    first, last = month.first, month.last
    cells = contact_cells(session, org, first, last, None)
    surveys = survey_cells(session, org, first, last, None)
    values = {}
    days = [C.c.organisation_id == org.id, C.c.start_date >= first, C.c.start_date <= last]
    for channel in ("phone", "email"):
        values[channel] = _sorted_segments(
            session, month, C.c.answer_seconds, [*days, C.c.channel == channel]
        )
    values["handle"] = _sorted_segments(
        session, month, C.c.handle_seconds, [*days, C.c.start_month == month_key(month)]
    )
    return MonthData.of(month, cells, surveys, values)


# ---------------------------------------------------------------------------------------------
# reading, building on first use, dropping


def _versions(session: Session, org: Organisation, keys: list[int]) -> dict[int, Any]:
    rows = session.execute(
        sa.select(MA.c.month, MA.c.version, MA.c.fingerprint, MA.c.data).where(
            MA.c.organisation_id == org.id, MA.c.month.in_(keys)
        )
    )
    return {int(r.month): r for r in rows}


def months_data(
    session: Session, org: Organisation, months: list[Month], build: bool = True
) -> dict[Month, MonthData]:
    """The stored aggregates of these closed months; with ``build``, the missing or stale ones
    are built from the contacts and stored (in a transaction of their own: only a session with
    nothing uncommitted may ask for that, as the pages' and the jobs' sessions), else left out
    (the caller reads those months from the contacts)."""
    if not months:
        return {}
    wanted = fingerprint(org)
    rows = _versions(session, org, [month_key(m) for m in months])
    out: dict[Month, MonthData] = {}
    stale: list[Month] = []
    for month in months:
        row = rows.get(month_key(month))
        if row is not None and row.data is not None and row.fingerprint == wanted:
            out[month] = decode(bytes(row.data))
        elif build:
            stale.append(month)
    if not stale:
        return out
    first = [month_key(m) for m in stale if month_key(m) not in rows]
    if first and _placeholders(session, org, first):
        # Read again after the empty rows are there, in a new snapshot (see the module's
        # docstring): the versions, then the contacts.
        with Session(_engine_of(session), expire_on_commit=False) as reader:
            out.update(_build(reader, org, wanted, stale))
    else:
        out.update(_build(session, org, wanted, stale, rows))
    return out


def _build(
    session: Session,
    org: Organisation,
    wanted: str,
    months: list[Month],
    rows: dict[int, Any] | None = None,
) -> dict[Month, MonthData]:
    """Build these months from the contacts and store them, each over the version read first."""
    if rows is None:
        rows = _versions(session, org, [month_key(m) for m in months])
    out: dict[Month, MonthData] = {}
    built: list[tuple[int, int | None, bytes]] = []
    for month in months:
        row = rows.get(month_key(month))
        # The version is read before the contacts: a drop after it makes the store a no-op.
        data = compute_month(session, org, month)
        out[month] = data
        built.append((month_key(month), None if row is None else int(row.version),
                      encode(data)))  # fmt: skip
    _store(session, org, wanted, built)
    return out


def _placeholders(session: Session, org: Organisation, keys: list[int]) -> bool:
    """Empty rows for months that have none, committed before their first build reads the
    contacts (so that a drop meanwhile raises their version); False if they could not be
    written (busy, read-only: the build then goes on as before, unguarded)."""
    try:
        with unit_of_work(_engine_of(session)) as writer:
            stmt = insert_for(dialect_of(writer), MA).on_conflict_do_nothing()
            writer.execute(
                stmt,
                [{"organisation_id": org.id, "month": key, "version": 0, "fingerprint": "",
                  "data": None, "built_at": None} for key in keys],
            )  # fmt: skip
    except sa.exc.OperationalError as exc:
        log.warning("month aggregates: no empty rows", org=org.id, error=str(exc))
        return False
    return True


def _store(
    session: Session, org: Organisation, wanted: str, built: list[tuple[int, int | None, bytes]]
) -> None:
    """Store built months in a transaction of their own, each only over the version it read."""
    try:
        with unit_of_work(_engine_of(session)) as writer:
            dialect = dialect_of(writer)
            now = utcnow()
            for key, version, data in built:
                if version is None:
                    stmt = insert_for(dialect, MA).values(
                        organisation_id=org.id, month=key, version=0, fingerprint=wanted,
                        built_at=now, data=data,
                    ).on_conflict_do_nothing()  # fmt: skip
                else:
                    stmt = (
                        sa.update(MA)
                        .where(MA.c.organisation_id == org.id, MA.c.month == key,
                               MA.c.version == version)
                        .values(fingerprint=wanted, built_at=now, data=data)
                    )  # fmt: skip
                writer.execute(stmt)
    except sa.exc.OperationalError as exc:
        # Busy or read-only: the figures are right all the same, the next view builds again.
        log.warning("month aggregates not stored", org=org.id, error=str(exc))


#: How many closed months back the scheduler keeps built: a year to date in December, with the
#: same days just before it and the year before, reaches 24 months back.
KEPT_MONTHS = 25


def build_missing(session: Session, org: Organisation, now: datetime) -> list[Month]:
    """Build the aggregates of the last ``KEPT_MONTHS`` closed months that have none (or stale
    ones), so that no viewer waits for them (after the upgrade to 0022, after a drop); the
    scheduler calls it at every run. Returns the months built."""
    month = Month.of(local_date(now, org.timezone))
    months = []
    for _ in range(KEPT_MONTHS):
        month = month.previous()
        months.append(month)
    wanted = fingerprint(org)
    have = set(
        session.execute(
            sa.select(MA.c.month).where(
                MA.c.organisation_id == org.id,
                MA.c.month.in_([month_key(m) for m in months]),
                MA.c.fingerprint == wanted,
                MA.c.data.is_not(None),
            )
        ).scalars()
    )
    missing = [m for m in months if month_key(m) not in have]
    months_data(session, org, missing)
    return missing
