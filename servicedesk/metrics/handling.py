"""Handle time: how long an answered call lasted, from its answer to its end (docs/metrics.md,
"Handle time"), as a mean and a median per group.

Not a figure of the frozen monthly report (KKiK and Servicemätning have no such figure, and a
new key would change every report's checksum): the pages, the reports API's periods and the
staffing advice read it from here. The seconds are computed inside the database from the stored
``answered_at`` and ``ended_at`` (UTC instants), and the median is ranked there with window
functions: only one or two rows per group leave it.
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
from servicedesk.metrics.groups import C, id_list, period
from servicedesk.metrics.percentiles import MEDIAN, interpolate
from servicedesk.orgs.models import Organisation


class seconds_between(FunctionElement[float]):  # noqa: N801  (an SQL function's name)
    """``end - start`` in seconds, for two timestamp columns, on either engine."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _pg_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


#: A call's handle time (s): answered -> ended, phone calls answered and ended in that order.
HANDLE = seconds_between(C.c.answered_at, C.c.ended_at)
#: The groupings handle time is given for.
GROUP_COLUMNS = {None: None, "queue": C.c.queue_id, "agent": C.c.agent}


def handled_calls(
    org: Organisation, start: date, end: date, queue_ids: list[int] | None
) -> list[Any]:
    """The conditions of the calls with a handle time, started in ``start``..``end``."""
    return [
        *period(org, start, end, queue_ids),
        C.c.channel == "phone",
        C.c.answered_at.is_not(None),
        C.c.ended_at.is_not(None),
        C.c.ended_at >= C.c.answered_at,
    ]


def empty_handle() -> dict[str, Any]:
    return {"calls": 0, "mean": None, "median": None}


def _group_column(by: str | None) -> Any:
    column = GROUP_COLUMNS[by]
    return sa.literal(0) if column is None else column


def handle_times_by(
    session: Session,
    org: Organisation,
    start: date,
    end: date,
    queue_ids: Iterable[int] | None = None,
    bys: Iterable[str | None] = (None,),
) -> dict[str | None, Any]:
    """``handle_times`` for several groupings at once: one read of the period's calls, one
    window per grouping over the same rows. Returns ``{by: result}``."""
    groupings = list(bys)
    for by in groupings:
        if by not in GROUP_COLUMNS:
            raise ValueError(f"by must be one of {tuple(GROUP_COLUMNS)}")
    ids = id_list(queue_ids)
    keys = [_group_column(by).label(f"g{i}") for i, by in enumerate(groupings)]
    base = (
        sa.select(*keys, HANDLE.label("x")).where(*handled_calls(org, start, end, ids)).subquery()
    )
    num, den = MEDIAN
    windows = []
    for i, by in enumerate(groupings):
        partition = [base.c[f"g{i}"]] if by is not None else None
        windows += [
            (sa.func.row_number().over(partition_by=partition, order_by=base.c.x) - 1).label(
                f"rn{i}"
            ),
            sa.func.count().over(partition_by=partition).label(f"n{i}"),
            sa.func.sum(base.c.x).over(partition_by=partition).label(f"t{i}"),
        ]
    ranked = sa.select(*(base.c[f"g{i}"] for i in range(len(groupings))), base.c.x, *windows)
    ranked_q = ranked.subquery()
    wanted = []
    for i in range(len(groupings)):
        rn, n = ranked_q.c[f"rn{i}"], ranked_q.c[f"n{i}"]
        lo = ((n - 1) * num).op("/")(den)
        wanted += [rn == lo, rn == lo + 1]
    rows = session.execute(sa.select(ranked_q).where(sa.or_(*wanted))).mappings().all()
    result: dict[str | None, Any] = {}
    for i, by in enumerate(groupings):
        points: dict[Any, dict[int, float]] = {}
        sizes: dict[Any, tuple[int, float]] = {}
        for row in rows:
            g, rank, size = row[f"g{i}"], int(row[f"rn{i}"]), int(row[f"n{i}"])
            low = (size - 1) * num // den
            if rank in (low, low + 1):
                points.setdefault(g, {})[rank] = float(row["x"])
                sizes[g] = (size, float(row[f"t{i}"]))
        groups = {
            g: {
                "calls": n,
                "mean": rounded(total / n),
                "median": rounded(interpolate(points[g], n, MEDIAN)),
            }
            for g, (n, total) in sizes.items()
        }
        result[by] = groups.get(0, empty_handle()) if by is None else groups
    return result


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
