"""The figures organisations can share: where each is in a frozen report, what it is a share of,
and which way is better; taking them out of a report and checking them against their counts.

A shared figure is published as ``{"value", "numerator", "denominator"}``: the value exactly as
the report froze it, and the two whole numbers it was computed from. The counts let a hub check
the value (``check_figure``) and let a quarter or a year be computed from the months (the
numerators and denominators are added, never the percentages). Contact-level data is never
shared: nothing here reads anything below the report's organisation totals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servicedesk.metrics import catalogue
from servicedesk.metrics.arithmetic import rate, rounded

#: "higher" or "lower": which way a figure is better.
HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True, slots=True)
class SharedFigure:
    """One figure that can be shared: a figure of the catalogue, and the count behind it."""

    #: Its path in the report document, which is its key in the figure catalogue, in
    #: publications and on the pages ("phone.direct_answer_rate").
    key: str
    #: The path of the count it is a share (or mean) of.
    denominator: str
    #: The path of its exact numerator in the report, when the report has it.
    numerator: str | None = None
    #: Shared unless the organisation's administrator chooses otherwise (KKiK, Servicemätning).
    default: bool = True

    @property
    def path(self) -> str:
        return self.key

    @property
    def unit(self) -> str:
        """ "percent" (100 x numerator / denominator) or "index" (mean of 0-100 answer values)."""
        return "index" if catalogue.figure(self.key).unit == "index" else "percent"

    @property
    def survey(self) -> bool:
        """A survey figure: ranked only with enough answers (``ranking.MIN_RESPONSES``)."""
        return self.key.startswith("survey_headline.")


FIGURES: tuple[SharedFigure, ...] = (
    SharedFigure("phone.direct_answer_rate", "phone.offered", numerator="phone.direct_answers"),
    SharedFigure("email.within_1_working_day", "email.received"),
    SharedFigure("email.within_2_working_days", "email.received"),
    *(
        SharedFigure(f"survey_headline.{key}.index", f"survey_headline.{key}.responses")
        for key in catalogue.HEADLINE_KEYS
    ),
    SharedFigure("phone.service_level", "phone.offered", default=False),
    SharedFigure("phone.abandon_rate", "phone.offered", default=False),
)
BY_KEY = {f.key: f for f in FIGURES}
DEFAULT_KEYS = [f.key for f in FIGURES if f.default]


def direction(key: str) -> str:
    """ "higher" or "lower" is better for the figure (the figure catalogue says)."""
    return catalogue.figure(key).better or HIGHER


def dig(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a report document; None where any part is missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def value_of(unit: str, numerator: int, denominator: int) -> float | None:
    """The figure from its counts, rounded as the reports round it."""
    if not denominator:
        return None
    if unit == "percent":
        return rate(numerator, denominator)
    return rounded(numerator / denominator)


def _numerator(figure: SharedFigure, value: float, denominator: int) -> int:
    """The whole number the value was computed from: the index's sum of answer values (each a
    multiple of 25), or the count behind the percentage."""
    if figure.unit == "index":
        return 25 * round(value * denominator / 25)
    return round(value * denominator / 100)


def extract(document: Mapping[str, Any], keys: list[str]) -> dict[str, dict[str, Any]]:
    """The shared figures of a frozen report: ``{key: {"value", "numerator", "denominator"}}``.

    A figure the report does not have (an older definitions version) is left out; one without
    a denominator (no calls, no answers) is given with a null value."""
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        figure = BY_KEY.get(key)
        if figure is None:
            continue
        denominator = dig(document, figure.denominator)
        if not isinstance(denominator, int):
            continue
        value = dig(document, figure.path)
        if value is None or not denominator:
            out[key] = {"value": None, "numerator": 0, "denominator": denominator}
            continue
        exact = dig(document, figure.numerator) if figure.numerator else None
        numerator = exact if isinstance(exact, int) else _numerator(figure, value, denominator)
        out[key] = {"value": value, "numerator": numerator, "denominator": denominator}
    return out


#: How far a published value may be from what its counts give (the reports' last decimal).
TOLERANCE = 0.0101


class InconsistentFigure(ValueError):
    """A published figure that does not follow from its own counts; the message says how."""


def check_figure(key: str, published: Any) -> None:
    """Raise InconsistentFigure unless ``published`` is a known figure whose value is exactly
    what its numerator and denominator give."""
    figure = BY_KEY.get(key)
    if figure is None:
        raise InconsistentFigure(f"{key}: not a figure that can be shared")
    if not isinstance(published, Mapping):
        raise InconsistentFigure(f"{key}: expected an object with value, numerator, denominator")
    value, numerator, denominator = (
        published.get(k) for k in ("value", "numerator", "denominator")
    )
    for name, count in (("numerator", numerator), ("denominator", denominator)):
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise InconsistentFigure(f"{key}.{name}: expected a whole number of at least 0")
    assert isinstance(numerator, int) and isinstance(denominator, int)
    top = denominator * (100 if figure.unit == "index" else 1)
    if numerator > top:
        raise InconsistentFigure(f"{key}.numerator: {numerator} is more than {top}")
    if figure.unit == "index" and numerator % 25:
        raise InconsistentFigure(f"{key}.numerator: a sum of answer values is a multiple of 25")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        raise InconsistentFigure(f"{key}.value: expected a number or null")
    expected = value_of(figure.unit, numerator, denominator)
    # One unit of the last place: a value rebuilt from a very large count may round either way.
    if (value is None) != (expected is None) or (
        value is not None and expected is not None and abs(float(value) - expected) > TOLERANCE
    ):
        raise InconsistentFigure(
            f"{key}.value: {value} does not follow from {numerator} / {denominator} "
            f"(that gives {expected})"
        )


def check_counts(figures: Mapping[str, Any]) -> None:
    """Every figure checked, and the figures that are shares of one count (calls offered,
    e-mails received) agreeing on it."""
    seen: dict[str, tuple[str, int]] = {}
    for key, published in figures.items():
        check_figure(key, published)
        path = BY_KEY[key].denominator
        count = published["denominator"]
        if path in seen and seen[path][1] != count:
            other, n = seen[path]
            raise InconsistentFigure(f"{key}.denominator: {count} {path}, but {other} says {n}")
        seen.setdefault(path, (key, count))
