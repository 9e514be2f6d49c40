"""SKR's national Servicemätning figures, shipped as data (data/national.toml) with year and
source, to show beside an organisation's own figures. Updating them is editing that file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from servicedesk.metrics.definitions import HEADLINE

DATA = Path(__file__).with_name("data") / "national.toml"


@dataclass(frozen=True, slots=True)
class NationalFigures:
    year: int
    country: str
    municipalities: int
    source: str
    #: Headline figure key (phone_ease, ...) -> national index.
    index: dict[str, float]


@lru_cache(maxsize=4)
def load(path: Path = DATA) -> tuple[NationalFigures, ...]:
    """Every year in the file, newest first; a figure missing from a year is left out."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    years = []
    for entry in raw.get("year", []):
        years.append(
            NationalFigures(
                year=int(entry["year"]),
                country=str(entry.get("country", "SE")),
                municipalities=int(entry.get("municipalities", 0)),
                source=str(entry["source"]),
                index={key: float(entry[key]) for key, _, _ in HEADLINE if key in entry},
            )
        )
    return tuple(sorted(years, key=lambda y: y.year, reverse=True))


def latest(country: str) -> NationalFigures | None:
    """The newest national figures of the organisation's country (none for Norway yet)."""
    return next((y for y in load() if y.country == country.upper()), None)
