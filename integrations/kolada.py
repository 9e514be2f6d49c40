"""Kolada's open API (RKA): KPI values per municipality and year, "0000" being the nation,
and the KPIs' metadata, searched by title.

``GET {base}/v3/data/kpi/{kpi}/municipality/{id}/year/{years}`` answers
``{"count", "values": [{"kpi", "municipality", "period", "values": [{"gender", "status",
"value", "count"}]}], "next_page"}``; pages are followed until there is no next one.

``GET {base}/v3/kpi?title=TEXT`` answers ``{"values": [{"id", "title", "description",
"operating_area", "municipality_type", "is_divided_by_gender", "has_ou_data",
"publication_date", ...}], "next_url"}`` (the shape rKolada's tests mock, LCHansson/rKolada
tests/testthat/test-api-mocked.R, and its ``compose_metadata_query`` builds the ``?title=``
search). No KPI id is shipped with servicedesk: the administrator looks one up with this.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urlencode

import httpx

T = TypeVar("T")

BASE_URL = "https://api.kolada.se"
NATION = "0000"
TIMEOUT_SECONDS = 15.0
#: Attempts per page: network trouble, timeouts, 429 and 5xx are tried again.
ATTEMPTS = 4


class KoladaError(Exception):
    """Kolada could not be read (after retries) or answered something else than its shape."""


@dataclass(frozen=True)
class KpiValue:
    kpi: str
    municipality: str
    year: int
    #: "T" total, "K" women, "M" men.
    gender: str
    value: float | None
    status: str


@dataclass(frozen=True)
class KpiInfo:
    """A KPI's metadata, as a search lists it."""

    id: str
    title: str
    operating_area: str
    description: str


class KoladaClient(Protocol):
    def values(
        self, kpi: str, municipalities: Iterable[str], years: Iterable[int]
    ) -> list[KpiValue]: ...

    def search_kpis(self, text: str) -> list[KpiInfo]: ...


def _parse_kpis(page: object) -> tuple[list[KpiInfo], str | None]:
    if not isinstance(page, dict) or not isinstance(page.get("values"), list):
        raise KoladaError("the answer has no values list")
    found = []
    for row in page["values"]:
        try:
            found.append(
                KpiInfo(
                    id=str(row["id"]),
                    title=str(row.get("title") or ""),
                    operating_area=str(row.get("operating_area") or ""),
                    description=str(row.get("description") or ""),
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise KoladaError(f"a KPI is not in Kolada's shape: {exc}") from None
    next_page = page.get("next_url") or page.get("next_page")
    return found, str(next_page) if next_page else None


def _parse(page: object) -> tuple[list[KpiValue], str | None]:
    if not isinstance(page, dict) or not isinstance(page.get("values"), list):
        raise KoladaError("the answer has no values list")
    found = []
    for row in page["values"]:
        try:
            for item in row.get("values") or []:
                value = item.get("value")
                found.append(
                    KpiValue(
                        kpi=str(row["kpi"]),
                        municipality=str(row["municipality"]),
                        year=int(row["period"]),
                        gender=str(item.get("gender") or "T"),
                        value=None if value is None else float(value),
                        status=str(item.get("status") or ""),
                    )
                )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise KoladaError(f"a value row is not in Kolada's shape: {exc}") from None
    next_page = page.get("next_page") or page.get("next_url")
    return found, str(next_page) if next_page else None


class HttpKoladaClient:
    """Kolada over httpx, with timeouts, retries with backoff, and paging."""

    def __init__(
        self,
        base_url: str = BASE_URL,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=TIMEOUT_SECONDS)
        self.sleep = sleep

    def _get(self, url: str) -> object:
        problem = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self.client.get(url, timeout=TIMEOUT_SECONDS)
            except httpx.TimeoutException:
                problem = f"timed out after {TIMEOUT_SECONDS:.0f} s"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise KoladaError("the answer is not JSON") from None
                if response.status_code < 500 and response.status_code != 429:
                    raise KoladaError(f"HTTP {response.status_code} for {url}")
                problem = f"HTTP {response.status_code}"
            if attempt < ATTEMPTS:
                self.sleep(2.0 ** (attempt - 1))
        raise KoladaError(f"gave up after {ATTEMPTS} attempts ({problem})")

    def _paged(self, url: str, parse: Callable[[object], tuple[list[T], str | None]]) -> list[T]:
        """Every page from ``url`` on, following Kolada's link to the next (at most 100)."""
        found: list[T] = []
        next_url: str | None = url
        for _page in range(100):
            if not next_url:
                break
            items, next_url = parse(self._get(next_url))
            found += items
        return found

    def values(
        self, kpi: str, municipalities: Iterable[str], years: Iterable[int]
    ) -> list[KpiValue]:
        ids = ",".join(municipalities)
        year_list = ",".join(str(y) for y in sorted(set(years)))
        return self._paged(
            f"{self.base_url}/v3/data/kpi/{kpi}/municipality/{ids}/year/{year_list}", _parse
        )

    def search_kpis(self, text: str) -> list[KpiInfo]:
        """The KPIs whose title contains ``text`` (Kolada searches case-insensitively)."""
        return self._paged(f"{self.base_url}/v3/kpi?{urlencode({'title': text})}", _parse_kpis)

    def close(self) -> None:
        self.client.close()
