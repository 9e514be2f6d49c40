"""A long period's figures from the closed months' stored aggregates plus the rest, read live.

A period is split (``split``) into the closed months it covers for at least ``MIN_DAYS`` days,
read from their aggregates (``metrics.month_store``, built on first use), and the remaining
day ranges (the running month, short edges), computed from the contacts as before. Both give
the same things: additive (queue, day) cells, survey cells, and for the percentiles the values
themselves (the stored arrays, and for the live ranges the values read off the covering
indexes). The medians and 90th percentiles of the union are then taken at the same ranks with
the same interpolation as the walks over the contacts (``percentiles.interpolate``), so a period
computed this way has exactly the figures of ``figures_by`` + ``handle_times_by`` over its
contacts (a property test holds the two together, on both engines).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from servicedesk.metrics.arithmetic import rounded
from servicedesk.metrics.cells import CHANNEL_FIGURES, Cells, contact_cells
from servicedesk.metrics.figures import _channel_sections, _with_surveys, roomy_session
from servicedesk.metrics.groups import C, period
from servicedesk.metrics.handling import HANDLE, empty_handle, handled_calls
from servicedesk.metrics.models import running_month
from servicedesk.metrics.month_store import NO_QUEUE, MonthData, months_data
from servicedesk.metrics.percentiles import MEDIAN, Fraction, _ranks, interpolate
from servicedesk.metrics.periods import Month
from servicedesk.metrics.surveys import SurveyCells, survey_cells
from servicedesk.orgs.models import Organisation
from servicedesk.statements import DriverStatement

#: A closed month is read from its aggregates when the period covers at least this many of its
#: days; a shorter edge is read from the contacts (a few days' rows cost less than a month's
#: aggregates).
MIN_DAYS = 7

Ranges = list[tuple[date, date]]
#: {kind: {queue id: [arrays of values]}}
Values = dict[str, dict[Any, list[np.ndarray]]]


def split(
    org: Organisation, first: date, last: date
) -> tuple[list[tuple[Month, date, date]], Ranges]:
    """([(closed month, first day, last day)] read from aggregates, [day ranges] read live)."""
    running = running_month(org)
    stored: list[tuple[Month, date, date]] = []
    live: Ranges = []
    month = Month.of(first)
    while month.first <= last:
        a, b = max(first, month.first), min(last, month.last)
        if month < running and (b - a).days + 1 >= MIN_DAYS:
            stored.append((month, a, b))
        elif live and live[-1][1] + timedelta(1) == a:
            live[-1] = (live[-1][0], b)
        else:
            live.append((a, b))
        month = month.next()
    return stored, live


def worth_storing(org: Organisation, first: date, last: date) -> bool:
    """Whether any closed month of the period would be read from its aggregates."""
    return bool(split(org, first, last)[0])


def plan(
    session: Session, org: Organisation, first: date, last: date, build: bool
) -> tuple[list[tuple[MonthData, date, date]], Ranges]:
    """([(a closed month's aggregates, first day, last day)], [day ranges to read live]): the
    months without aggregates (when not ``build``ing them) are read live too."""
    stored, live = split(org, first, last)
    months = months_data(session, org, [m for m, _, _ in stored], build)
    found = [(months[m], a, b) for m, a, b in stored if m in months]
    live += [(a, b) for m, a, b in stored if m not in months]
    return found, live


def _in(queue_ids: list[int] | None, queue_id: Any) -> bool:
    return queue_ids is None or queue_id in queue_ids


def _survey_parts(mine: SurveyCells, theirs: SurveyCells) -> list[tuple[dict[Any, Any], Any]]:
    """The three dicts of two survey cell sets, side by side."""
    return [(mine.scores, theirs.scores), (mine.responding, theirs.responding),
            (mine.filters, theirs.filters)]  # fmt: skip


class PeriodParts:
    """What the stored months and the live ranges of a period add up to. With ``days``, the
    cells are per (queue, day) (the charts over the period's days); without, a whole stored
    month adds its per-queue roll-ups (keyed by its first day), which is all the figures of
    the whole period and of its queues need."""

    def __init__(self, days: bool = True) -> None:
        self.days = days
        self.cells: Cells = {}
        self.surveys = SurveyCells({}, {}, {})
        self.values: Values = {"phone": {}, "email": {}, "handle": {}}

    def add_stored(
        self, data: MonthData, a: date, b: date, ids: list[int] | None, parts: Sequence[str]
    ) -> None:
        whole = not self.days and (a.day == 1 and (b + timedelta(1)).day == 1)
        cells = data.month_cells if whole else data.cells
        for (q, d), cell in cells.items():
            if a <= d <= b and _in(ids, q):
                self.cells[(q, d)] = cell
        if "survey" in parts:
            surveys = data.month_surveys if whole else data.surveys
            for mine, theirs in _survey_parts(self.surveys, surveys):
                for (q, d), value in theirs.items():
                    if a <= d <= b and _in(ids, q):
                        mine[(q, d)] = value
        for kind, values in data.arrays.items():
            if kind == "handle" and "handle" not in parts:
                continue
            per_queue = self.values[kind]
            if whole:
                for q, (start, end) in data.queue_ranges(kind).items():
                    if _in(ids, q) and end > start:
                        per_queue.setdefault(q, []).append(values[start:end])
                continue
            for (q, d), (start, end) in data.segments[kind].items():
                if a <= d <= b and _in(ids, q) and end > start:
                    per_queue.setdefault(q, []).append(values[start:end])

    def add_live(
        self, session: Session, org: Organisation, a: date, b: date, ids: list[int] | None,
        parts: Sequence[str],
    ) -> None:  # fmt: skip
        self.cells.update(contact_cells(session, org, a, b, ids))
        if "survey" in parts:
            live = survey_cells(session, org, a, b, ids)
            for mine, theirs in _survey_parts(self.surveys, live):
                mine.update(theirs)
        x = C.c.answer_seconds
        # Numbers as the driver gives them (no result conversion): numpy takes them as floats.
        queue = sa.type_coerce(sa.func.coalesce(C.c.queue_id, NO_QUEUE), NullType())
        # Every queue's rows are read (the queue scope is applied below, in numpy: the driver
        # statement takes no lists).
        for channel in ("phone", "email"):
            stmt = sa.select(queue, sa.type_coerce(x, NullType())).where(
                *period(org, a, b, None), C.c.channel == channel, x.is_not(None)
            )
            self._add_rows(channel, session, stmt, ids)
        if "handle" in parts:
            # Month by month: one month key each (the handle-time index leads with it).
            month = Month.of(a)
            while month.first <= b:
                conds = handled_calls(org, max(a, month.first), min(b, month.last), None)
                stmt = sa.select(queue, sa.type_coerce(HANDLE, NullType())).where(*conds)
                self._add_rows("handle", session, stmt, ids)
                month = month.next()

    def _add_rows(self, kind: str, session: Session, stmt: Any, ids: list[int] | None) -> None:
        """(queue id or ``NO_QUEUE``, value) rows, fetched in one go on the driver's cursor
        (tens of thousands for a running month) and split per queue in numpy."""
        conn = session.connection()
        rows = DriverStatement(stmt, conn.dialect).execute(conn, {})
        if not rows:
            return
        table = np.asarray(rows, dtype=np.float64)
        if ids is not None:
            table = table[np.isin(table[:, 0], np.asarray(ids, dtype=np.float64))]
        queues, values = table[:, 0], table[:, 1]
        if not len(values):
            return
        order = np.argsort(queues, kind="stable")
        queues, values = queues[order], values[order]
        keys, starts = np.unique(queues, return_index=True)
        ends = [*starts[1:], len(values)]
        for key, start, end in zip(keys, starts, ends, strict=True):
            q = None if key == NO_QUEUE else int(key)
            self.values[kind].setdefault(q, []).append(values[start:end])

    def union(
        self, kind: str, queue_id: Any = ..., queue_ids: list[int] | None = None
    ) -> np.ndarray:
        """The values of one queue (or of all, ``...``) of a kind, unsorted."""
        per_queue = self.values[kind]
        arrays = (
            [a for arrays in per_queue.values() for a in arrays]
            if queue_id is ...
            else per_queue.get(queue_id, [])
        )
        return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.float64)


def exact_percentiles(values: np.ndarray, fractions: Sequence[Fraction]) -> list[float | None]:
    """The percentiles of the values (interpolated between closest ranks, as the walks over the
    contacts give them): a partial sort at the ranks needed."""
    n = len(values)
    if n == 0:
        return [None] * len(fractions)
    ranks: set[int] = set()
    for f in fractions:
        lo, rest = _ranks(n, f)
        ranks.update([lo, lo + 1] if rest else [lo])
    kth = sorted(ranks)
    parted = np.partition(values, kth)
    points = {k: float(parted[k]) for k in kth}
    return [interpolate(points, n, f) for f in fractions]


def _handle(values: np.ndarray) -> dict[str, Any]:
    n = len(values)
    if not n:
        return empty_handle()
    median = exact_percentiles(values, [MEDIAN])[0]
    return {"calls": n, "mean": rounded(float(np.sum(values)) / n), "median": rounded(median)}


def period_parts(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: list[int] | None,
    parts: Sequence[str] = ("phone", "email", "survey", "handle"),
    build: bool = False,
    days: bool = True,
) -> PeriodParts:
    """The period's cells, survey cells and values: stored months and live ranges together
    (``build``: see ``month_store.months_data``)."""
    stored, live = plan(session, org, first, last, build)
    out = PeriodParts(days)
    with roomy_session(session):
        for data, a, b in stored:
            out.add_stored(data, a, b, queue_ids, parts)
        for a, b in live:
            out.add_live(session, org, a, b, queue_ids, parts)
    return out


def stored_figures_by(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    bys: Sequence[str | None],
    queue_ids: list[int] | None,
    build: bool = False,
) -> tuple[dict[str | None, Any], dict[str | None, Any]]:
    """``figures_by(..., bys)`` and ``handle_times_by(..., bys)`` of the period (``bys``: None
    and "queue"), from the stored months and the live ranges."""
    parts = period_parts(session, org, first, last, queue_ids, build=build, days=False)
    queues = sorted({q for q, _ in parts.cells}, key=lambda q: (q is not None, q or 0))
    times: dict[str, dict[str | None, dict[Any, list[float | None]]]] = {}
    for channel in CHANNEL_FIGURES:
        per: dict[str | None, dict[Any, list[float | None]]] = {}
        for by in bys:
            if by is None:
                per[None] = {
                    None: exact_percentiles(parts.union(channel.name), channel.percentiles)
                }
            else:
                per[by] = {
                    q: exact_percentiles(parts.union(channel.name, q), channel.percentiles)
                    for q in queues
                }
        times[channel.name] = per
    groups: dict[str | None, Any] = {}
    handles: dict[str | None, Any] = {}
    for by in bys:
        sections = _with_surveys(_channel_sections(org, by, parts.cells, times), by, parts.surveys)
        groups[by] = sections[None] if by is None else sections
        if by is None:
            handles[None] = _handle(parts.union("handle"))
        else:
            handles[by] = {
                q: _handle(parts.union("handle", q))
                for q in parts.values["handle"]
                if len(parts.union("handle", q))
            }
    return groups, handles


def stored_cells(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: list[int] | None,
    build: bool = False,
) -> Cells:
    """The period's additive (queue, day) cells, the closed months' from their aggregates."""
    stored, live = plan(session, org, first, last, build)
    cells: Cells = {}
    for data, a, b in stored:
        for (q, d), cell in data.cells.items():
            if a <= d <= b and _in(queue_ids, q):
                cells[(q, d)] = cell
    with roomy_session(session):
        for a, b in live:
            cells.update(contact_cells(session, org, a, b, queue_ids))
    return cells


def bucket_counts(values: np.ndarray, bounds: Sequence[float]) -> list[int]:
    """Counts of values <= the first bound, between each two bounds (above the lower, at most
    the upper), and above the last: ``dashboard.queries``' buckets, from the values."""
    index = np.searchsorted(np.asarray(bounds, dtype=np.float64), values, side="left")
    return [int(n) for n in np.bincount(index, minlength=len(bounds) + 1)]
