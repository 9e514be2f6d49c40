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
  event cannot store what it computed from the rows before that event.

Rows are built on first use (by the page that needs them, in a transaction of their own) and by
the monthly freeze job right after the month's report.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from servicedesk import db as _db  # noqa: F401  (naming convention before the first table)
from servicedesk.db import _engine_of, dialect_of, insert_for, table_of, unit_of_work
from servicedesk.metrics.cells import Cell, Cells, contact_cells
from servicedesk.metrics.email import EmailMeasures
from servicedesk.metrics.groups import C
from servicedesk.metrics.periods import Month
from servicedesk.metrics.phone import PhoneMeasures
from servicedesk.metrics.survey_stats import ScoreSums
from servicedesk.metrics.surveys import FilterCounts, SurveyCells, survey_cells
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import local_date, utcnow

log = structlog.get_logger(__name__)

#: The layout of ``data``; a row of another layout is rebuilt (it is part of the fingerprint).
FORMAT = 1
#: The distributions kept: the phone's waits, the e-mails' working times (``answer_seconds``
#: of each channel) and the calls' handle times.
KINDS = ("phone", "email", "handle")


class MonthAggregate(SQLModel, table=True):
    """One closed month's aggregates of one organisation (see the module's docstring)."""

    __tablename__ = "month_aggregates"
    organisation_id: int = Field(
        foreign_key="organisations.id", ondelete="CASCADE", primary_key=True
    )
    #: 202601 for January 2026 (the contacts' ``start_month``).
    month: int = Field(sa_column_kwargs={"autoincrement": False}, primary_key=True)
    #: Raised by every drop; a build stores its data only over the version it read first.
    version: int = Field(default=0)
    #: The settings the data was computed under (``fingerprint``); "" when dropped.
    fingerprint: str = Field(default="", max_length=64)
    built_at: datetime | None = None
    #: The aggregates (``encode``); None when dropped.
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


MA = table_of(MonthAggregate)


def fingerprint(org: Organisation) -> str:
    """The settings a month's aggregates depend on, hashed: the layout, the time zone (which
    day a contact falls on) and the service-level threshold (the ``within`` cells)."""
    text = json.dumps([FORMAT, org.timezone, org.service_level_seconds])
    return hashlib.sha256(text.encode()).hexdigest()


def month_key(month: Month) -> int:
    return month.year * 100 + month.month


def running_month(org: Organisation) -> Month:
    """The organisation's running month (its local today's)."""
    return Month.of(local_date(utcnow(), org.timezone))


# ---------------------------------------------------------------------------------------------
# what a row holds


@dataclass
class MonthData:
    """One month's aggregates, decoded."""

    cells: Cells
    surveys: SurveyCells
    #: {kind: (values sorted within each segment, {(queue id, day): (start, end)})}
    values: dict[str, tuple[np.ndarray, dict[tuple[Any, date], tuple[int, int]]]] = field(
        default_factory=dict
    )
    #: Per (queue, day): the handle times' sum (s), as the database summed them.
    handle_sums: dict[tuple[Any, date], float] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    """A number as JSON keeps it (PostgreSQL's SUM of integers is a Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def encode(month: MonthData) -> bytes:
    """The row's bytes: a JSON header (cells, surveys, segments), then the float64 arrays."""
    header: dict[str, Any] = {
        "cells": [
            [q, d.isoformat(), [_plain(v) for v in c.phone], [_plain(v) for v in c.email]]
            for (q, d), c in month.cells.items()
        ],
        "scores": [
            [
                q,
                d.isoformat(),
                [
                    [qu, ch, s.responses, s.index_sum, s.index_square_sum, s.good]
                    for (qu, ch), s in per.items()
                ],
            ]
            for (q, d), per in month.surveys.scores.items()
        ],  # fmt: skip
        "responding": [[q, d.isoformat(), per] for (q, d), per in month.surveys.responding.items()],
        "filters": [
            [q, d.isoformat(), {ch: list(f) for ch, f in per.items()}]
            for (q, d), per in month.surveys.filters.items()
        ],
        "handle_sums": [[q, d.isoformat(), s] for (q, d), s in month.handle_sums.items()],
        "values": {},
    }
    blobs = []
    for kind, (values, segments) in month.values.items():
        header["values"][kind] = {
            "n": len(values),
            "segments": [[q, d.isoformat(), a, b] for (q, d), (a, b) in segments.items()],
        }
        blobs.append(np.ascontiguousarray(values, dtype="<f8").tobytes())
    head = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + b"".join(blobs)


def decode(data: bytes) -> MonthData:
    (size,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + size])
    day = date.fromisoformat
    cells: Cells = {
        (q, day(d)): Cell(PhoneMeasures(*p), EmailMeasures(*e)) for q, d, p, e in header["cells"]
    }
    scores = {
        (q, day(d)): {(qu, ch): ScoreSums(*rest) for qu, ch, *rest in per}
        for q, d, per in header["scores"]
    }
    responding = {(q, day(d)): per for q, d, per in header["responding"]}
    filters = {
        (q, day(d)): {ch: FilterCounts(*f) for ch, f in per.items()}
        for q, d, per in header["filters"]
    }
    out = MonthData(cells, SurveyCells(scores, responding, filters))
    out.handle_sums = {(q, day(d)): s for q, d, s in header["handle_sums"]}
    offset = 4 + size
    for kind, spec in header["values"].items():
        n = spec["n"]
        values = np.frombuffer(data, dtype="<f8", count=n, offset=offset)
        offset += 8 * n
        out.values[kind] = (values, {(q, day(d)): (a, b) for q, d, a, b in spec["segments"]})
    return out


