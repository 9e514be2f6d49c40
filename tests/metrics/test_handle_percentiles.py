"""The handle time's median over several months (``percentiles.walk_parts``: each month's
ordered index range, the values below the months' smallest median counted, the few between the
smallest and largest months' medians sorted) is Python's median of the same calls, whatever the
months' sizes and spread: months far apart (the median outside some months' bounds), a month of
one call, ties, a queue filter, per queue and per agent, over whole months and other dates."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest

from servicedesk.metrics.handling import handle_times
from servicedesk.metrics.queries import queue_names, rounded
from tests.helpers import event, ingest

#: (month, calls, handle times drawn around this many seconds)
MONTHS = [(4, 1, 5000.0), (5, 40, 60.0), (6, 25, 900.0)]


def _calls(seed: int) -> tuple[list[dict], list[tuple[date, str, str, float]]]:
    rng = random.Random(seed)
    events, handled = [], []
    for month, n, around in MONTHS:
        for i in range(n):
            day = date(2026, month, rng.choice([1, 10, 20, 30]))
            start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(0, 6 * 3600)
            )
            cid = f"h{seed}-{month}-{i}"
            queue, agent = rng.choice(["Bygglov", "Skola"]), rng.choice(["a1", "a2", "a3"])
            # Whole seconds often (ties), microseconds sometimes.
            talk = rng.choice(
                [float(rng.randrange(1, 30)) * 10, round(rng.expovariate(1 / around), 6)]
            )
            answered = start + timedelta(seconds=rng.randrange(0, 90))
            events += [
                event("call.queued", cid, start.isoformat(), queue=queue),
                event("call.answered", cid, answered.isoformat(), agent=agent),
                event("call.ended", cid, (answered + timedelta(seconds=talk)).isoformat()),
            ]
            handled.append((day, queue, agent, talk))
    return events, handled


def _python(values: list[float]) -> dict:
    if not values:
        return {"calls": 0, "mean": None, "median": None}
    return {
        "calls": len(values),
        "mean": rounded(sum(values) / len(values)),
        "median": rounded(statistics.median(values)),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 4, 1), date(2026, 6, 30)), (date(2026, 4, 15), date(2026, 6, 10)),
     (date(2026, 5, 1), date(2026, 6, 30))],
)  # fmt: skip
def test_handle_median_over_months_is_pythons(db, org, seed, first, last) -> None:
    events, handled = _calls(seed)
    ingest(db, org, *events)
    inside = [h for h in handled if first <= h[0] <= last]
    assert handle_times(db, org, first, last) == _python([h[3] for h in inside])
    by_queue = handle_times(db, org, first, last, by="queue")
    by_agent = handle_times(db, org, first, last, by="agent")
    names = queue_names(db, org)
    for agent in ("a1", "a2", "a3"):
        assert by_agent.get(agent, _python([])) == _python([h[3] for h in inside if h[2] == agent])
    assert {names[q] for q in by_queue} == {h[1] for h in inside}
    for queue_id, figs in by_queue.items():
        assert figs == _python([h[3] for h in inside if h[1] == names[queue_id]])
        # The same figures with the queue as a filter.
        assert handle_times(db, org, first, last, [queue_id]) == figs
