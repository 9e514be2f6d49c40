"""The periods a comparison covers: a month ("2026-06"), a quarter ("2026-Q2"), a year ("2026")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from servicedesk.metrics.periods import Month

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A month, quarter or year, as the months it is made of."""

    kind: str  # "month", "quarter" or "year"
    text: str
    months: tuple[Month, ...]

    @classmethod
    def parse(cls, text: str) -> Period:
        """ValueError naming the accepted forms for anything else."""
        if m := _QUARTER.match(text):
            year, quarter = int(m.group(1)), int(m.group(2))
            months = tuple(Month(year, 3 * (quarter - 1) + n) for n in (1, 2, 3))
            return cls("quarter", text, months)
        if m := _YEAR.match(text):
            year = int(m.group(1))
            return cls("year", text, tuple(Month(year, n) for n in range(1, 13)))
        try:
            month = Month.parse(text) if text == text.strip() else None
        except ValueError:
            month = None
        if month is None:
            raise ValueError(f"period: expected YYYY-MM, YYYY-Qn or YYYY, got {text!r}")
        return cls("month", str(month), (month,))

    @classmethod
    def of_month(cls, month: Month) -> Period:
        return cls("month", str(month), (month,))

    @property
    def last(self) -> Month:
        return self.months[-1]

    def __str__(self) -> str:
        return self.text


def last_months(month: Month, n: int = 12) -> list[Month]:
    """``n`` months ending with ``month``, oldest first."""
    out = [month]
    while len(out) < n:
        out.append(out[-1].previous())
    return out[::-1]
