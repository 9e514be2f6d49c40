"""Days, ISO weeks and months as inclusive ranges of local dates (the contacts' period keys)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, written "2026-06"."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse YYYY-MM ("2026-06"); ValueError naming the expected form otherwise."""
        m = _MONTH_RE.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"month: expected YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def year_before(self) -> Month:
        return Month(self.year - 1, self.month)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def utc_bounds(self, tz: str) -> tuple[datetime, datetime]:
        """The instants where the month starts and ends on the local wall clock, in UTC."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.first, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(self.next().first, time(), tzinfo=zone).astimezone(UTC)
        return start, end


def day_range(day: date) -> tuple[date, date]:
    """One local day."""
    return day, day


def week_range(day: date) -> tuple[date, date]:
    """The ISO week (Monday to Sunday) that contains ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_range(day_or_month: date | Month) -> tuple[date, date]:
    """The calendar month that contains a day (or the month itself)."""
    month = day_or_month if isinstance(day_or_month, Month) else Month.of(day_or_month)
    return month.first, month.last
