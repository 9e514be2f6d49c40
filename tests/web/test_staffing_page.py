"""The Staffing page: the heat map and table of Erlang C's advice, a what-if, its XLSX, and
what-ifs out of range named."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine

from servicedesk.metrics.staffing import erlang_c
from tests.helpers import ingest
from tests.metrics.test_periods import answered

TZ = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def weeks(db, org):
    """Each Monday 9-10 of four weeks (25 May - 15 June 2026): 6 calls of 3 minutes."""
    calls = []
    for week in range(4):
        day = datetime(2026, 5, 25, 9, 0, tzinfo=TZ) + timedelta(weeks=week)
        for n in range(6):
            calls += answered(f"w{week}-{n}", (day + timedelta(minutes=9 * n)).isoformat(), 20, 180)
    ingest(db, org, *calls)
    db.commit()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 6, 24, 12, 0, tzinfo=TZ), tick=False):
        yield


def test_advice_heat_map_and_table(client, org, weeks, signed_in):
    signed_in(org, "team_leader")
    response = client.get("/staffing?weeks=4")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    expected = erlang_c(6, 180, 0.8, 60)
    table = html[html.index('id="staffing-table"') :]
    assert '<th scope="row">Måndag</th><td>09–10</td>' in table
    assert f"<strong>{expected.scheduled}</strong>" in table
    assert 'id="staffing-heat"' in html


def test_what_if_and_xlsx(client, org, weeks, signed_in):
    signed_in(org, "team_leader")
    strict = client.get("/staffing?weeks=4&target=99&seconds=5").get_data(as_text=True)
    assert f"<strong>{erlang_c(6, 180, 0.99, 5).scheduled}</strong>" in strict
    response = client.get("/staffing.xlsx?weeks=4&target=99&seconds=5")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(book.active.iter_rows(values_only=True))
    monday = next(r for r in rows if r[0] == "Måndag")
    assert monday[1] == "09–10"
    assert monday[2] == 6
    assert monday[5] == erlang_c(6, 180, 0.99, 5).scheduled


@pytest.mark.parametrize("query", ["target=120", "seconds=x", "weeks=0", "shrinkage=95"])
def test_what_ifs_out_of_range_are_named(client, org, signed_in, query):
    signed_in(org, "team_leader")
    response = client.get(f"/staffing?{query}")
    assert response.status_code == 400
    assert 'class="flash error"' in response.get_data(as_text=True)
