"""Any period: the periods themselves, and their figures with hand-computed values (a week over
a month boundary, a quarter, a range over the change to summer time), handle time, and a whole
month against its frozen report. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from servicedesk.metrics.handling import handle_times
from servicedesk.metrics.period_figures import compared, daily_counts, period_figures
from servicedesk.metrics.periods import Month, Period
from servicedesk.reports.service import generate_report
from tests.helpers import event, ingest
from tests.metrics.test_queries import call, worked_example

TODAY = date(2026, 7, 15)


# ---------------------------------------------------------------------------------------------
# the periods


@pytest.mark.parametrize(
    ("text", "first", "last", "previous", "year_before"),
    [
        ("2026-03-02", date(2026, 3, 2), date(2026, 3, 2), "2026-03-01", "2025-03-02"),
        ("2026-W27", date(2026, 6, 29), date(2026, 7, 5), "2026-W26", "2025-W27"),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3), "2026-W52", "2025-W52"),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4), "2025-W52", "2025-W01"),
        ("2026-06", date(2026, 6, 1), date(2026, 6, 30), "2026-05", "2025-06"),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4", "2025-Q1"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2025", "2025"),
        ("ytd", date(2026, 1, 1), date(2026, 7, 15), "2025-06-19..2025-12-31", "ytd:2025-07-15"),
        ("ytd:2024-02-29", date(2024, 1, 1), date(2024, 2, 29), "2023-11-02..2023-12-31",
         "ytd:2023-02-28"),
        ("2024-02-28..2024-03-01", date(2024, 2, 28), date(2024, 3, 1), "2024-02-25..2024-02-27",
         "2023-02-28..2023-03-01"),
    ],
)  # fmt: skip
def test_periods(text: str, first: date, last: date, previous: str, year_before: str) -> None:
    period = Period.parse(text, TODAY)
    assert (period.first, period.last) == (first, last)
    assert str(period.previous()) == previous
    assert str(period.year_before()) == year_before
    # The text is the period's name: parsing it again gives the same period.
    assert Period.parse(str(period), TODAY) == period


@pytest.mark.parametrize(
    "text",
    ["", "2026-13", "2026-W54", "2025-W53", "2026-Q5", "2026-02-30", "2026-03-02..2026-03-01",
     "2020-01-01..2026-01-01", "week", "2026-06-01 .. 2026-06-02"],
)  # fmt: skip
def test_bad_periods_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text, TODAY)


def test_a_month_period_is_the_month() -> None:
    assert Period.parse("2026-06", TODAY).as_month() == Month(2026, 6)
    assert Period.parse("2026-W27", TODAY).as_month() is None
    assert Period.of_kind("quarter", date(2026, 5, 20)) == Period.parse("2026-Q2", TODAY)


# ---------------------------------------------------------------------------------------------
# their figures, by hand


def answered(cid: str, queued: str, wait: int, talk: int, direct: bool | None = None) -> list:
    """A call queued at ``queued`` (local ISO), answered after ``wait`` s, ended ``talk`` s on."""
    start = datetime.fromisoformat(queued)
    at = start.timestamp()
    iso = lambda s: datetime.fromtimestamp(at + s, start.tzinfo).isoformat()  # noqa: E731
    return call(cid, queued, iso(wait), iso(wait + talk), direct)


def abandoned(cid: str, queued: str) -> list:
    return call(cid, queued, ended=queued)


def test_a_week_over_a_month_boundary(db, org) -> None:
    ingest(
        db,
        org,
        # ISO week 27 of 2026: Monday 29 June to Sunday 5 July.
        *answered("w1", "2026-06-29T10:00:00+02:00", 20, 300, True),
        *answered("w2", "2026-06-30T16:00:00+02:00", 90, 120, False),
        *abandoned("w3", "2026-07-01T09:00:00+02:00"),
        *answered("w4", "2026-07-05T23:59:00+02:00", 10, 50),
        # Outside: Sunday 28 June (week 26), Monday 6 July (week 28); a year before: week 27 of
        # 2025 is 30 June to 6 July 2025.
        *abandoned("x1", "2026-06-28T12:00:00+02:00"),
        *abandoned("x2", "2026-07-06T00:00:30+02:00"),
        *answered("y1", "2025-07-01T10:00:00+02:00", 5, 60),
    )
    week, before, year = compared(db, org, Period.parse("2026-W27", TODAY))
    phone = week.total["phone"]
    assert phone["offered"] == 4
    assert phone["answered"] == 3
    assert phone["abandon_rate"] == 25.0
    assert phone["service_level"] == 50.0  # 20 s and 10 s within 60 s, of 4
    assert phone["direct_answer_rate"] == 25.0
    # Waits 10, 20, 90: mean 40, median 20, p90 at rank 1.8 -> 20 + 0.8 x 70 = 76.
    assert phone["wait_seconds"] == {"mean": 40.0, "median": 20.0, "p90": 76.0}
    # Handle 50, 120, 300: mean 156.67, median 120.
    assert phone["handle_seconds"] == {"calls": 3, "mean": 156.67, "median": 120.0}
    assert before.period == Period.parse("2026-W26", TODAY)
    assert before.total["phone"]["offered"] == 1
    assert year.period == Period.parse("2025-W27", TODAY)
    assert year.total["phone"]["offered"] == 1
    assert year.total["phone"]["handle_seconds"] == {"calls": 1, "mean": 60.0, "median": 60.0}
    assert [name for name, _ in week.queues] == ["Bygglov"]
    days = daily_counts(db, org, week.period.first, week.period.last)
    assert {d: c["offered"] for d, c in days.items()} == {
        date(2026, 6, 29): 1,
        date(2026, 6, 30): 1,
        date(2026, 7, 1): 1,
        date(2026, 7, 5): 1,
    }


def test_a_quarter_in_local_time(db, org) -> None:
    ingest(
        db,
        org,
        # 1 April 00:10 CEST is 31 March 22:10 UTC: in the second quarter.
        *answered("q1", "2026-04-01T00:10:00+02:00", 10, 100),
        *answered("q2", "2026-05-15T12:00:00+02:00", 40, 200),
        # 30 June 23:50 CEST is still the second quarter.
        *answered("q3", "2026-06-30T23:50:00+02:00", 100, 300),
        # Outside: 31 March 23:30, 1 July 00:05.
        *abandoned("x1", "2026-03-31T23:30:00+02:00"),
        *abandoned("x2", "2026-07-01T00:05:00+02:00"),
    )
    quarter = period_figures(db, org, Period.parse("2026-Q2", TODAY))
    phone = quarter.total["phone"]
    assert phone["offered"] == 3
    assert phone["abandoned"] == 0
    assert phone["service_level"] == 66.67
    # Waits 10, 40, 100: mean 50, median 40, p90 at rank 1.8 -> 40 + 0.8 x 60 = 88.
    assert phone["wait_seconds"] == {"mean": 50.0, "median": 40.0, "p90": 88.0}
    assert phone["handle_seconds"] == {"calls": 3, "mean": 200.0, "median": 200.0}
    before = period_figures(db, org, Period.parse("2026-Q1", TODAY), with_queues=False)
    assert before.total["phone"]["offered"] == 1


def test_a_range_over_the_change_to_summer_time(db, org) -> None:
    """Sweden moves its clocks from 02:00 CET to 03:00 CEST on Sunday 29 March 2026."""
    ingest(
        db,
        org,
        # 28 March 00:30 CET is 27 March 23:30 UTC: a call of the 28th.
        *answered("r1", "2026-03-28T00:30:00+01:00", 20, 80),
        # Queued 01:59:30 CET, answered 03:00:30 CEST: a 60 s wait, not 3,660 s.
        *call(
            "r2",
            "2026-03-29T01:59:30+01:00",
            "2026-03-29T03:00:30+02:00",
            "2026-03-29T03:10:30+02:00",
        ),
        *abandoned("r3", "2026-03-29T03:30:00+02:00"),
        *answered("r4", "2026-03-29T23:30:00+02:00", 30, 200),
        # Outside: 30 March 00:30 CEST (29 March 22:30 UTC) and 27 March 23:30 CET.
        *abandoned("x1", "2026-03-30T00:30:00+02:00"),
        *abandoned("x2", "2026-03-27T23:30:00+01:00"),
    )
    period = Period.parse("2026-03-28..2026-03-29", TODAY)
    phone = period_figures(db, org, period).total["phone"]
    assert phone["offered"] == 4
    assert phone["answered"] == 3
    assert phone["service_level"] == 75.0  # 20, 60 and 30 s are within 60 s
    assert phone["wait_seconds"] == {"mean": 36.67, "median": 30.0, "p90": 54.0}
    # Handle 80, 600 (03:00:30 to 03:10:30 CEST), 200: mean 293.33, median 200.
    assert phone["handle_seconds"] == {"calls": 3, "mean": 293.33, "median": 200.0}
    assert {
        d: c["offered"] for d, c in daily_counts(db, org, period.first, period.last).items()
    } == {
        date(2026, 3, 28): 1,
        date(2026, 3, 29): 3,
    }
    assert period.utc_bounds(org.timezone) == (
        datetime(2026, 3, 27, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )


def test_handle_time_worked_example(db, org) -> None:
    """docs/metrics.md, "Handle time": the calls A-D of the worked example."""
    ingest(db, org, *worked_example())
    june = Month(2026, 6)
    # A: 09:00:30 -> 09:05:00 = 270 s; B: 09:11:30 -> 09:15:00 = 210 s; D: 11:00:10 -> 11:04:00 =
    # 230 s; C was not answered. Mean 236.67, median 230.
    assert handle_times(db, org, june.first, june.last) == {
        "calls": 3,
        "mean": 236.67,
        "median": 230.0,
    }
    by_agent = handle_times(db, org, june.first, june.last, by="agent")
    assert by_agent == {"a1": {"calls": 3, "mean": 236.67, "median": 230.0}}


def test_handle_time_leaves_out_calls_without_an_end_or_ending_before_the_answer(db, org) -> None:
    ingest(
        db,
        org,
        *call("h1", "2026-06-10T09:00:00+02:00", "2026-06-10T09:00:10+02:00"),
        *call("h2", "2026-06-10T09:00:00+02:00", "2026-06-10T09:00:10+02:00",
              "2026-06-10T09:02:10+02:00"),
        event("call.queued", "h3", "2026-06-10T10:00:00+02:00", queue="Bygglov"),
        event("call.answered", "h3", "2026-06-10T10:00:30+02:00", agent="a2"),
        event("call.ended", "h3", "2026-06-10T10:00:20+02:00"),
    )  # fmt: skip
    june = Month(2026, 6)
    assert handle_times(db, org, june.first, june.last) == {
        "calls": 1,
        "mean": 120.0,
        "median": 120.0,
    }


def test_a_whole_month_agrees_with_its_frozen_report(db, org) -> None:
    ingest(db, org, *worked_example(), *answered("extra", "2026-06-30T23:59:00+02:00", 70, 30))
    report, _ = generate_report(db, org, Month(2026, 6), now=datetime(2026, 7, 3, 4, tzinfo=UTC))
    doc = report.document
    june = period_figures(db, org, Period.parse("2026-06", TODAY))
    for part in ("phone", "email", "survey", "survey_headline"):
        mine = {k: v for k, v in june.total[part].items() if k != "handle_seconds"}
        assert mine == doc[part], part
    queues = {
        name: {k: v for k, v in figs["phone"].items() if k != "handle_seconds"}
        for name, figs in june.queues
    }
    assert queues == {name: figs["phone"] for name, figs in doc["queues"].items()}
    assert june.total["phone"]["offered"] == 5
