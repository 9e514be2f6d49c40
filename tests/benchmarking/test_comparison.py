"""Comparisons on one installation, from hand-made frozen reports, on both engines: the newest
version counts, withdrawal takes an organisation out, anonymous names, quarters add counts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from servicedesk.benchmarking.comparison import compare, history
from servicedesk.benchmarking.document import comparison_json
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.ranking import TOO_FEW_ANSWERS, TOO_FEW_PARTICIPANTS
from servicedesk.benchmarking.sharing import SharingError, share, withdraw
from servicedesk.metrics.periods import Month
from servicedesk.reports.models import Report
from tests.benchmarking.frozen import freeze

JUNE = Period.parse("2026-06")


@pytest.fixture
def six(db, make_org):
    """Six municipalities sharing June: direct answers 90, 80, 80, 70, 60, 50 % of 100 calls."""
    orgs = []
    for n, direct in enumerate((90, 80, 80, 70, 60, 50), start=1):
        org = make_org(slug=f"k{n}", name=f"Kommun nummer {n}")
        freeze(db, org, "2026-06", direct=(direct, 100), ease=(40, 40 * 25 * n % 4000 or 1000))
        share(db, org, group="B5" if n < 4 else "")
        db.commit()
        orgs.append(org)
    return orgs


def ranking(result, key):
    return next(r for r in result.rankings if r.key == key)


def test_places_with_ties_and_own_place(db, six):
    result = compare(db, JUNE, "k4")
    direct = ranking(result, "phone.direct_answer_rate")
    assert [(p.entry.participant, p.place) for p in direct.places] == [
        ("k1", 1),
        ("k2", 2),
        ("k3", 2),
        ("k4", 4),
        ("k5", 5),
        ("k6", 6),
    ]
    assert direct.place_of("k4").place == 4 and direct.participants == 6
    assert (direct.lower_quartile, direct.median, direct.upper_quartile) == (62.5, 75.0, 80.0)
    assert direct.place_of("k1").entry.group == "B5"
    own = comparison_json(result)["figures"][0]["own"]
    assert own["place"] == 4 and own["own"] is True
    assert own["sources"] == [
        {"month": "2026-06", "version": 1, "sha256": own["sources"][0]["sha256"]}
    ]
    assert len(own["sources"][0]["sha256"]) == 64


def test_reports_without_their_totals_are_read_from_their_documents(db, six):
    """Reports made before ``Report.totals`` existed (or by other code) compare the same."""
    expected = comparison_json(compare(db, JUNE, "k4"))
    db.execute(sa.update(Report).values(totals=None))
    db.commit()
    assert comparison_json(compare(db, JUNE, "k4")) == expected
    db.execute(sa.update(Report).values(totals={"phone": None, "email": None}))
    db.commit()
    changed = comparison_json(compare(db, JUNE, "k4"))
    assert changed != expected, "the totals, when there, are what is read"


def test_a_late_version_replaces_the_earlier_one(db, six):
    freeze(db, six[5], "2026-06", version=2, direct=(95, 100))
    direct = ranking(compare(db, JUNE, "k6"), "phone.direct_answer_rate")
    first = direct.places[0]
    assert (first.entry.participant, first.place, first.entry.value) == ("k6", 1, 95.0)
    assert first.entry.sources[0][1] == 2
    assert direct.participants == 6


def test_withdrawal_takes_the_figures_out_and_then_too_few_are_ranked(db, six):
    withdraw(db, six[0])
    db.commit()
    direct = ranking(compare(db, JUNE), "phone.direct_answer_rate")
    assert direct.place_of("k1") is None and direct.participants == 5 and direct.ranked
    withdraw(db, six[1])
    db.commit()
    direct = ranking(compare(db, JUNE), "phone.direct_answer_rate")
    assert not direct.ranked and direct.reason == TOO_FEW_PARTICIPANTS


def test_small_survey_samples_are_not_ranked(db, six, make_org):
    few = make_org(slug="few")
    freeze(db, few, "2026-06", direct=(50, 100), ease=(12, 12 * 100))
    share(db, few)
    db.commit()
    ease = ranking(compare(db, JUNE, "few"), "survey_headline.phone_ease.index")
    assert ease.place_of("few").reason == TOO_FEW_ANSWERS and ease.participants == 6


def test_only_shared_figures_and_missing_figures(db, six, make_org):
    narrow = make_org(slug="narrow")
    freeze(db, narrow, "2026-06", direct=(100, 100), within1=(0, 0))
    share(db, narrow, figures=["email.within_1_working_day"])
    db.commit()
    result = compare(db, JUNE, "narrow")
    assert ranking(result, "phone.direct_answer_rate").place_of("narrow") is None
    within = ranking(result, "email.within_1_working_day")
    assert within.place_of("narrow").reason == "no_figure"
    with pytest.raises(SharingError, match="figures"):
        share(db, narrow, figures=["phone.contacts_by_caller"])


def test_anonymous_participants_have_an_alias_only(db, six):
    share(db, six[2], anonymous=True)
    db.commit()
    document = comparison_json(compare(db, JUNE, "k1"))
    places = document["figures"][0]["places"]
    assert {"participant": None, "alias": "C"}.items() <= places[1].items()
    assert "Kommun nummer 3" not in str(document)


def test_a_quarter_adds_the_months_counts(db, six):
    # k6 had 50 of 100 in June; in April 100 of 100 with 300 calls: (50 + 300) / 400.
    freeze(db, six[5], "2026-04", direct=(300, 300))
    direct = ranking(compare(db, Period.parse("2026-Q2"), "k6"), "phone.direct_answer_rate")
    mine = direct.place_of("k6")
    assert mine.entry.value == 87.5 and mine.entry.months == 2 and mine.place == 2


def test_history_of_places(db, six):
    freeze(db, six[3], "2026-05", direct=(10, 10))
    months = [Month(2026, 5), Month(2026, 6)]
    places = history(db, months, "k4")["phone.direct_answer_rate"]
    assert places == [(Month(2026, 5), None, 0), (Month(2026, 6), 4, 6)]
