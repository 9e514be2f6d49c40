"""The national working-day rules (pure functions; no database)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import version

import holidays
from holidays import DE_FACTO, PUBLIC

#: Bumped whenever the rules below change; a calendar built under another version is rebuilt.
RULES_VERSION = f"2026-11-1/holidays-{version('holidays')}"

#: Countries whose working days the project knows.
COUNTRIES = ("SE", "NO")


@lru_cache(maxsize=64)
def _national(country: str, year: int) -> dict[date, str]:
    if country == "SE":
        # Midsommarafton, julafton and nyårsafton count as holidays for deadlines
        # (Lag 1930:173, 2 §): they are DE_FACTO in the holidays package. Without
        # include_sundays=False every Sunday would be listed as a "holiday" by name.
        cal = holidays.country_holidays(
            "SE", categories=(PUBLIC, DE_FACTO), include_sundays=False, years=year
        )
    elif country == "NO":
        # Helligdager only; julaften and nyttårsaften are legally ordinary working days.
        cal = holidays.country_holidays("NO", categories=(PUBLIC,), years=year)
    else:
        raise ValueError(f"no working-day calendar for country {country!r}")
    return {day: name for day, name in cal.items() if day.year == year}


def national_holidays(country: str, year: int) -> dict[date, str]:
    """The country's non-working holidays of one year, by date, with their names."""
    return dict(_national(country, year))


def day_kind(country: str, day: date, closed: Iterable[date] = ()) -> tuple[bool, str]:
    """Whether ``day`` is a working day, and why (weekday, weekend, the holiday's name, closed)."""
    if day.weekday() >= 5:
        return False, "weekend"
    name = _national(country, day.year).get(day)
    if name is not None:
        return False, name
    if day in set(closed):
        return False, "closed"
    return True, "weekday"


def is_working_day(country: str, day: date, closed: Iterable[date] = ()) -> bool:
    """Monday-Friday, not a national holiday, not one of the organisation's closed days."""
    return day_kind(country, day, closed)[0]


def days(first: date, last: date) -> Iterator[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    for n in range((last - first).days + 1):
        yield first + timedelta(days=n)


def nth_working_day(
    country: str, year: int, month: int, n: int, closed: Iterable[date] = ()
) -> date:
    """The ``n``-th working day (1-based) of a month."""
    closed_set = set(closed)
    day = date(year, month, 1)
    seen = 0
    while True:
        if is_working_day(country, day, closed_set):
            seen += 1
            if seen == n:
                return day
        day += timedelta(days=1)


#: The holidays package's language for each page language.
_HOLIDAY_LANGUAGES = {"sv": "sv", "nb": "no", "en": "en_US"}


@lru_cache(maxsize=256)
def holiday_name(country: str, day: date, locale: str) -> str | None:
    """The national holiday's name in the reader's language ("Midsommarafton"), or None."""
    language = _HOLIDAY_LANGUAGES.get(locale.split("_")[0], "en_US")
    categories = (PUBLIC, DE_FACTO) if country == "SE" else (PUBLIC,)
    try:
        cal = holidays.country_holidays(
            country, categories=categories, years=day.year, language=language
        )
    except NotImplementedError:
        return None
    name = cal.get(day)
    return str(name) if name is not None else None
