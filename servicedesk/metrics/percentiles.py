"""Exact percentiles of the contacts' answer times, by walking ordered indexes.

The median and 90th percentile (linear interpolation between closest ranks, percentile_cont)
need the values at one or two ranks of each group. The contacts carry their time to the answer
(``answer_seconds``) in three indexes ordered by it: per (channel, month), per (channel, month,
queue) and per (channel, day). When a group is one of those, the value at rank k is read with
``ORDER BY answer_seconds LIMIT 2 OFFSET k`` on its index: no sort, and from whichever end is
nearer (the 90th percentile walks a tenth of the group, from the top). The group sizes come
from the additive pass, which counted them already.

Groups that no index orders (a week, several queues together, queue and day) fall back on
``ROW_NUMBER`` window functions over the period's rows, one window per grouping: the same
ranks, so the same result, only slower.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.metrics.groups import C, group_key
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation

Fraction = tuple[int, int]

#: Percentile positions as exact fractions (integer arithmetic, the same on both engines).
MEDIAN: Fraction = (1, 2)
P90: Fraction = (9, 10)


def _ranks(n: int, fraction: Fraction) -> tuple[int, int]:
    """(lower rank, numerator of the step to the next one): position (n - 1) * p."""
    num, den = fraction
    return divmod((n - 1) * num, den)


def interpolate(points: dict[int, float], n: int, fraction: Fraction) -> float | None:
    """Linear interpolation between closest ranks (percentile_cont) from the values at ranks."""
    if n == 0:
        return None
    lo, rest = _ranks(n, fraction)
    low = points[lo]
    if rest == 0:
        return low
    return low + (points[lo + 1] - low) * rest / fraction[1]


# ---------------------------------------------------------------------------------------------
# walking an index


def _walk(session: Session, conds: list[Any], n: int, fraction: Fraction) -> float | None:
    """The percentile of the ``n`` answered contacts that ``conds`` select, read off the index
    whose equality prefix they are (the order by ``answer_seconds`` is the index's)."""
    if n == 0:
        return None
    lo, rest = _ranks(n, fraction)
    wanted = 2 if rest else 1
    x = C.c.answer_seconds
    stmt = sa.select(x).where(*conds, x.is_not(None)).limit(wanted)
    if lo < n - lo:
        values = session.execute(stmt.order_by(x).offset(lo)).scalars().all()
    else:
        offset = n - lo - wanted
        values = session.execute(stmt.order_by(x.desc()).offset(offset)).scalars().all()[::-1]
    points = {lo + i: float(v) for i, v in enumerate(values)}
    return interpolate(points, n, fraction)


def whole_months(start: date, end: date) -> list[int] | None:
    """The month keys (202601 ...) when ``start``..``end`` is whole calendar months, else None."""
    month = Month.of(start)
    if start != month.first:
        return None
    keys = []
    while month.last <= end:
        keys.append(month.year * 100 + month.month)
        if month.last == end:
            return keys
        month = month.next()
    return None


def _index_conds(
    by: str | None,
    key: Any,
    org: Organisation,
    channel: str,
    start: date,
    end: date,
    queue_ids: list[int] | None,
) -> list[Any] | None:
    """The equality conditions that make one group an ordered index range, or None."""
    base = [C.c.organisation_id == org.id, C.c.channel == channel]
    months = whole_months(start, end)
    whole_month = months is not None
    # One month: its index range, already in order. Several whole months (a quarter, a year):
    # their index ranges, which the database merges and sorts for the walk; still far less
    # work than ranking every row of the period with window functions.
    in_month = (
        [C.c.start_month == months[0]]
        if months is not None and len(months) == 1
        else [C.c.start_month.in_(months or [])]
    )

    def queue_is(queue_id: Any) -> Any:
        return C.c.queue_id.is_(None) if queue_id is None else C.c.queue_id == queue_id

    if by is None:
        if queue_ids is None and whole_month:
            return base + in_month
        if queue_ids is None and start == end:
            return base + [C.c.start_date == start]
        if queue_ids is not None and len(queue_ids) == 1 and whole_month:
            return base + in_month + [queue_is(queue_ids[0])]
    elif by == "queue" and whole_month:
        return base + in_month + [queue_is(key)]
    elif by == "day" and queue_ids is None:
        return base + [C.c.start_date == key]
    return None


# ---------------------------------------------------------------------------------------------
# the fallback: window functions


def _windowed(
    session: Session,
    base: sa.Select[Any],
    bys: list[str | None],
    fractions: Sequence[Fraction],
) -> dict[str | None, dict[Any, list[float | None]]]:
    """Percentiles of ``base``'s ``x`` per group, for each grouping in ``bys`` at once.

    ``base`` selects ``queue_id``, ``start_date`` and ``x``. ``ROW_NUMBER`` and ``COUNT``
    window functions rank the values inside the database, one window per grouping over the same
    rows; only the rows at the ranks the percentiles need are fetched.
    """
    v = base.subquery("v")
    parts = {None: [], "queue": [v.c.queue_id], "day": [v.c.start_date],
             "queue_day": [v.c.queue_id, v.c.start_date]}  # fmt: skip
    windows = []
    for i, by in enumerate(bys):
        partition = parts[by] or None
        windows += [
            (sa.func.row_number().over(order_by=v.c.x, partition_by=partition) - 1).label(f"rn{i}"),
            sa.func.count().over(partition_by=partition).label(f"n{i}"),
        ]
    ranked = sa.select(v.c.queue_id, v.c.start_date, v.c.x, *windows).subquery("r")
    wanted = []
    for i in range(len(bys)):
        rn, n = ranked.c[f"rn{i}"], ranked.c[f"n{i}"]
        for num, den in fractions:
            lo = ((n - 1) * num).op("/")(den)
            wanted += [rn == lo, rn == lo + 1]
    rows = session.execute(sa.select(ranked).where(sa.or_(*wanted))).all()
    result: dict[str | None, dict[Any, list[float | None]]] = {}
    for i, by in enumerate(bys):
        points: dict[Any, dict[int, float]] = defaultdict(dict)
        counts: dict[Any, int] = {}
        for row in rows:
            key = group_key(by, row.queue_id, row.start_date)
            counts[key] = row._mapping[f"n{i}"]
            points[key][row._mapping[f"rn{i}"]] = float(row.x)
        result[by] = {
            key: [interpolate(points[key], counts[key], f) for f in fractions] for key in counts
        }
    return result


# ---------------------------------------------------------------------------------------------
# together


def percentiles(
    session: Session,
    org: Organisation,
    channel: str,
    start: date,
    end: date,
    queue_ids: list[int] | None,
    sizes: dict[str | None, dict[Any, int]],
    fractions: Sequence[Fraction],
) -> dict[str | None, dict[Any, list[float | None]]]:
    """Percentiles of ``answer_seconds`` of the channel's answered contacts started in
    ``start``..``end`` (restricted to ``queue_ids``), for each grouping in ``sizes``.

    ``sizes`` gives, per grouping, each group's number of answered contacts with a time (from
    the additive pass). Returns ``{by: {group: [value per fraction]}}``.
    """
    result: dict[str | None, dict[Any, list[float | None]]] = {}
    unordered: list[str | None] = []
    for by, groups in sizes.items():
        out: dict[Any, list[float | None]] = {}
        for key, n in groups.items():
            conds = _index_conds(by, key, org, channel, start, end, queue_ids)
            if conds is None:
                unordered.append(by)
                break
            if n:
                out[key] = [_walk(session, conds, n, f) for f in fractions]
        else:
            result[by] = out
    if unordered:
        x = C.c.answer_seconds
        conds = [
            C.c.organisation_id == org.id,
            C.c.channel == channel,
            C.c.start_date >= start,
            C.c.start_date <= end,
            x.is_not(None),
        ]
        if queue_ids is not None:
            conds.append(C.c.queue_id.in_(queue_ids))
        base = sa.select(C.c.queue_id, C.c.start_date, x.label("x")).where(*conds)
        result.update(_windowed(session, base, unordered, fractions))
    return result
