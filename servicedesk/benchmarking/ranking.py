"""Ranking one figure among the participants: places with ties, the median and quartiles, and
who is left out and why. Plain functions of plain values (no database), so a test can hand-make
every case; docs/benchmarking.md, "How the ranking is computed", says the same in words.

- Places are competition ranks ("1, 2, 2, 4"): equal values share a place and the next place
  counts them all, so "6 av 14" means five did better.
- The better end comes first by the figure's direction (higher or lower is better).
- A participant without the figure (no calls, no answers, not shared) is not ranked. One with a
  survey figure from fewer than ``MIN_RESPONSES`` answers is not ranked either: its index is
  too uncertain to put in an order.
- A figure with fewer than ``MIN_PARTICIPANTS`` ranked participants is not ranked at all: a
  place among three says little, and with so few the anonymous ones could be told apart.
- The median and quartiles are of the ranked values (inclusive method: the quartiles of
  1, 2, 3, 4, 5 are 2 and 4).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from servicedesk.benchmarking.figures import LOWER
from servicedesk.metrics.arithmetic import rounded
from servicedesk.metrics.survey_stats import SMALL_SAMPLE

#: Fewest ranked participants for a figure to be ranked.
MIN_PARTICIPANTS = 5
#: Fewest survey answers behind a participant's survey figure (the small-sample limit).
MIN_RESPONSES = SMALL_SAMPLE

#: Why something is not ranked (the pages translate these).
NO_FIGURE = "no_figure"
TOO_FEW_ANSWERS = "too_few_answers"
TOO_FEW_PARTICIPANTS = "too_few_participants"


@dataclass(frozen=True, slots=True)
class Entry:
    """One participant's figure for the period."""

    #: The participant's code (stable; the pages show ``label``).
    participant: str
    label: str
    value: float | None
    numerator: int = 0
    denominator: int = 0
    group: str = ""
    #: The months the figure covers, and the report versions and checksums it comes from.
    months: int = 1
    sources: tuple[tuple[str, int, str], ...] = ()
    #: A survey figure: ``denominator`` is its number of answers.
    survey: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    entry: Entry
    #: 1 is best; None when not ranked.
    place: int | None
    #: Why not ranked (NO_FIGURE, TOO_FEW_ANSWERS), else None.
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    key: str
    direction: str
    #: The ranked participants, best first.
    places: list[Place]
    #: The participants left out of the order, with why.
    left_out: list[Place] = field(default_factory=list)
    #: Why the figure is not ranked at all (TOO_FEW_PARTICIPANTS), else None.
    reason: str | None = None
    median: float | None = None
    lower_quartile: float | None = None
    upper_quartile: float | None = None

    @property
    def ranked(self) -> bool:
        return self.reason is None

    @property
    def participants(self) -> int:
        return len(self.places)

    def place_of(self, participant: str) -> Place | None:
        for place in (*self.places, *self.left_out):
            if place.entry.participant == participant:
                return place
        return None


def _left_out(entry: Entry) -> str | None:
    if entry.value is None or not entry.denominator:
        return NO_FIGURE
    if entry.survey and entry.denominator < MIN_RESPONSES:
        return TOO_FEW_ANSWERS
    return None


def rank(
    key: str,
    direction: str,
    entries: Sequence[Entry],
    *,
    min_participants: int = MIN_PARTICIPANTS,
) -> Ranking:
    """The figure's ranking among ``entries`` (one per participant)."""
    left_out = [Place(e, None, r) for e in entries if (r := _left_out(e)) is not None]
    rankable = [e for e in entries if _left_out(e) is None]
    sign = 1 if direction == LOWER else -1
    ordered = sorted(rankable, key=lambda e: (sign * float(e.value or 0), e.label, e.participant))
    left_out.sort(key=lambda p: (p.entry.label, p.entry.participant))
    if len(ordered) < min_participants:
        return Ranking(
            key,
            direction,
            [Place(e, None) for e in ordered],
            left_out,
            reason=TOO_FEW_PARTICIPANTS,
        )
    places: list[Place] = []
    for n, entry in enumerate(ordered, start=1):
        tied = bool(places) and places[-1].entry.value == entry.value
        places.append(Place(entry, places[-1].place if tied else n))
    values = sorted(float(e.value or 0) for e in ordered)
    if len(values) > 1:
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:  # (a minimum of one participant: the one value is every quartile)
        q1 = median = q3 = values[0]
    return Ranking(
        key,
        direction,
        places,
        left_out,
        median=rounded(median),
        lower_quartile=rounded(q1),
        upper_quartile=rounded(q3),
    )
