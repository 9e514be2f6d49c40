"""Staffing advice: how many agents each weekday and hour needs to reach a service level, by
Erlang C, from the arrivals and handle times measured over the last weeks.

For each (weekday, hour) the measured load is the mean number of calls offered in that hour on
that weekday over the weeks looked at, and the mean handle time of those hours' answered calls
(the whole span's mean where an hour has fewer than ``MIN_HANDLED`` handled calls: a mean of a
handful of calls is noise). Erlang C (pyworkforce's ``ErlangC``, docs/metrics.md "Staffing")
then gives the fewest agents that answer ``target`` % of calls within ``seconds``, with the
expected service level, occupancy, probability of waiting and mean wait.

Why pyworkforce: it is the maintained open-source Erlang C implementation on PyPI that computes
locally (MIT licence, tested against its own examples, which tests/metrics/test_staffing.py
repeats); erlangccmath, the other candidate, sends every calculation to a web service. Its limits,
which are Erlang C's: callers never hang up (abandonment is ignored, so the advice errs towards
more agents when many abandon), arrivals are Poisson and steady within the hour, every agent
handles every call, and handle times are exponential. The expected mean wait (ASA) is not part of
pyworkforce's answer; it is the textbook Erlang C formula P(wait) x AHT / (N - A).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from servicedesk.metrics.arithmetic import rounded
from servicedesk.metrics.intervals import Slot, weekday_hours
from servicedesk.orgs.models import Organisation

#: Hours with fewer handled calls than this take the span's mean handle time.
MIN_HANDLED = 30
#: The weeks looked back by default, and the most.
DEFAULT_WEEKS = 8
MAX_WEEKS = 52


@dataclass(frozen=True)
class Staffing:
    """Erlang C's answer for one interval."""

    calls: float
    aht_seconds: float
    #: Agents answering calls (before shrinkage), and agents to schedule (after shrinkage).
    agents: int
    scheduled: int
    service_level: float | None
    occupancy: float | None
    waiting_probability: float | None
    #: The expected mean wait of all calls (s).
    mean_wait: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "aht_seconds": self.aht_seconds,
            "agents": self.agents,
            "scheduled": self.scheduled,
            "service_level": self.service_level,
            "occupancy": self.occupancy,
            "waiting_probability": self.waiting_probability,
            "mean_wait": self.mean_wait,
        }


def erlang_c(
    calls: float,
    aht_seconds: float,
    target: float,
    seconds: float,
    interval_minutes: int = 60,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
) -> Staffing:
    """The fewest agents that answer ``target`` (0-1) of ``calls`` per interval within
    ``seconds``, by pyworkforce's Erlang C; no calls need no agents."""
    if calls <= 0 or aht_seconds <= 0:
        return Staffing(max(calls, 0.0), aht_seconds, 0, 0, None, None, None, None)
    from pyworkforce.queuing import ErlangC  # imports ortools: only when advice is asked for

    erlang = ErlangC(
        transactions=calls,
        aht=aht_seconds / 60,
        asa=max(seconds, 1) / 60,
        interval=interval_minutes,
        shrinkage=shrinkage,
    )
    result = erlang.required_positions(service_level=target, max_occupancy=max_occupancy)
    agents = int(result["raw_positions"])
    intensity = erlang.intensity
    pw = float(result["waiting_probability"])
    mean_wait = pw * aht_seconds / (agents - intensity) if agents > intensity else None
    return Staffing(
        calls=calls,
        aht_seconds=aht_seconds,
        agents=agents,
        scheduled=int(result["positions"]),
        service_level=float(result["service_level"]),
        occupancy=float(result["occupancy"]),
        waiting_probability=pw,
        mean_wait=mean_wait,
    )


def lookback(today: date, weeks: int) -> tuple[date, date]:
    """The ``weeks`` whole weeks before today (Monday to Sunday), so every weekday counts alike."""
    last = today - timedelta(days=today.isoweekday())  # last Sunday
    return last - timedelta(days=7 * weeks - 1), last


def staffing_advice(
    session: Session,
    org: Organisation,
    today: date,
    *,
    weeks: int = DEFAULT_WEEKS,
    target: float,
    seconds: float,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    queue_ids: Iterable[int] | None = None,
) -> dict[tuple[int, int], Staffing]:
    """{(ISO weekday, hour): Staffing} for every weekday and hour with calls in the weeks."""
    first, last = lookback(today, weeks)
    grid = weekday_hours(session, org, first, last, queue_ids)
    total = Slot()
    for slot in grid.values():
        total.add(slot)
    overall = rounded(total.handle_sum / total.handled) if total.handled else None
    out: dict[tuple[int, int], Staffing] = {}
    for key, slot in sorted(grid.items()):
        calls = slot.offered / weeks
        aht = rounded(slot.handle_sum / slot.handled) if slot.handled >= MIN_HANDLED else overall
        if aht is None:
            continue
        out[key] = erlang_c(calls, aht, target, seconds, 60, shrinkage, max_occupancy)
    return out
