"""The survey statistics: the worked example of docs/metrics.md, and the interval's properties."""

from __future__ import annotations

import doctest
import math
import random
import statistics
from pathlib import Path

import pytest

from servicedesk.metrics.survey_stats import (
    SMALL_SAMPLE,
    ScoreSums,
    confidence_interval,
    filter_figure,
    index,
    question_figure,
    t_quantile,
)
from servicedesk.surveys.rules import in_quiet_hours, next_send_time

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_the_worked_example_in_docs_metrics_md() -> None:
    result = doctest.testfile(str(DOCS), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 7 and result.failed == 0


@pytest.mark.parametrize(("df", "table"), [(1, 12.706), (10, 2.228), (30, 2.042),
                                           (40, 2.021), (60, 2.000), (120, 1.980)])  # fmt: skip
def test_t_quantiles_match_the_tables(df: int, table: float) -> None:
    assert t_quantile(df) == pytest.approx(table, abs=0.0015)


def test_interval_against_a_direct_computation() -> None:
    rng = random.Random(7)
    for _ in range(200):
        scores = [rng.choice([1, 2, 3, 4, 4, 5, 5]) for _ in range(rng.randint(2, 400))]
        values = [(s - 1) * 25 for s in scores]
        sums = ScoreSums.of_scores(scores)
        assert index(sums) == pytest.approx(statistics.fmean(values), abs=0.0051)
        interval = confidence_interval(sums)
        assert interval is not None
        half = t_quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
        assert interval[0] == pytest.approx(max(0, statistics.fmean(values) - half), abs=0.006)
        assert interval[1] == pytest.approx(min(100, statistics.fmean(values) + half), abs=0.006)
        assert 0 <= interval[0] <= index(sums) <= interval[1] <= 100


def test_edges_of_the_figure() -> None:
    empty = question_figure(ScoreSums(), None)
    assert empty == {
        "responses": 0,
        "index": None,
        "good_share": None,
        "response_rate": None,
        "ci95": None,
        "small_sample": True,
    }
    one = question_figure(ScoreSums.of_scores([5]), 50.0)
    assert one["index"] == 100.0 and one["ci95"] is None
    many = question_figure(ScoreSums.of_scores([4] * SMALL_SAMPLE), 12.5)
    assert many["small_sample"] is False and many["ci95"] == {"low": 75.0, "high": 75.0}
    assert filter_figure(3, 2) == {"responses": 3, "yes": 2, "yes_share": 66.67}
    assert filter_figure(0, 0)["yes_share"] is None


def test_sums_add_up_by_group() -> None:
    a, b = ScoreSums.of_scores([1, 2, 5]), ScoreSums.of_scores([4, 4])
    assert a + b == ScoreSums.of_scores([1, 2, 5, 4, 4])


def test_quiet_hours_across_the_daylight_saving_changes() -> None:
    from datetime import UTC, datetime

    # Spring: Sunday 29 March 2026, 02:00 -> 03:00 in Stockholm. A call ends 21:30 local on the
    # Saturday (20:30 UTC); quiet 20:00-08:00 and no closed days: sent 08:00 local Sunday,
    # which is 06:00 UTC (summer time), not 07:00.
    due = datetime(2026, 3, 28, 20, 30, tzinfo=UTC)
    assert next_send_time(due, "Europe/Stockholm", "20:00", "08:00", None) == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC
    )
    # Autumn: Sunday 25 October 2026, 03:00 -> 02:00. 08:00 local is 07:00 UTC (winter time).
    due = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    assert next_send_time(due, "Europe/Stockholm", "20:00", "08:00", None) == datetime(
        2026, 10, 25, 7, 0, tzinfo=UTC
    )
    # With weekends and holidays closed, Saturday evening waits for Monday 08:00 local.
    weekday = lambda day: day.weekday() < 5  # noqa: E731
    assert next_send_time(due, "Europe/Stockholm", "20:00", "08:00", weekday) == datetime(
        2026, 10, 26, 7, 0, tzinfo=UTC
    )
    # Outside quiet hours on a working day: at once.
    noon = datetime(2026, 10, 27, 11, 0, tzinfo=UTC)
    assert next_send_time(noon, "Europe/Oslo", "20:00", "08:00", weekday) == noon
    assert in_quiet_hours(datetime(2026, 1, 1, 7, 59), "20:00", "08:00")
    assert not in_quiet_hours(datetime(2026, 1, 1, 8, 0), "20:00", "08:00")
    assert in_quiet_hours(datetime(2026, 1, 1, 23, 0), "22:00", "23:30")
