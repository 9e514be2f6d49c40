"""What the figures need to know of a channel (phone, e-mail): one declaration per channel.

Each channel module declares its additive measures (a NamedTuple, read by name from the rows),
the SQL aggregates that compute them per (queue, day) cell, which measure counts the times its
percentiles are of, and how the measures become the report's figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from servicedesk.metrics.percentiles import Fraction
from servicedesk.orgs.models import Organisation

M = TypeVar("M", bound=tuple[Any, ...])


def plus(a: M, b: M) -> M:
    """Two NamedTuples of measures added field by field."""
    return type(a)(*(x + y for x, y in zip(a, b, strict=True)))


@dataclass(frozen=True)
class Channel(Generic[M]):
    """One channel's figures."""

    name: str
    #: The additive measures of a cell or group, a NamedTuple whose fields default to 0.
    measures: type[M]
    #: The aggregates over the channel's contacts, labelled with the measures' field names.
    aggregates: Callable[[Organisation], list[sa.Label[Any]]]
    #: The percentiles of ``answer_seconds`` the figures show.
    percentiles: tuple[Fraction, ...]
    #: The measure that counts the answer times the percentiles are of.
    timed: str
    #: The figures from the measures and the percentiles (report JSON shape).
    section: Callable[[Organisation, M, Sequence[float | None]], dict[str, Any]]

    def read(self, row: Mapping[Any, Any]) -> M:
        """The measures of one row of ``aggregates`` (a missing sum is 0)."""
        fields: tuple[str, ...] = self.measures._fields  # type: ignore[attr-defined]  # a NamedTuple
        values: list[Any] = [row[name] or 0 for name in fields]
        return self.measures(*values)

    def empty(self, org: Organisation) -> dict[str, Any]:
        """The figures of a period without contacts of this channel."""
        return self.section(org, self.measures(), [None] * len(self.percentiles))
