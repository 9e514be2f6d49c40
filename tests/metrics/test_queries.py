"""The figures of docs/metrics.md with hand-computed values, on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from servicedesk.metrics.periods import Month, month_range, week_range
from servicedesk.metrics.queries import (
    email_figures,
    figures,
    phone_figures,
    queue_names,
    survey_figures,
)
from tests.helpers import event, ingest

JUNE = month_range(Month(2026, 6))


def call(cid, queued, answered=None, ended=None, direct=None, queue="Bygglov"):
    """The events of one call; times are local ISO strings."""
    events = [event("call.queued", cid, queued, queue=queue)]
    if answered:
        events.append(event("call.answered", cid, answered, agent="a1"))
    if ended:
        extra = {} if direct is None else {"direct_answer": direct}
        events.append(event("call.ended", cid, ended, **extra))
    return events


def mail(cid, received, replied=None, queue="Bygglov"):
    events = [event("email.received", cid, received, queue=queue)]
    if replied:
        events.append(event("email.replied", cid, replied))
    return events


def grade(cid, question, score, at, channel=None):
    extra = {"channel": channel} if channel else {}
    return event("survey.response", cid, at, question=question, score=score, **extra)


def worked_example():
    """The worked example of docs/metrics.md (Kumla, June 2026, CEST = UTC+2)."""
    return [
        *call(
            "A",
            "2026-06-10T09:00:00+02:00",
            "2026-06-10T09:00:30+02:00",
            "2026-06-10T09:05:00+02:00",
            True,
        ),
        *call(
            "B",
            "2026-06-10T09:10:00+02:00",
            "2026-06-10T09:11:30+02:00",
            "2026-06-10T09:15:00+02:00",
            False,
        ),
        *call("C", "2026-06-10T10:00:00+02:00", ended="2026-06-10T10:02:00+02:00"),
        *call(
            "D",
            "2026-06-10T11:00:00+02:00",
            "2026-06-10T11:00:10+02:00",
            "2026-06-10T11:04:00+02:00",
            True,
        ),
        # Thursday before midsommarafton -> Monday: 14 h + 10 h
        *mail("E", "2026-06-18T10:00:00+02:00", "2026-06-22T10:00:00+02:00"),
        # Saturday -> Tuesday 06:00: Monday 24 h + 6 h
        *mail("F", "2026-06-13T12:00:00+02:00", "2026-06-16T06:00:00+02:00"),
        *mail("G", "2026-06-29T09:00:00+02:00"),
        grade("A", "treatment", 5, "2026-06-10T09:10:00+02:00", "phone"),
        grade("A", "ease", 4, "2026-06-10T09:10:00+02:00"),
        # A late answer (1 July) about a June call belongs to June.
        grade("D", "treatment", 3, "2026-07-01T08:00:00+02:00", "phone"),
    ]


EXPECTED_PHONE = {
    "offered": 4,
    "answered": 3,
    "abandoned": 1,
    "direct_answers": 2,
    "direct_answer_rate": 50.0,
    "abandon_rate": 25.0,
    "service_level": 50.0,
    "service_level_seconds": 60,
    "wait_seconds": {"mean": 43.33, "median": 30.0, "p90": 78.0},
}
EXPECTED_EMAIL = {
    "received": 3,
    "answered": 2,
    "within_1_working_day": 33.33,
    "within_2_working_days": 66.67,
    "median_working_hours": 27.0,
}
NO_ANSWERS = {"responses": 0, "index": None, "good_share": None}


def test_worked_example(db, org) -> None:
    ingest(db, org, *worked_example())
    assert phone_figures(db, org, *JUNE) == EXPECTED_PHONE
    assert email_figures(db, org, *JUNE) == EXPECTED_EMAIL
    survey = survey_figures(db, org, *JUNE)
    assert survey["treatment"] == {
        "responses": 2,
        "index": 75.0,
        "good_share": 50.0,
        "by_channel": {
            "phone": {"responses": 2, "index": 75.0, "good_share": 50.0},
            "email": NO_ANSWERS,
        },
    }
    assert survey["ease"]["responses"] == 1
    assert survey["ease"]["index"] == 75.0
    assert survey["ease"]["good_share"] == 100.0
    assert survey["clarity"] == {
        **NO_ANSWERS,
        "by_channel": {"phone": NO_ANSWERS, "email": NO_ANSWERS},
    }
    both = figures(db, org, *JUNE)
    assert both["phone"] == {**EXPECTED_PHONE, "survey_response_rate": 66.67}
    assert both["email"] == {**EXPECTED_EMAIL, "survey_response_rate": 0.0}
    (qid,) = queue_names(db, org)
    assert figures(db, org, *JUNE, by="queue") == {qid: both}
    assert figures(db, org, *JUNE, queue_ids=[qid]) == both


def test_empty_month_gives_nulls(db, org) -> None:
    ingest(db, org, *worked_example())
    result = figures(db, org, *month_range(Month(2026, 2)))
    assert result["phone"]["offered"] == 0
    assert result["phone"]["service_level"] is None
    assert result["phone"]["wait_seconds"] == {"mean": None, "median": None, "p90": None}
    assert result["phone"]["survey_response_rate"] is None
    assert result["email"] == {
        "received": 0,
        "answered": 0,
        "within_1_working_day": None,
        "within_2_working_days": None,
        "median_working_hours": None,
        "survey_response_rate": None,
    }
    assert result["survey"]["treatment"]["index"] is None
    assert figures(db, org, *month_range(Month(2026, 2)), by="queue") == {}


def test_month_boundary_in_local_time(db, org) -> None:
    ingest(
        db,
        org,
        # 22:30 UTC on 30 June is 00:30 on 1 July in Stockholm: a July call.
        *call("late", "2026-06-30T22:30:00Z", "2026-06-30T22:30:20Z"),
        # 22:30 UTC on 31 May is 00:30 on 1 June: a June e-mail.
        *mail("early", "2026-05-31T22:30:00Z", "2026-06-01T08:00:00Z"),
    )
    assert phone_figures(db, org, *JUNE)["offered"] == 0
    assert phone_figures(db, org, *month_range(Month(2026, 7)))["offered"] == 1
    assert email_figures(db, org, *month_range(Month(2026, 5)))["received"] == 0
    june = email_figures(db, org, *JUNE)
    # Monday 1 June 00:30 -> 10:00 local: 9.5 working hours
    assert (june["received"], june["median_working_hours"]) == (1, 9.5)


def test_call_never_answered_and_email_never_answered(db, org) -> None:
    ingest(
        db, org, *call("c", "2026-06-10T10:00:00+02:00"), *mail("m", "2026-06-10T10:00:00+02:00")
    )
    phone = phone_figures(db, org, *JUNE)
    assert (phone["offered"], phone["answered"], phone["abandon_rate"]) == (1, 0, 100.0)
    assert (phone["service_level"], phone["direct_answer_rate"]) == (0.0, 0.0)
    assert phone["wait_seconds"] == {"mean": None, "median": None, "p90": None}
    mail_ = email_figures(db, org, *JUNE)
    assert (mail_["within_1_working_day"], mail_["within_2_working_days"]) == (0.0, 0.0)
    assert mail_["median_working_hours"] is None


def test_duplicates_and_reordering_change_nothing(db, make_org) -> None:
    first, second = make_org(), make_org()
    events = worked_example()
    ingest(db, first, *events)
    # The same events in reverse order, one delivery each, and every one of them twice.
    for e in reversed(events):
        ingest(db, second, e)
    for e in events:
        ingest(db, second, e)
    assert figures(db, second, *JUNE) == figures(db, first, *JUNE)


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_percentiles_by_linear_interpolation(db, org, n) -> None:
    waits = [3, 95, 7, 41, 15, 130, 22, 8, 58, 21, 40, 17][:n]
    events = []
    for i, w in enumerate(waits):
        events += call(
            f"c{i}",
            f"2026-06-11T10:{i:02d}:00+02:00",
            f"2026-06-11T10:{i:02d}:{w % 60:02d}+02:00".replace(
                f"10:{i:02d}:", f"10:{i + w // 60:02d}:"
            ),
        )
    ingest(db, org, *events)
    wait = phone_figures(db, org, *JUNE)["wait_seconds"]
    if n == 1:
        assert wait == {"mean": 3.0, "median": 3.0, "p90": 3.0}
        return
    expected_p90 = statistics.quantiles(waits, n=10, method="inclusive")[8]
    assert wait["median"] == round(statistics.median(waits), 2)
    assert wait["p90"] == pytest.approx(round(expected_p90, 2))
    assert wait["mean"] == round(statistics.fmean(waits), 2)


def test_by_day_week_and_queue(db, org) -> None:
    ingest(
        db,
        org,
        *call("a", "2026-06-08T10:00:00+02:00", "2026-06-08T10:00:05+02:00", queue="Bygglov"),
        *call("b", "2026-06-09T10:00:00+02:00", queue="Skola"),
        *call("c", "2026-06-15T10:00:00+02:00", "2026-06-15T10:02:00+02:00", queue="Skola"),
        *mail("m", "2026-06-09T10:00:00+02:00", "2026-06-09T11:00:00+02:00", queue="Skola"),
    )
    names = {v: k for k, v in queue_names(db, org).items()}
    days = figures(db, org, *JUNE, by="day")
    assert list(days) == [date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 15)]
    assert days[date(2026, 6, 9)]["phone"]["offered"] == 1
    assert days[date(2026, 6, 9)]["email"]["received"] == 1
    assert days[date(2026, 6, 8)]["email"]["received"] == 0
    week = phone_figures(db, org, *week_range(date(2026, 6, 10)))
    assert (week["offered"], week["answered"], week["service_level"]) == (2, 1, 50.0)
    queues = phone_figures(db, org, *JUNE, by="queue")
    assert queues[names["Skola"]]["offered"] == 2
    assert queues[names["Skola"]]["wait_seconds"]["median"] == 120.0
    assert queues[names["Bygglov"]]["service_level"] == 100.0
    skola_only = phone_figures(db, org, *JUNE, queue_ids=[names["Skola"]])
    assert skola_only == queues[names["Skola"]]
    cells = phone_figures(db, org, *JUNE, by="queue_day")
    assert cells[(names["Skola"], date(2026, 6, 15))]["answered"] == 1


def test_survey_without_channel_matches_either_contact(db, org) -> None:
    ingest(
        db,
        org,
        *mail("x1", "2026-06-09T10:00:00+02:00", "2026-06-09T11:00:00+02:00"),
        grade("x1", "clarity", 2, "2026-06-09T12:00:00+02:00"),
        # Both a call and an e-mail carry "x2": a response without channel goes to the call.
        *call("x2", "2026-06-09T10:00:00+02:00", "2026-06-09T10:00:10+02:00"),
        *mail("x2", "2026-06-09T10:00:00+02:00", "2026-06-09T10:30:00+02:00"),
        grade("x2", "ease", 5, "2026-06-09T12:00:00+02:00"),
        # A response about a contact that never arrived counts nowhere.
        grade("ghost", "ease", 1, "2026-06-09T12:00:00+02:00"),
    )
    survey = survey_figures(db, org, *JUNE)
    assert survey["clarity"]["by_channel"]["email"] == {
        "responses": 1,
        "index": 25.0,
        "good_share": 0.0,
    }
    assert survey["ease"]["responses"] == 1
    assert survey["ease"]["by_channel"]["phone"]["responses"] == 1
    both = figures(db, org, *JUNE)
    assert both["email"]["survey_response_rate"] == 50.0
    assert both["phone"]["survey_response_rate"] == 100.0


def test_latest_survey_answer_counts(db, org) -> None:
    ingest(
        db,
        org,
        *call("s", "2026-06-09T10:00:00+02:00", "2026-06-09T10:00:10+02:00"),
        grade("s", "treatment", 1, "2026-06-09T12:00:00+02:00"),
    )
    assert survey_figures(db, org, *JUNE)["treatment"]["index"] == 0.0
    ingest(db, org, grade("s", "treatment", 4, "2026-06-12T12:00:00+02:00"))
    assert survey_figures(db, org, *JUNE)["treatment"]["index"] == 75.0


def test_closed_day_changes_email_figures(db, org) -> None:
    from servicedesk.calendars.service import add_closed_day

    # Monday 8 June 10:00 -> Wednesday 10 June 09:00: 47 h, within 2 days, not 1.
    ingest(db, org, *mail("k", "2026-06-08T10:00:00+02:00", "2026-06-10T09:00:00+02:00"))
    assert email_figures(db, org, *JUNE)["median_working_hours"] == 47.0
    add_closed_day(db, org, date(2026, 6, 9), "klämdag")
    result = email_figures(db, org, *JUNE)
    assert (result["median_working_hours"], result["within_1_working_day"]) == (23.0, 100.0)


def test_several_groupings_at_once_equal_one_at_a_time(db, org) -> None:
    from servicedesk.metrics.queries import figures_by

    ingest(
        db,
        org,
        *worked_example(),
        *call("q2", "2026-06-11T10:00:00+02:00", "2026-06-11T10:00:50+02:00", queue="Skola"),
        *call("q3", "2026-06-11T11:00:00+02:00", "2026-06-11T11:03:00+02:00", queue="Skola"),
        *mail("q4", "2026-06-12T10:00:00+02:00", "2026-06-15T09:00:00+02:00", queue="Skola"),
    )
    bys = [None, "queue", "day", "queue_day"]
    together = figures_by(db, org, *JUNE, bys)
    for by in bys:
        assert together[by] == figures(db, org, *JUNE, by=by)
    assert together["day"][date(2026, 6, 11)]["phone"]["wait_seconds"]["median"] == 115.0
    if db.get_bind().dialect.name == "sqlite":
        # The roomy page cache is given back after the figures are made.
        assert db.connection().exec_driver_sql("PRAGMA cache_size").scalar() == -2000
