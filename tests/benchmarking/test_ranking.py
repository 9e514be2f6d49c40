"""Rankings by hand: ties, direction, quartiles, too few participants or answers."""

from __future__ import annotations

import pytest

from servicedesk.benchmarking.figures import (
    InconsistentFigure,
    check_counts,
    check_figure,
    extract,
)
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.ranking import (
    NO_FIGURE,
    TOO_FEW_ANSWERS,
    TOO_FEW_PARTICIPANTS,
    Entry,
    rank,
)
from servicedesk.metrics.periods import Month


def entries(*values, survey=False, n=100):
    return [
        Entry(f"p{i}", f"Kommun {i}", v, denominator=n, survey=survey)
        for i, v in enumerate(values, start=1)
    ]


def places(ranking):
    return [(p.entry.participant, p.place) for p in ranking.places]


def test_ties_share_a_place_and_the_next_place_counts_them():
    r = rank("phone.direct_answer_rate", "higher", entries(50.0, 70.0, 70.0, 90.0, 10.0, 70.0))
    assert places(r) == [("p4", 1), ("p2", 2), ("p3", 2), ("p6", 2), ("p1", 5), ("p5", 6)]
    assert r.place_of("p1").place == 5
    assert r.participants == 6


def test_lower_is_better_reverses_the_order():
    r = rank("phone.abandon_rate", "lower", entries(5.0, 2.5, 9.0, 2.5, 30.0))
    assert places(r) == [("p2", 1), ("p4", 1), ("p1", 3), ("p3", 4), ("p5", 5)]


def test_median_and_quartiles_inclusive():
    r = rank("x", "higher", entries(1.0, 2.0, 3.0, 4.0, 5.0))
    assert (r.lower_quartile, r.median, r.upper_quartile) == (2.0, 3.0, 4.0)
    r = rank("x", "higher", entries(10.0, 20.0, 30.0, 40.0, 50.0, 60.0))
    assert (r.lower_quartile, r.median, r.upper_quartile) == (22.5, 35.0, 47.5)


def test_too_few_participants_is_not_ranked_and_says_so():
    r = rank("x", "higher", entries(1.0, 2.0, 3.0, 4.0))
    assert not r.ranked and r.reason == TOO_FEW_PARTICIPANTS
    assert all(p.place is None for p in r.places) and r.median is None
    assert r.participants == 4
    assert rank("x", "higher", entries(1.0, 2.0, 3.0), min_participants=3).ranked


def test_missing_figures_and_small_samples_are_left_out_with_the_reason():
    es = entries(80.0, 70.0, 60.0, 50.0, 40.0, survey=True, n=30)
    es += [
        Entry("few", "Few answers", 99.0, denominator=29, survey=True),
        Entry("none", "No calls", None, denominator=0),
    ]
    r = rank("survey_headline.phone_ease.index", "higher", es)
    assert r.ranked and r.participants == 5
    assert {p.entry.participant: p.reason for p in r.left_out} == {
        "few": TOO_FEW_ANSWERS,
        "none": NO_FIGURE,
    }
    assert r.place_of("few").place is None


def test_periods():
    assert Period.parse("2026-Q2").months == (Month(2026, 4), Month(2026, 5), Month(2026, 6))
    assert len(Period.parse("2026").months) == 12
    assert Period.parse("2026-06").months == (Month(2026, 6),)
    for bad in ("2026-13", "2026-Q5", " 2026-06", "26", ""):
        with pytest.raises(ValueError, match="YYYY-MM, YYYY-Qn or YYYY"):
            Period.parse(bad)


def test_extract_gives_value_and_counts_and_they_check():
    doc = {
        "phone": {"offered": 200, "direct_answers": 123, "direct_answer_rate": 61.5},
        "email": {"received": 7, "within_1_working_day": 42.86},
        "survey_headline": {"phone_ease": {"responses": 3, "index": 66.67}},
    }
    figures = extract(
        doc,
        [
            "phone.direct_answer_rate",
            "email.within_1_working_day",
            "survey_headline.phone_ease.index",
        ],
    )
    assert figures == {
        "phone.direct_answer_rate": {"value": 61.5, "numerator": 123, "denominator": 200},
        "email.within_1_working_day": {"value": 42.86, "numerator": 3, "denominator": 7},
        "survey_headline.phone_ease.index": {"value": 66.67, "numerator": 200, "denominator": 3},
    }
    check_counts(figures)


@pytest.mark.parametrize(
    ("key", "published", "field"),
    [
        ("phone.direct_answer_rate", {"value": 95.0, "numerator": 3, "denominator": 200}, "value"),
        (
            "phone.direct_answer_rate",
            {"value": 150.0, "numerator": 300, "denominator": 200},
            "numerator",
        ),
        ("phone.direct_answer_rate", {"value": None, "numerator": 0, "denominator": 10}, "value"),
        (
            "phone.direct_answer_rate",
            {"value": 1.0, "numerator": -1, "denominator": 10},
            "numerator",
        ),
        (
            "phone.direct_answer_rate",
            {"value": 1.0, "numerator": 1.5, "denominator": 10},
            "numerator",
        ),
        (
            "survey_headline.phone_ease.index",
            {"value": 50.0, "numerator": 110, "denominator": 2},
            "numerator",
        ),
        (
            "survey_headline.phone_ease.index",
            {"value": "80", "numerator": 100, "denominator": 2},
            "value",
        ),
        ("phone.unknown", {"value": 1.0, "numerator": 1, "denominator": 100}, "phone.unknown"),
    ],
)
def test_figures_inconsistent_with_their_counts_are_refused(key, published, field):
    with pytest.raises(InconsistentFigure) as caught:
        check_figure(key, published)
    assert str(caught.value).startswith(key)
    assert field in str(caught.value)


def test_shares_of_one_count_must_agree():
    with pytest.raises(InconsistentFigure, match="phone.offered"):
        check_counts(
            {
                "phone.direct_answer_rate": {"value": 50.0, "numerator": 50, "denominator": 100},
                "phone.service_level": {"value": 50.0, "numerator": 60, "denominator": 120},
            }
        )
