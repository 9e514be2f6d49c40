"""Handle time: how long an answered call lasted, from its answer to its end (docs/metrics.md,
"Handle time"), as a mean and a median per group.

Not a figure of the frozen monthly report (KKiK and Servicemätning have no such figure, and a
new key would change every report's checksum): the pages, the reports API's periods and the
staffing advice read it from here. The fold stores each call's handle time on the contact
(``handle_seconds``, as it stores the wait), and two partial indexes keep the handled calls
ordered by it per month and per month and queue, with the day alongside. So the counts and sums
are one grouped pass over an index, and the median is read as the monthly report reads the
wait's (``servicedesk.metrics.percentiles.walk``): ``ORDER BY handle_seconds LIMIT OFFSET`` on
the index, no sort for a month, a merge of the months' ranges for other periods. Only the
per-agent median, which no index orders, ranks the period's calls with window functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from servicedesk.metrics.arithmetic import rounded
from servicedesk.metrics.groups import C, id_list
from servicedesk.metrics.percentiles import MEDIAN, interpolate, walk_parts
from servicedesk.metrics.periods import Month
from servicedesk.orgs.models import Organisation

#: A call's handle time (s), as the fold stored it: answered -> ended, phone calls answered and
#: ended in that order (None for every other contact).
HANDLE = C.c.handle_seconds
#: The groupings handle time is given for.
GROUP_COLUMNS = {None: None, "queue": C.c.queue_id, "agent": C.c.agent}


def month_keys(start: date, end: date) -> list[int]:
    """The month keys (202601 ...) of the months ``start``..``end`` touches."""
    keys = []
    month, last = Month.of(start), Month.of(end)
    while True:
        keys.append(month.year * 100 + month.month)
        if month == last:
            return keys
        month = month.next()


class unindexed(FunctionElement[date]):  # noqa: N801  (an SQL construct's name)
    """A date column that SQLite's planner must not pick an index for (``+start_date``: the
    unary plus is SQLite's documented way to say so); the column itself elsewhere.

    Given a day range, SQLite prefers the day index of the answer times, which does not hold
    the handle time, and reads every row of the period from the table; the handle-time indexes
    lead with the month instead and hold the day, so the range is checked inside them."""

    type = sa.Date()
    inherit_cache = True
    name = "unindexed"


@compiles(unindexed)
def _plain(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _sqlite_unindexed(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def handled_calls(
    org: Organisation, start: date, end: date, queue_ids: list[int] | None
) -> list[Any]:
    """The conditions of the calls with a handle time, started in ``start``..``end`` (local
    dates, in the given queues when ``queue_ids`` is not None): by the month keys and
    ``handle_seconds IS NOT NULL``, so that the planners walk the partial handle-time indexes
    (whose leading columns those are), with the day range checked inside them."""
    months = month_keys(start, end)
    in_month = C.c.start_month == months[0] if len(months) == 1 else C.c.start_month.in_(months)
    return [*_handled(org, start, end, queue_ids), in_month]


def _handled(org: Organisation, start: date, end: date, queue_ids: list[int] | None) -> list[Any]:
    """``handled_calls`` without the month keys (the median walks the months one by one)."""
    day = unindexed(C.c.start_date)
    conds = [C.c.organisation_id == org.id, day >= start, day <= end, HANDLE.is_not(None)]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(queue_ids))
    return conds


def empty_handle() -> dict[str, Any]:
    return {"calls": 0, "mean": None, "median": None}


def _month_sizes(
    session: Session, conds: list[Any], by: str | None
) -> dict[Any, dict[int, tuple[int, float]]]:
    """{group: {month key: (calls, sum of their handle times)}}, one pass over the index."""
    column = GROUP_COLUMNS[by]
    key = sa.literal(0) if column is None else column
    stmt = (
        sa.select(
            key.label("g"),
            C.c.start_month.label("m"),
            sa.func.count(HANDLE).label("n"),
            sa.func.sum(HANDLE).label("total"),
        )
        .where(*conds)
        .group_by(*([] if column is None else [column]), C.c.start_month)
    )
    out: dict[Any, dict[int, tuple[int, float]]] = {}
    for row in session.execute(stmt):
        if row.n:
            out.setdefault(row.g if column is not None else 0, {})[row.m] = (
                int(row.n),
                float(row.total),
            )
    return out


def _totals(months: dict[int, tuple[int, float]]) -> tuple[int, float]:
    return sum(n for n, _ in months.values()), sum(t for _, t in months.values())


def _ranked_medians(session: Session, conds: list[Any], by: str) -> dict[Any, float | None]:
    """The median per group of a grouping no index orders (the agent): ``ROW_NUMBER`` and
    ``COUNT`` windows rank the period's handle times inside the database, and only the rows at
    the ranks the median needs leave it."""
    column = GROUP_COLUMNS[by]
    assert column is not None, "a grouping, not the whole period"
    base = sa.select(column.label("g"), HANDLE.label("x")).where(*conds).subquery()
    num, den = MEDIAN
    rn = (sa.func.row_number().over(partition_by=base.c.g, order_by=base.c.x) - 1).label("rn")
    n = sa.func.count().over(partition_by=base.c.g).label("n")
    ranked = sa.select(base.c.g, base.c.x, rn, n).subquery()
    lo = ((ranked.c.n - 1) * num).op("/")(den)
    stmt = sa.select(ranked).where(sa.or_(ranked.c.rn == lo, ranked.c.rn == lo + 1))
    points: dict[Any, dict[int, float]] = {}
    sizes: dict[Any, int] = {}
    for row in session.execute(stmt):
        points.setdefault(row.g, {})[int(row.rn)] = float(row.x)
        sizes[row.g] = int(row.n)
    return {g: interpolate(points[g], size, MEDIAN) for g, size in sizes.items()}


def _queue_is(queue_id: Any) -> Any:
    return C.c.queue_id.is_(None) if queue_id is None else C.c.queue_id == queue_id


def handle_times_by(
    session: Session,
    org: Organisation,
    start: date,
    end: date,
    queue_ids: Iterable[int] | None = None,
    bys: Iterable[str | None] = (None,),
) -> dict[str | None, Any]:
    """``handle_times`` for several groupings at once. Returns ``{by: result}``."""
    groupings = list(bys)
    for by in groupings:
        if by not in GROUP_COLUMNS:
            raise ValueError(f"by must be one of {tuple(GROUP_COLUMNS)}")
    ids = id_list(queue_ids)
    conds = handled_calls(org, start, end, ids)
    # The median walks each month's ordered range (walk_parts), the counts read them all.
    walked = [*_handled(org, start, end, ids), C.c.start_month.in_(month_keys(start, end))]
    result: dict[str | None, Any] = {}
    keys = month_keys(start, end)
    per_month: dict[str | None, dict[Any, dict[int, tuple[int, float]]]] = {}
    for by in ("queue", "agent"):
        if by in groupings:
            per_month[by] = _month_sizes(session, conds, by)
    if None in groupings:
        # The whole period's counts are the queues' when those are read anyway.
        per_month[None] = (
            {0: _merged(per_month["queue"].values())} if "queue" in per_month else
            _month_sizes(session, conds, None)
        )  # fmt: skip
        per_month[None] = {g: m for g, m in per_month[None].items() if m}
    for by in groupings:
        sizes = {g: _totals(months) for g, months in per_month[by].items()}
        if by == "agent":
            medians = _ranked_medians(session, conds, by) if sizes else {}
        else:
            # The whole period, or one queue: each month an ordered range of a handle-time
            # index (walk_parts), with the months' sizes from the pass above.
            medians = {
                g: walk_parts(session, walked if by is None else [*walked, _queue_is(g)],
                              [[C.c.start_month == m] for m in keys], n, MEDIAN, HANDLE,
                              [per_month[by][g].get(m, (0, 0.0))[0] for m in keys])
                for g, (n, _) in sizes.items()
            }  # fmt: skip
        groups = {
            g: {"calls": n, "mean": rounded(total / n), "median": rounded(medians[g])}
            for g, (n, total) in sizes.items()
        }
        result[by] = groups.get(0, empty_handle()) if by is None else groups
    return result


def _merged(
    groups: Iterable[dict[int, tuple[int, float]]],
) -> dict[int, tuple[int, float]]:
    """Several groups' per-month (calls, sum) added up per month."""
    out: dict[int, tuple[int, float]] = {}
    for months in groups:
        for m, (n, total) in months.items():
            n0, t0 = out.get(m, (0, 0.0))
            out[m] = (n0 + n, t0 + total)
    return out


def handle_times(
    session: Session,
    org: Organisation,
    start: date,
    end: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
) -> Any:
    """``{"calls", "mean", "median"}`` of the handle time (s) of the calls started in
    ``start``..``end``; with ``by`` ("queue", "agent") a dict of those per group."""
    return handle_times_by(session, org, start, end, queue_ids, [by])[by]
