"""The statistics of survey figures: index, good share, a 95 % confidence interval, small samples.

Plain functions of a few integer sums (how many scores, their sum and sum of squares, how many
were 4 or 5), so that the database adds integers and both engines give exactly the same figures.
docs/metrics.md ("Survey statistics") explains the choices and works an example; a test runs it.

Why a t-interval on the index. Each answer becomes a value 0, 25, 50, 75 or 100 and the index is
their mean, so the question is the uncertainty of a mean of bounded values. Student's t-interval
(mean ± t(0.975, n - 1) · s / √n) is the textbook interval for a mean, needs only n, Σx and Σx²,
is reproducible (a report is frozen by the checksum of its figures, so a bootstrap would need a
fixed seed and the raw scores) and is what survey contractors usually publish. Its weaknesses are
known and handled: it may reach past 0 or 100 (it is cut to the scale), and with few answers or
answers that are all the same it is too narrow (a sample of identical answers has s = 0); below
``SMALL_SAMPLE`` responses the figure is flagged, and below 2 no interval is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from servicedesk.metrics.arithmetic import rate as share
from servicedesk.metrics.arithmetic import rounded

#: Below this many responses a survey figure is flagged as a small sample. 30 is where the
#: t-interval's coverage is close to its nominal 95 % for the skewed distributions of 1-5
#: grades (and where SKR's own reports stop showing a figure without a caveat).
SMALL_SAMPLE = 30

__all__ = ["SMALL_SAMPLE", "ScoreSums", "filter_figure", "question_figure", "rounded", "share"]

#: The confidence level of the intervals.
LEVEL = 0.95

#: t(0.975, df) for df = 1..30 (standard tables, to three decimals); larger df use the
#: Cornish-Fisher expansion in ``t_quantile``, which agrees with the tables to 0.001 there.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScoreSums:
    """What the database sums for one question in one group: all a figure needs."""

    #: How many scores (1-5).
    responses: int = 0
    #: Σ (score - 1) · 25, the index values added up.
    index_sum: int = 0
    #: Σ ((score - 1) · 25)², for the standard deviation.
    index_square_sum: int = 0
    #: How many scores were 4 or 5.
    good: int = 0

    def __add__(self, other: ScoreSums) -> ScoreSums:
        return ScoreSums(
            self.responses + other.responses,
            self.index_sum + other.index_sum,
            self.index_square_sum + other.index_square_sum,
            self.good + other.good,
        )

    @classmethod
    def of_scores(cls, scores: list[int]) -> ScoreSums:
        """The sums of a list of 1-5 scores (tests and the worked example)."""
        values = [(s - 1) * 25 for s in scores]
        return cls(
            len(values), sum(values), sum(v * v for v in values), sum(s >= 4 for s in scores)
        )


def t_quantile(df: int) -> float:
    """Student's t at 0.975 with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = NormalDist().inv_cdf(0.975)
    # Cornish-Fisher expansion of the t quantile in powers of 1/df.
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def index(sums: ScoreSums) -> float | None:
    """The mean of (score - 1) · 25, 0-100 (null without responses)."""
    return rounded(sums.index_sum / sums.responses) if sums.responses else None


def good_share(sums: ScoreSums) -> float | None:
    """The percentage of scores of 4 or 5."""
    return rounded(100 * sums.good / sums.responses) if sums.responses else None


def standard_deviation(sums: ScoreSums) -> float | None:
    """The sample standard deviation of the index values (n - 1 in the denominator)."""
    n = sums.responses
    if n < 2:
        return None
    # n·Σx² - (Σx)² is an exact integer: no cancellation error however large the sums.
    spread = n * sums.index_square_sum - sums.index_sum**2
    return math.sqrt(max(spread, 0) / (n * (n - 1)))


def confidence_interval(sums: ScoreSums) -> tuple[float, float] | None:
    """The 95 % t-interval of the index, cut to 0-100; None with fewer than 2 responses."""
    sd = standard_deviation(sums)
    if sd is None:
        return None
    n = sums.responses
    mean = sums.index_sum / n
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    low, high = max(0.0, mean - half), min(100.0, mean + half)
    return rounded(low) or 0.0, rounded(high) or 0.0


def small_sample(sums: ScoreSums) -> bool:
    """Whether the figure rests on fewer responses than ``SMALL_SAMPLE``."""
    return sums.responses < SMALL_SAMPLE


def question_figure(sums: ScoreSums, response_rate: float | None) -> dict[str, object]:
    """One headline survey figure as the report JSON gives it."""
    interval = confidence_interval(sums)
    return {
        "responses": sums.responses,
        "index": index(sums),
        "good_share": good_share(sums),
        "response_rate": response_rate,
        "ci95": {"low": interval[0], "high": interval[1]} if interval else None,
        "small_sample": small_sample(sums),
    }


def filter_figure(asked: int, yes: int) -> dict[str, object]:
    """The "did you get an answer?" question: how many answered it, and the share who said yes."""
    return {"responses": asked, "yes": yes, "yes_share": share(yes, asked)}