# ---------------------------------------------------------------------------------------------
# building one month from the contacts


def _sorted_segments(
    rows: Iterable[Any],
) -> tuple[np.ndarray, dict[tuple[Any, date], tuple[int, int]]]:
    """(queue id, day, value) rows as one array sorted by (queue, day, value), with where each
    (queue, day) segment starts and ends."""
    by_cell: dict[tuple[Any, date], list[float]] = {}
    for queue_id, day, value in rows:
        by_cell.setdefault((queue_id, day), []).append(float(value))
    parts, segments, start = [], {}, 0
    for key in sorted(by_cell, key=lambda k: (k[0] is not None, k[0] or 0, k[1])):
        values = np.sort(np.asarray(by_cell[key], dtype=np.float64))
        parts.append(values)
        segments[key] = (start, start + len(values))
        start += len(values)
    array = np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)
    return array, segments


def compute_month(session: Session, org: Organisation, month: Month) -> MonthData:
    """One month's aggregates from its contacts (the same queries the live figures run)."""
    first, last = month.first, month.last
    cells = contact_cells(session, org, first, last, None)
    surveys = survey_cells(session, org, first, last, None)
    out = MonthData(cells, surveys)
    key = month_key(month)
    for channel in ("phone", "email"):
        x = C.c.answer_seconds
        stmt = sa.select(C.c.queue_id, C.c.start_date, x).where(
            C.c.organisation_id == org.id, C.c.channel == channel,
            C.c.start_date >= first, C.c.start_date <= last, x.is_not(None),
        )  # fmt: skip
        out.values[channel] = _sorted_segments(session.execute(stmt))
    h = C.c.handle_seconds
    stmt = sa.select(C.c.queue_id, C.c.start_date, h).where(
        C.c.organisation_id == org.id, C.c.start_month == key, h.is_not(None),
        C.c.start_date >= first, C.c.start_date <= last,
    )  # fmt: skip
    out.values["handle"] = _sorted_segments(session.execute(stmt))
    sums = sa.select(C.c.queue_id, C.c.start_date, sa.func.sum(h)).where(
        C.c.organisation_id == org.id, C.c.start_month == key, h.is_not(None),
        C.c.start_date >= first, C.c.start_date <= last,
    ).group_by(C.c.queue_id, C.c.start_date)  # fmt: skip
    out.handle_sums = {(q, d): float(s) for q, d, s in session.execute(sums)}
    return out


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
    built: list[tuple[int, int | None, bytes]] = []
    for month in months:
        row = rows.get(month_key(month))
        if row is not None and row.data is not None and row.fingerprint == wanted:
            out[month] = decode(bytes(row.data))
        elif build:
            # The version is read before the contacts: a drop after it makes the store a no-op.
            data = compute_month(session, org, month)
            out[month] = data
            built.append((month_key(month), None if row is None else int(row.version),
                          encode(data)))  # fmt: skip
    if built:
        _store(session, org, wanted, built)
    return out


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


def drop_months_from(session: Session, org: Organisation, keys: Iterable[int]) -> None:
    """Drop the aggregates of the closed months among ``keys`` and of every closed month after
    the earliest of them (a late first event moves a contact to an earlier month: the month it
    left is a later one). Called by the fold with the month keys of the contacts it wrote; one
    statement per month, and none when they are all in the running month (the common case)."""
    running = month_key(running_month(org))
    closed = sorted(k for k in set(keys) if k < running)
    if not closed:
        return
    month = Month(closed[0] // 100, closed[0] % 100)
    stale = []
    while month_key(month) < running:
        stale.append(month_key(month))
        month = month.next()
    _tombstones(session, org.id, stale)


def _tombstones(session: Session, org_id: int, keys: list[int]) -> None:
    dialect = dialect_of(session)
    stmt = insert_for(dialect, MA)
    stmt = stmt.on_conflict_do_update(
        index_elements=["organisation_id", "month"],
        set_={"version": MA.c.version + 1, "fingerprint": "", "data": None, "built_at": None},
    )
    session.execute(
        stmt,
        [{"organisation_id": org_id, "month": k, "version": 1, "fingerprint": "",
          "data": None, "built_at": None} for k in keys],
    )  # fmt: skip


def drop_all(session: Session, org_id: int) -> None:
    """Drop every aggregate of the organisation (erasure, retention, a calendar change)."""
    session.execute(
        sa.update(MA)
        .where(MA.c.organisation_id == org_id)
        .values(version=MA.c.version + 1, fingerprint="", data=None, built_at=None)
    )


def drop_for_contacts(session: Session, org: Organisation, contact_ids: Iterable[str]) -> None:
    """Drop the aggregates of the closed months these contacts belong to (survey scores copied
    onto them changed). One read of their months; a drop only when one is closed."""
    ids = sorted(set(contact_ids))
    keys: set[int] = set()
    for start in range(0, len(ids), 500):
        keys.update(
            session.execute(
                sa.select(C.c.start_month)
                .distinct()
                .where(C.c.organisation_id == org.id, C.c.contact_id.in_(ids[start : start + 500]))
            ).scalars()
        )
    drop_months_from(session, org, keys)
