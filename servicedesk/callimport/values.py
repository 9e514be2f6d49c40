"""Cell values as the suites write them: Nordic dates, decimal commas, h:mm:ss durations.

Each parser takes what a cell holds (text from a CSV; text, number, date or time from an XLSX)
and raises ``ValueProblem`` with a message that names the value, so a refused row says why.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any


class ValueProblem(ValueError):
    """A cell that cannot be read as what its column is for."""


#: Date-times read without a format: ISO 8601 ("2026-03-05 08:14", "2026-03-05T08:14:07+01:00")
#: and the dotted day-first form Norwegian, Finnish and German exports write ("5.3.2026 8:14").
_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DOTTED = re.compile(
    r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?$"
)
_SLASHED = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d+))?$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
#: Spaces people and spreadsheets put in numbers ("1 234"): space, no-break and narrow no-break.
_GROUPING = str.maketrans("", "", " \u00a0\u202f")


def clean(value: Any) -> Any:
    """A cell with surrounding whitespace removed; empty text becomes None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _offset(text: str) -> tzinfo:
    from datetime import timezone

    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_datetime(value: Any, zone: tzinfo, formats: tuple[str, ...] = ()) -> datetime:
    """An aware instant; a value without an offset is on the wall clock of ``zone``."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        parsed = _datetime_text(value.strip(), formats)
    else:
        raise ValueProblem(f"{value!r} is not a date and time")
    if parsed.tzinfo is None:
        # fold=0: an hour that occurs twice in autumn is read as its first occurrence.
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _datetime_text(text: str, formats: tuple[str, ...]) -> datetime:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    if formats:
        raise ValueProblem(f"{text!r} does not match the date format {' or '.join(formats)}")
    match = _ISO.match(text)
    if match:
        y, mo, d, h, mi, s, frac, off = match.groups()
        parts = (int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        micro = int((frac or "0").ljust(6, "0")[:6])
        try:
            result = datetime(*parts, micro)
        except ValueError as exc:
            raise ValueProblem(f"{text!r} is not a valid date and time") from exc
        return result.replace(tzinfo=_offset(off)) if off else result
    match = _DOTTED.match(text)
    if match:
        d, mo, y, h, mi, s = match.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        except ValueError as exc:
            raise ValueProblem(f"{text!r} is not a valid date and time") from exc
    if _SLASHED.match(text):
        raise ValueProblem(
            f"{text!r} could be day/month or month/day: set formats under [time] in the mapping"
        )
    raise ValueProblem(f"{text!r} is not a date and time (expected e.g. 2026-03-05 08:14)")


def parse_number(value: Any) -> float:
    """A number written with a decimal point or comma, with or without grouping spaces."""
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        text = value.translate(_GROUPING)
        if _NUMBER.match(text):
            try:
                return float(Decimal(text.replace(",", ".")))
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                pass
    raise ValueProblem(f"{value!r} is not a number")


def parse_seconds(value: Any, unit_seconds: float = 1.0) -> float:
    """A duration: a number of ``unit_seconds`` units, ``[h:]mm:ss``, or an Excel time."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    elif isinstance(value, str) and ":" in value:
        match = _CLOCK.match(value.strip())
        if not match:
            raise ValueProblem(f"{value!r} is not a duration (expected seconds or h:mm:ss)")
        h, m, s, frac = match.groups()
        seconds = int(h or 0) * 3600 + int(m) * 60 + int(s) + float(f"0.{frac or 0}")
        if int(s) >= 60 or (h is not None and int(m) >= 60):
            raise ValueProblem(f"{value!r} is not a duration (expected seconds or h:mm:ss)")
    else:
        seconds = parse_number(value) * unit_seconds
    if seconds < 0:
        raise ValueProblem(f"{value!r} is a negative duration")
    if seconds > 7 * 24 * 3600:
        raise ValueProblem(f"{value!r} is longer than a week")
    return seconds


def parse_bool(value: Any, yes: frozenset[str], no: frozenset[str]) -> bool | None:
    """True or False by the mapping's words (case-insensitive); None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if isinstance(value, int | float) and float(value).is_integer():
        text = str(int(value))
    if text in yes:
        return True
    if text in no:
        return False
    raise ValueProblem(f"{value!r} is neither one of {sorted(yes)} nor one of {sorted(no)}")


def as_text(value: Any) -> str:
    """A cell as text, the way it would be typed (integers without ".0", dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()
