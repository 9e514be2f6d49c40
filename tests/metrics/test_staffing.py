"""Staffing advice: Erlang C against pyworkforce's own examples (its tests/test_erlang.py), the
mean wait by hand, and the advice from measured calls (both engines)."""

from __future__ import annotations

from datetime import date

import pytest

from servicedesk.metrics.staffing import erlang_c, lookback, staffing_advice
from tests.helpers import ingest
from tests.metrics.test_periods import answered


def test_pyworkforce_expected_results() -> None:
    """pyworkforce's test_expected_erlangc_results: 100 calls in 30 minutes, AHT 3 min, answer
    within 0.33 min, 80 %, shrinkage 30 %, occupancy at most 85 %."""
    s = erlang_c(100, 180, 0.8, 0.33 * 60, interval_minutes=30, shrinkage=0.3, max_occupancy=0.85)
    assert s.agents == 14
    assert s.scheduled == 20
    assert round(s.service_level, 3) == 0.888
    assert round(s.occupancy, 3) == 0.714
    assert round(s.waiting_probability, 3) == 0.174
    # Mean wait by hand: traffic A = 100 / 30 x 3 = 10 Erlang; P(wait) x AHT / (N - A) =
    # 0.1741 x 180 / 4 = 7.84 s.
    assert s.mean_wait == pytest.approx(0.17413 * 180 / 4, abs=0.01)


def test_pyworkforce_over_occupancy() -> None:
    """pyworkforce's test_over_occupancy_erlangc: at most 70 % occupancy needs 15 (22 rostered)."""
    s = erlang_c(100, 180, 0.8, 0.33 * 60, interval_minutes=30, shrinkage=0.3, max_occupancy=0.7)
    assert (s.agents, s.scheduled) == (15, 22)
    assert round(s.occupancy, 3) == 0.667


def test_no_calls_need_nobody() -> None:
    assert erlang_c(0, 180, 0.8, 60).agents == 0


def test_lookback_is_whole_weeks() -> None:
    # Wednesday 17 June 2026: the 8 weeks are Monday 20 April to Sunday 14 June.
    assert lookback(date(2026, 6, 17), 8) == (date(2026, 4, 20), date(2026, 6, 14))


def test_advice_from_measured_calls(db, org) -> None:
    # Two Mondays (8 and 15 June), 9-10: 2 calls and 4 calls of 120 s each -> 3 calls a Monday
    # 9-10 on average over 2 weeks; with fewer than 30 handled calls the span's mean (120 s).
    calls = []
    for n, day in enumerate(["08", "08", "15", "15", "15", "15"]):
        calls += answered(f"m{n}", f"2026-06-{day}T09:{10 * n:02d}:00+02:00", 10, 120)
    ingest(db, org, *calls)
    advice = staffing_advice(db, org, date(2026, 6, 22), weeks=2, target=0.8, seconds=60)
    assert list(advice) == [(1, 9)]
    monday = advice[(1, 9)]
    assert monday.calls == 3.0
    assert monday.aht_seconds == 120.0
    expected = erlang_c(3.0, 120.0, 0.8, 60)
    assert monday == expected
    # 3 calls of 2 minutes an hour are 0.1 Erlang: one agent answers 80 % within 60 s.
    assert monday.agents == 1
    assert monday.service_level >= 0.8
    # What-if: 95 % within 10 s needs no fewer.
    assert erlang_c(3.0, 120.0, 0.95, 10).agents >= monday.agents
