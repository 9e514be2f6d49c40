"""How figures are rounded and divided: the same on every engine and platform."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def rounded(value: float | None, places: int = 2) -> float | None:
    """Round half away from zero on the decimal value (the same on every engine and platform)."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def rate(part: int | float, whole: int | float) -> float | None:
    """A percentage, null when there is nothing to divide by."""
    return rounded(100.0 * part / whole) if whole else None
