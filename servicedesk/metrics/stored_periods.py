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

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.metrics.arithmetic import rounded
from servicedesk.metrics.cells import CHANNEL_FIGURES, Cells, contact_cells
from servicedesk.metrics.figures import _channel_sections, _with_surveys, roomy_session
from servicedesk.metrics.groups import C, period
from servicedesk.metrics.handling import HANDLE, empty_handle, handled_calls
from servicedesk.metrics.month_store import MonthData, months_data, running_month
from servicedesk.metrics.percentiles import MEDIAN, Fraction, _ranks, interpolate
from servicedesk.metrics.periods import Month
from servicedesk.metrics.surveys import SurveyCells, survey_cells
from servicedesk.orgs.models import Organisation

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
    """What the stored months and the live ranges of a period add up to."""

    def __init__(self) -> None:
        self.cells: Cells = {}
        self.surveys = SurveyCells({}, {}, {})
        self.values: Values = {"phone": {}, "email": {}, "handle": {}}

    def add_stored(self, data: MonthData, a: date, b: date, ids: list[int] | None) -> None:
        for (q, d), cell in data.cells.items():
            if a <= d <= b and _in(ids, q):
                self.cells[(q, d)] = cell
        for mine, theirs in _survey_parts(self.surveys, data.surveys):
            for (q, d), value in theirs.items():
                if a <= d <= b and _in(ids, q):
                    mine[(q, d)] = value
        for kind, (values, segments) in data.values.items():
            per_queue = self.values[kind]
            for (q, d), (start, end) in segments.items():
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
        for channel in ("phone", "email"):
            stmt = sa.select(C.c.queue_id, x).where(
                *period(org, a, b, ids), C.c.channel == channel, x.is_not(None)
            )
            self._add_rows(channel, session.execute(stmt))
        if "handle" in parts:
            stmt = sa.select(C.c.queue_id, HANDLE).where(*handled_calls(org, a, b, ids))
            self._add_rows("handle", session.execute(stmt))

    def _add_rows(self, kind: str, rows: Any) -> None:
        per_queue: dict[Any, list[float]] = {}
        for queue_id, value in rows:
            per_queue.setdefault(queue_id, []).append(value)
        for queue_id, values in per_queue.items():
            self.values[kind].setdefault(queue_id, []).append(np.asarray(values, dtype=np.float64))

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
    return {"calls": n, "mean": rounded(math.fsum(values.tolist()) / n), "median": rounded(median)}


def period_parts(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: list[int] | None,
    parts: Sequence[str] = ("phone", "email", "survey", "handle"),
    build: bool = False,
) -> PeriodParts:
    """The period's cells, survey cells and values: stored months and live ranges together
    (``build``: see ``month_store.months_data``)."""
    stored, live = plan(session, org, first, last, build)
    out = PeriodParts()
    with roomy_session(session):
        for data, a, b in stored:
            out.add_stored(data, a, b, queue_ids)
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
    parts = period_parts(session, org, first, last, queue_ids, build=build)
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
