# ruff: noqa: F811  (the fixtures of test_pages are imported by name)
"""The Period page: any period beside the one before and a year before, its drill-down, and the
periods it refuses (on the small known traffic of test_pages)."""

from __future__ import annotations

import pytest

from tests.web.test_pages import _svgs, frozen_clock, traffic  # noqa: F401  (fixtures)


def test_a_week_with_its_comparisons_and_charts(client, org, traffic, signed_in):  # noqa: F811
    signed_in(org, "team_leader")
    response = client.get("/period?period=2026-W25")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Vecka 25, 2026" in html
    assert "Veckan före" in html
    # A week is compared with the same week a year before, not with a month.
    assert "Ett år tidigare" in html and "Samma månad i fjol" not in html
    # Week 25 (15-21 June) has the four calls of the 17th: 1 direct answer of 4 -> 25 %.
    assert 'data-figure="phone.direct_answer_rate"' in html
    assert "25,0" in html
    # Handle time: b1 answered 09:00:30, ended 09:05 -> 270 s; v1 10:01:30 -> 10:05 = 210 s.
    assert "4 min 0 s" in html  # the mean of 270 and 210
    assert html.count('<figure class="chart"') == 4
    assert len(_svgs(html)) == 4
    # The drill-down keeps the period.
    assert "/month/contacts?period=2026-W25" in html


def test_drill_down_of_a_period(client, org, traffic, signed_in):  # noqa: F811
    signed_in(org, "team_leader")
    html = client.get("/month/contacts?period=2026-W25&channel=phone&outcome=abandoned").get_data(
        as_text=True
    )
    assert 'data-total="2"' in html
    assert "Vecka 25, 2026" in html
    # The May call is outside week 25 but inside the quarter.
    quarter = client.get("/month/contacts?period=2026-Q2&channel=phone").get_data(as_text=True)
    assert 'data-total="5"' in quarter


@pytest.mark.parametrize(
    ("query", "heading"),
    [
        ("period=2026-06-17", "Onsdag 17 juni 2026"),
        ("period=2026-Q2", "Kvartal 2 2026"),
        ("period=ytd", "2026 till och med 17 juni"),
        ("period=2026", "2026"),
        ("from=2026-05-20&to=2026-06-17", "20 maj 2026 till 17 juni 2026"),
    ],
)
def test_every_kind_of_period(client, org, traffic, signed_in, query, heading):  # noqa: F811
    signed_in(org, "team_leader")
    response = client.get(f"/period?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert f"<h1>{heading}</h1>" in html


def test_a_month_is_the_month_page(client, org, traffic, signed_in):  # noqa: F811
    signed_in(org, "team_leader")
    response = client.get("/period?period=2026-06")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/month?month=2026-06")
    html = client.get("/month?month=2026-06").get_data(as_text=True)
    assert 'data-figure="phone.handle_seconds.median"' in html
    assert "/period?period=2026-W25" in html  # the tabs lead to the other kinds


@pytest.mark.parametrize(
    "query",
    ["period=2026-W60", "period=2027-01", "period=soon", "from=2026-06-10&to=2026-06-01",
     "period=1999"],
)  # fmt: skip
def test_what_is_not_a_period_is_not_found(client, org, signed_in, query):
    signed_in(org, "team_leader")
    assert client.get(f"/period?{query}").status_code == 404
