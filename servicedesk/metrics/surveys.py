"""Survey figures: per question, the responses about the period's contacts, the index and the
share of good grades, in total and by channel; how many answered contacts responded; and SKR's
headline figures with their 95 % intervals (the statistics are in ``survey_stats``).

Read from the scores the fold copies onto the contacts (``ix_contacts_surveyed`` holds only the
contacts with one), so a response counts exactly where its contact counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.contacts.models import scored
from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.channel import plus
from servicedesk.metrics.definitions import CHANNELS, FILTER_QUESTION, HEADLINE, QUESTIONS
from servicedesk.metrics.groups import C, count_if, group_key, period
from servicedesk.metrics.survey_stats import ScoreSums, filter_figure, question_figure
from servicedesk.orgs.models import Organisation

Cell = tuple[Any, Any]  # (queue id, local day)
Scores = dict[tuple[str, str], ScoreSums]  # by (question, channel)
Filters = dict[str, "FilterCounts"]  # by channel


class FilterCounts(NamedTuple):
    """SKR's "did you get an answer?" (``FILTER_QUESTION``): who answered it, who said yes."""

    asked: int = 0
    yes: int = 0


class SurveyCells(NamedTuple):
    """What one pass over the surveyed contacts of a period gives, per (queue, day) cell."""

    #: The sums per question and channel.
    scores: dict[Cell, Scores]
    #: Answered contacts with a response, per channel.
    responding: dict[Cell, dict[str, int]]
    #: The filter question's answers, per channel.
    filters: dict[Cell, Filters]


def _aggregates() -> list[sa.Label[Any]]:
    got = C.c.got_answer
    columns = [
        sa.func.count(C.c.answered_at).label("responding"),
        sa.func.count(got).label("filter_asked"),
        count_if(got.is_(True)).label("filter_yes"),
    ]
    for q in QUESTIONS:
        score = C.c[f"{q}_score"]
        columns += [
            sa.func.count(score).label(f"{q}_responses"),
            sa.func.sum(score).label(f"{q}_score_sum"),
            count_if(score >= 4).label(f"{q}_good"),
            sa.func.sum(score * score).label(f"{q}_square_sum"),
        ]
    return columns


def survey_cells(
    session: Session, org: Organisation, start: date, end: date, queue_ids: list[int] | None
) -> SurveyCells:
    """The survey counts and the responding contacts of every (queue, day) cell."""
    stmt = (
        sa.select(C.c.start_date.label("day"), C.c.queue_id, C.c.channel, *_aggregates())
        .where(
            *period(org, start, end, queue_ids),
            C.c.channel.in_(CHANNELS),
            scored(),  # the partial index's predicate, so that the planners use it
        )
        .group_by(C.c.start_date, C.c.queue_id, C.c.channel)
    )
    scores: dict[Cell, Scores] = defaultdict(dict)
    responding: dict[Cell, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    filters: dict[Cell, Filters] = defaultdict(dict)
    for row in session.execute(stmt).mappings():
        cell, channel = (row["queue_id"], row["day"]), row["channel"]
        responding[cell][channel] = int(row["responding"] or 0)
        if row["filter_asked"]:
            filters[cell][channel] = FilterCounts(
                int(row["filter_asked"]), int(row["filter_yes"] or 0)
            )
        for q in QUESTIONS:
            n = int(row[f"{q}_responses"] or 0)
            if n:
                total, squares = int(row[f"{q}_score_sum"]), int(row[f"{q}_square_sum"])
                # The sums of (score - 1) * 25 and of its square, in integers: the same on
                # every engine. Σ(25(s - 1))² = 625 (Σs² - 2Σs + n).
                scores[cell][(q, channel)] = ScoreSums(
                    responses=n,
                    index_sum=25 * (total - n),
                    index_square_sum=625 * (squares - 2 * total + n),
                    good=int(row[f"{q}_good"] or 0),
                )
    return SurveyCells(scores, responding, filters)


def roll_scores(cells: Mapping[Cell, Scores], by: str | None) -> dict[Any, Scores]:
    """The cells' sums added into the groups ``by`` asks for."""
    out: dict[Any, Scores] = defaultdict(dict)
    for (queue_id, day), cell in cells.items():
        group = out[group_key(by, queue_id, day)]
        for qc, sums in cell.items():
            group[qc] = group.get(qc, ScoreSums()) + sums
    return out


def roll_filters(cells: Mapping[Cell, Filters], by: str | None) -> dict[Any, Filters]:
    """The filter question's counts added into the groups ``by`` asks for."""
    out: dict[Any, Filters] = defaultdict(dict)
    for (queue_id, day), cell in cells.items():
        group = out[group_key(by, queue_id, day)]
        for channel, counts in cell.items():
            group[channel] = plus(group.get(channel, FilterCounts()), counts)
    return out


def roll_responding(
    cells: Mapping[Cell, dict[str, int]], by: str | None
) -> dict[Any, dict[str, int]]:
    """The responding contacts per channel, summed into the groups ``by`` asks for."""
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    for (queue_id, day), per_channel in cells.items():
        group = out[group_key(by, queue_id, day)]
        for channel, n in per_channel.items():
            group[channel] += n
    return out


def _question(counts: ScoreSums) -> dict[str, Any]:
    n = counts.responses
    return {
        "responses": n,
        "index": rounded(counts.index_sum / n) if n else None,
        "good_share": rate(counts.good, n),
    }


def survey_section(scores: Scores) -> dict[str, Any]:
    """The survey figures of the report, per question, in total and by channel."""
    out: dict[str, Any] = {}
    for question in QUESTIONS:
        total = ScoreSums()
        by_channel = {}
        for channel in CHANNELS:
            counts = scores.get((question, channel), ScoreSums())
            total = total + counts
            by_channel[channel] = _question(counts)
        out[question] = {**_question(total), "by_channel": by_channel}
    return out


def empty_survey() -> dict[str, Any]:
    """The survey figures of a period without responses."""
    return survey_section({})


def headline_section(
    scores: Scores, filters: Filters, response_rates: dict[str, float | None]
) -> dict[str, Any]:
    """SKR's four headline figures (index, good share, responses, response rate, 95 % interval,
    small-sample flag) and the filter question's yes-share, from a group's sums.

    ``response_rates`` is each channel's survey response rate (responding / answered contacts).
    The filter question appears for the e-mail channel, where SKR asks it, and for the phone
    channel when a sender posted it about calls (only then).
    """
    out: dict[str, Any] = {}
    for key, channel, question in HEADLINE:
        sums = scores.get((question, channel), ScoreSums())
        out[key] = {
            "channel": channel,
            "question": question,
            **question_figure(sums, response_rates.get(channel)),
        }
    for channel in CHANNELS:
        asked, yes = filters.get(channel, FilterCounts())
        if channel == "email" or asked:
            out[f"{channel}_{FILTER_QUESTION}"] = {"channel": channel, **filter_figure(asked, yes)}
    return out


def empty_headline() -> dict[str, Any]:
    """The headline survey figures of a period without responses."""
    return headline_section({}, {}, {})
