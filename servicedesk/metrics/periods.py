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


def shown_month(text: str | None, today: date) -> Month:
    """The month a page was asked for ("2026-06"; none: this month); ValueError for one that is
    malformed, still to come or before 2000 (the pages answer 404)."""
    if not text:
        return Month.of(today)
    month = Month.parse(text)
    if month > Month.of(today) or month.year < 2000:
        raise ValueError(f"month out of range: {text}")
    return month


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


# ---------------------------------------------------------------------------------------------
# any period: what a team leader picks (a day, an ISO week, a month, a quarter, a year, the year
# to date, a chosen range), written as one short text that URLs and the reports API share.

_DAY = r"(\d{4})-(\d{2})-(\d{2})"
_PERIOD_RES = {
    "day": re.compile(rf"^{_DAY}$"),
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": _MONTH_RE,
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
    "ytd": re.compile(rf"^ytd:{_DAY}$"),
    "range": re.compile(rf"^{_DAY}\.\.{_DAY}$"),
}
#: The kinds of period, in the order the pages offer them.
PERIOD_KINDS = ("day", "week", "month", "quarter", "ytd", "year", "range")
#: The longest chosen range (days): two years and a leap day, enough to compare two years side
#: by side, and a bound on what one page view can make the database read.
MAX_RANGE_DAYS = 731
#: The years a period may fall in (its neighbours must be dates too).
MIN_YEAR, MAX_YEAR = 1900, 9000
#: The written forms, for error messages.
PERIOD_FORMS = (
    "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn, YYYY, ytd, ytd:YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
)


def _years_on(day: date, years: int) -> date:
    """The same date ``years`` years later or earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _a_year_before(day: date) -> date:
    return _years_on(day, -1)


def _iso_week(year: int, week: int) -> date:
    """The Monday of ISO week ``week`` of ``year`` (week 53 only in the years that have one)."""
    return date.fromisocalendar(year, week, 1)


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of local dates with the kind it was picked as.

    ``previous()`` is the period of the same kind just before (for the year to date and a chosen
    range: as many days just before); ``year_before()`` the same period a year earlier (the same
    ISO week number, the same dates, the year to the same date).
    """

    kind: str
    first: date
    last: date

    @classmethod
    def parse(cls, text: str, today: date) -> Period:
        """A period from its text (see ``PERIOD_FORMS``); ``ytd`` is the year to ``today``.
        ValueError naming the expected forms otherwise."""
        text = text.strip()
        if text == "ytd":
            return cls.ytd(today)
        for kind, pattern in _PERIOD_RES.items():
            m = pattern.match(text)
            if not m:
                continue
            g = [int(x) for x in m.groups()]
            try:
                period = cls._build(kind, g)
            except ValueError as exc:
                raise ValueError(f"period: {exc} in {text!r}") from None
            if not MIN_YEAR <= period.first.year and period.last.year <= MAX_YEAR:
                raise ValueError(f"period: years {MIN_YEAR}-{MAX_YEAR} only, got {text!r}")
            return period
        raise ValueError(f"period: expected {PERIOD_FORMS}, got {text!r}")

    @classmethod
    def _build(cls, kind: str, g: list[int]) -> Period:
        if kind == "day":
            d = date(*g)
            return cls("day", d, d)
        if kind == "week":
            if not 1 <= g[1] <= _weeks_in(g[0]):
                raise ValueError(f"{g[0]} has no week {g[1]}")
            return cls.week(_iso_week(g[0], g[1]))
        if kind == "month":
            if not 1 <= g[1] <= 12:
                raise ValueError("no such month")
            return cls.month(Month(g[0], g[1]))
        if kind == "quarter":
            return cls.quarter(date(g[0], 3 * g[1] - 2, 1))
        if kind == "year":
            return cls("year", date(g[0], 1, 1), date(g[0], 12, 31))
        if kind == "ytd":
            return cls.ytd(date(*g))
        first, last = date(*g[:3]), date(*g[3:])
        if last < first:
            raise ValueError("the range ends before it starts")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a range is at most {MAX_RANGE_DAYS} days")
        return cls("range", first, last)

    @classmethod
    def day(cls, day: date) -> Period:
        return cls("day", day, day)

    @classmethod
    def week(cls, day: date) -> Period:
        return cls("week", *week_range(day))

    @classmethod
    def month(cls, month: Month | date) -> Period:
        return cls("month", *month_range(month))

    @classmethod
    def quarter(cls, day: date) -> Period:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return cls("quarter", start, Month.of(start).next().next().last)

    @classmethod
    def ytd(cls, day: date) -> Period:
        return cls("ytd", date(day.year, 1, 1), day)

    @classmethod
    def of_kind(cls, kind: str, day: date) -> Period:
        """The period of ``kind`` that contains ``day`` (the year to ``day``; a range: the day)."""
        if kind == "year":
            return cls("year", date(day.year, 1, 1), date(day.year, 12, 31))
        makers = {"day": cls.day, "week": cls.week, "month": cls.month, "quarter": cls.quarter,
                  "ytd": cls.ytd}  # fmt: skip
        if kind == "range":
            return cls("range", day, day)
        return makers[kind](day)

    def __str__(self) -> str:
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            iso = self.first.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        if self.kind == "month":
            return str(Month.of(self.first))
        if self.kind == "quarter":
            return f"{self.first.year:04d}-Q{(self.first.month + 2) // 3}"
        if self.kind == "year":
            return f"{self.first.year:04d}"
        if self.kind == "ytd":
            return f"ytd:{self.last.isoformat()}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before; for ytd and ranges, as many days before."""
        if self.kind in ("day", "week"):
            return Period(self.kind, self.first - timedelta(self.days), self.first - timedelta(1))
        if self.kind == "month":
            return Period.month(Month.of(self.first).previous())
        if self.kind == "quarter":
            return Period.quarter(self.first - timedelta(days=1))
        if self.kind == "year":
            return Period.of_kind("year", self.first - timedelta(days=1))
        return Period("range", self.first - timedelta(self.days), self.first - timedelta(1))

    def next(self) -> Period:
        """The period of the same kind just after (ytd: the same span a year later)."""
        if self.kind == "ytd":
            return Period.ytd(_years_on(self.last, 1))
        if self.kind == "range":
            return Period("range", self.last + timedelta(1), self.last + timedelta(self.days))
        return Period.of_kind(self.kind, self.last + timedelta(days=1))

    def year_before(self) -> Period:
        """The same period a year before: the same ISO week number (week 53 becomes the last
        week of a year without one), month, quarter, year, or the same dates."""
        if self.kind == "week":
            iso = self.first.isocalendar()
            week = min(iso.week, _weeks_in(iso.year - 1))
            return Period.week(_iso_week(iso.year - 1, week))
        if self.kind == "month":
            return Period.month(Month.of(self.first).year_before())
        if self.kind in ("quarter", "year"):
            return Period.of_kind(self.kind, _a_year_before(self.first))
        if self.kind == "ytd":
            return Period.ytd(_a_year_before(self.last))
        return Period(self.kind, _a_year_before(self.first), _a_year_before(self.last))

    def as_month(self) -> Month | None:
        """The calendar month this period is exactly, or None."""
        month = Month.of(self.first)
        return month if (self.first, self.last) == (month.first, month.last) else None

    def utc_bounds(self, tz: str) -> tuple[datetime, datetime]:
        """Where the period starts and ends on the local wall clock, in UTC."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.first, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(1), time(), tzinfo=zone).astimezone(UTC)
        return start, end
