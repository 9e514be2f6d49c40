"""Exact percentiles from ordered index reads agree with the window functions and with Python.

The fast path (``LIMIT 2 OFFSET k`` on the month, month-and-queue and day indexes, from the
nearer end) and the fallback (``ROW_NUMBER`` windows) must give the very same numbers, and both
must be what ``statistics.quantiles(method="inclusive")`` gives, for any group size (1, 2, even,
odd, large), with ties, for every grouping and with a queue filter.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from servicedesk.metrics import percentiles as pct
from servicedesk.metrics.periods import Month
from servicedesk.metrics.queries import figures_by, queue_names, rounded
from tests.helpers import event, ingest

JUNE = Month(2026, 6)


def _calls(seed: int, n: int) -> tuple[list[dict], list[tuple[str, date, float]]]:
    """``n`` answered calls (some unanswered too) over June's first days and three queues."""
    rng = random.Random(seed)
    events, answered = [], []
    for i in range(n):
        day = date(2026, 6, rng.choice([1, 2, 3, 15, 30]))
        queue = rng.choice(["Bygglov", "Skola", "Växel"])
        start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(0, 8 * 3600)
        )
        cid = f"c{seed}-{i}"
        events.append(event("call.queued", cid, start.isoformat(), queue=queue))
        if rng.random() < 0.15:
            continue  # never answered: in offered, not in the percentiles
        # Whole seconds often (ties), milliseconds sometimes.
        wait = rng.choice([float(rng.randrange(0, 40)), round(rng.expovariate(1 / 60), 3)])
        events.append(event("call.answered", cid, (start + timedelta(seconds=wait)).isoformat()))
        answered.append((queue, day, wait))
    return events, answered


def _python(values: list[float]) -> list[float | None]:
    if not values:
        return [None, None]
    if len(values) == 1:
        return [rounded(values[0])] * 2
    q = statistics.quantiles(values, n=10, method="inclusive")
    return [rounded(q[4]), rounded(q[8])]


def _waits(figs: dict) -> list[float | None]:
    return [figs["wait_seconds"]["median"], figs["wait_seconds"]["p90"]]


@pytest.mark.parametrize("seed,n", [(1, 1), (2, 2), (3, 7), (4, 120)])
def test_index_reads_agree_with_python(db, org, seed, n) -> None:
    events, answered = _calls(seed, n)
    ingest(db, org, *events)
    names = {name: qid for qid, name in queue_names(db, org).items()}
    bys = [None, "queue", "day", "queue_day"]
    got = figures_by(db, org, JUNE.first, JUNE.last, bys, parts=("phone",))

    by_queue, by_day, by_cell = defaultdict(list), defaultdict(list), defaultdict(list)
    for queue, day, wait in answered:
        by_queue[names[queue]].append(wait)
        by_day[day].append(wait)
        by_cell[(names[queue], day)].append(wait)
    assert _waits(got[None]) == _python([w for _, _, w in answered])
    for qid, figs in got["queue"].items():
        assert _waits(figs) == _python(by_queue.get(qid, [])), qid
    for day, figs in got["day"].items():
        assert _waits(figs) == _python(by_day.get(day, [])), day
    for cell, figs in got["queue_day"].items():  # the window-function fallback
        assert _waits(figs) == _python(by_cell.get(cell, [])), cell

    # One day alone (its own index), one queue alone (the month-and-queue index), two queues
    # together and a week (no index orders them: the fallback).
    one_day = figures_by(db, org, date(2026, 6, 1), date(2026, 6, 1), [None], parts=("phone",))
    assert _waits(one_day[None]) == _python(by_day.get(date(2026, 6, 1), []))
    for qid in names.values():
        alone = figures_by(db, org, JUNE.first, JUNE.last, [None], [qid], parts=("phone",))
        assert _waits(alone[None]) == _python(by_queue.get(qid, []))
    two = sorted(names.values())[:2]
    both = figures_by(db, org, JUNE.first, JUNE.last, [None], two, parts=("phone",))
    assert _waits(both[None]) == _python([w for qid in two for w in by_queue.get(qid, [])])
    week = figures_by(db, org, date(2026, 6, 1), date(2026, 6, 7), [None], parts=("phone",))
    early = [w for _, d, w in answered if d <= date(2026, 6, 7)]
    assert _waits(week[None]) == _python(early)


def test_fast_path_and_fallback_choose_as_documented(org) -> None:
    first, last = JUNE.first, JUNE.last
    assert pct._index_conds(None, None, org, "phone", first, last, None) is not None
    assert pct._index_conds("queue", 3, org, "phone", first, last, None) is not None
    assert pct._index_conds("day", first, org, "phone", first, last, [3]) is None
    assert pct._index_conds("queue_day", (3, first), org, "phone", first, last, None) is None
    assert pct._index_conds(None, None, org, "phone", first, date(2026, 6, 7), None) is None
    assert pct._index_conds("queue", 3, org, "phone", first, first, None) is None


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 9, 10, 11, 100])
def test_interpolation_ranks(n) -> None:
    values = [float(v * v) for v in range(n)]
    points = dict(enumerate(values))
    for fraction, index in ((pct.MEDIAN, 4), (pct.P90, 8)):
        expected = values[0] if n == 1 else statistics.quantiles(values, n=10, method="inclusive")
        want = expected if n == 1 else expected[index]
        assert pct.interpolate(points, n, fraction) == pytest.approx(want)
