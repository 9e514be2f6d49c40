"""Numbers, percentages, durations and dates in the reader's locale (Jinja filters)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _

DASH = "–"


@lru_cache(maxsize=16)
def _percent_pattern(locale: str, places: int) -> str:
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return str(pattern.replace("#,##0", "#,##0." + "0" * places) if places else pattern)


def num(value: Any, places: int = 0) -> str:
    """A number with the locale's separators."""
    if value is None:
        return DASH
    return str(format_decimal(value, format="#,##0." + "0" * places if places else "#,##0"))


def pct(value: Any, places: int = 1) -> str:
    """A rate given as 0-100."""
    if value is None:
        return DASH
    from babel.numbers import format_percent

    locale = str(get_locale() or "sv")
    return str(
        format_percent(float(value) / 100, format=_percent_pattern(locale, places), locale=locale)
    )


def secs(value: Any) -> str:
    """A wait: seconds under a minute ("43 s"), else minutes and seconds ("1 min 59 s"), so
    the figures of one card are written alike."""
    if value is None:
        return DASH
    value = float(value)
    if round(value) < 60:
        return str(_("%(n)s s", n=num(value)))
    minutes, seconds = divmod(int(round(value)), 60)
    return str(_("%(m)s min %(s)s s", m=num(minutes), s=num(seconds)))


def hours(value: Any) -> str:
    if value is None:
        return DASH
    return str(_("%(n)s h", n=num(value, 1)))


def index(value: Any) -> str:
    return DASH if value is None else num(value, 1)


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return DASH
    if isinstance(value, datetime):
        return str(format_datetime(value, fmt))
    return str(format_date(value, fmt))


def month_label(value: date, fmt: str = "LLLL yyyy") -> str:
    """ "Juni 2026": Swedish and Norwegian month names are lower case, headings start upper."""
    text = str(format_date(value, fmt))
    return text[:1].upper() + text[1:]


def signed(value: Any, places: int = 1, unit: str = "") -> str:
    """A difference with its sign (+1.5, −2.0)."""
    if value is None:
        return DASH
    text = num(abs(value), places)
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{text}{unit}"


def apply(value: Any, name: str) -> str:
    """Write a figure with the filter its spec names ("pct", "secs" ...)."""
    return str(FILTERS[name](value))


def isodate(value: str | date | None) -> date | None:
    """An ISO date ("2026-10-15") as a date, for ``day`` (None stays None)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {**a, **b}


FILTERS: dict[str, Any] = {
    "num": num,
    "pct": pct,
    "secs": secs,
    "hours": hours,
    "index": index,
    "day": day,
    "month_label": month_label,
    "signed": signed,
    "apply": apply,
    "combine": combine,
    "isodate": isodate,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
