# ruff: noqa: F811  (the fixtures of test_pages are imported by name)
"""The Intervals page on the small known traffic of test_pages (Wednesday 17 June 2026)."""

from __future__ import annotations

import pytest

from tests.web.test_pages import _svgs, frozen_clock, traffic  # noqa: F401  (fixtures)


def test_week_heat_map_and_the_day_in_intervals(client, org, traffic, signed_in):  # noqa: F811
    signed_in(org, "team_leader")
    response = client.get("/intervals?period=2026-W25&day=2026-06-17&minutes=30")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'id="week-hours"' in html
    assert "Onsdag" in html
    # 30-minute intervals of the 17th: 09:00 has b1 and b2 (09:00, 09:20), 10:00 has v1.
    table = html[html.index('id="day-intervals"') :]
    assert '<th scope="row">09:00</th><td class="num">2</td>' in table
    assert '<th scope="row">10:00</th><td class="num">1</td>' in table
    assert '<th scope="row">09:30</th><td class="num">0</td>' in table
    assert len(_svgs(html)) == 2


@pytest.mark.parametrize("show", ["service_level", "abandon_rate", "mean_wait"])
def test_each_measure(client, org, traffic, signed_in, show):  # noqa: F811
    signed_in(org, "team_leader")
    response = client.get(f"/intervals?period=2026-W25&show={show}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query", ["minutes=20", "show=nothing", "day=2026-13-01", "day=2027-01-01", "minutes=x"]
)
def test_refused(client, org, signed_in, query):
    signed_in(org, "team_leader")
    assert client.get(f"/intervals?{query}").status_code == 404
