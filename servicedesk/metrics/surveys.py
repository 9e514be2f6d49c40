"""Survey figures: per question, the responses about the period's contacts, the index and the
share of good grades, in total and by channel; and how many answered contacts responded.

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
from servicedesk.metrics.definitions import CHANNELS, QUESTIONS
from servicedesk.metrics.groups import C, count_if, group_key, period
from servicedesk.orgs.models import Organisation

Cell = tuple[Any, Any]  # (queue id, local day)
Scores = dict[tuple[str, str], "SurveyCounts"]  # by (question, channel)


class SurveyCounts(NamedTuple):
    """The responses to one question (about one channel's contacts) in a cell or group."""

    responses: int = 0
    #: The sum of (score - 1) * 25, in integers: the same on every engine.
    index_sum: int = 0
    #: Grades of 4 or 5.
    good: int = 0


class SurveyCells(NamedTuple):
    """What one pass over the surveyed contacts of a period gives, per (queue, day) cell."""

    #: The counts per question and channel.
    scores: dict[Cell, Scores]
    #: Answered contacts with a response, per channel.
    responding: dict[Cell, dict[str, int]]


def _aggregates() -> list[sa.Label[Any]]:
    columns = [sa.func.count(C.c.answered_at).label("responding")]
    for q in QUESTIONS:
        score = C.c[f"{q}_score"]
        columns += [
            sa.func.count(score).label(f"{q}_responses"),
            sa.func.sum(score).label(f"{q}_score_sum"),
            count_if(score >= 4).label(f"{q}_good"),
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
    for row in session.execute(stmt).mappings():
        cell = (row["queue_id"], row["day"])
        responding[cell][row["channel"]] = int(row["responding"] or 0)
        for q in QUESTIONS:
            n = int(row[f"{q}_responses"] or 0)
            if n:
                index_sum = 25 * (int(row[f"{q}_score_sum"]) - n)
                scores[cell][(q, row["channel"])] = SurveyCounts(
                    n, index_sum, int(row[f"{q}_good"] or 0)
                )
    return SurveyCells(scores, responding)


def roll_scores(cells: Mapping[Cell, Scores], by: str | None) -> dict[Any, Scores]:
    """The cells' counts summed into the groups ``by`` asks for."""
    out: dict[Any, Scores] = defaultdict(dict)
    for (queue_id, day), cell in cells.items():
        group = out[group_key(by, queue_id, day)]
        for qc, counts in cell.items():
            group[qc] = plus(group.get(qc, SurveyCounts()), counts)
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


def _question(counts: SurveyCounts) -> dict[str, Any]:
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
        total = SurveyCounts()
        by_channel = {}
        for channel in CHANNELS:
            counts = scores.get((question, channel), SurveyCounts())
            total = plus(total, counts)
            by_channel[channel] = _question(counts)
        out[question] = {**_question(total), "by_channel": by_channel}
    return out


def empty_survey() -> dict[str, Any]:
    """The survey figures of a period without responses."""
    return survey_section({})
