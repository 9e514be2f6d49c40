"""Kolada client and the national comparison, against a local server answering in Kolada's shape."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest
from werkzeug import Request, Response

import integrations.kolada as kolada
from integrations.kolada import HttpKoladaClient, KoladaError
from servicedesk.metrics.periods import Month
from servicedesk.reports.service import generate_report
from tests.helpers import event, post


def _row(municipality: str, year: int, value: float | None) -> dict:
    values = [
        {
            "count": 1,
            "gender": "T",
            "status": "" if value is not None else "Missing",
            "value": value,
        }
    ]
    if value is not None:
        values.append({"count": 1, "gender": "K", "status": "", "value": value + 1})
    return {"kpi": "U00442", "municipality": municipality, "period": year, "values": values}


class FakeKolada:
    """Kolada's data endpoint: two pages; ``/flaky`` prefix fails once, ``/slow`` stalls."""

    requests: list[str] = []
    failures_left = 1

    @staticmethod
    def answer(request: Request) -> Response:
        query = request.query_string.decode()
        path = request.path + (f"?{query}" if query else "")
        FakeKolada.requests.append(path)
        if path.startswith("/slow"):
            time.sleep(1.0)
        if path.startswith("/flaky") and FakeKolada.failures_left:
            FakeKolada.failures_left -= 1
            return _json(502, {"error": "bad gateway"})
        if "/municipality/" not in path:
            return _json(404, {"error": "not found"})
        if path.endswith("?page=2"):
            return _json(200, {"count": 2, "values": [_row("0000", 2024, 71.0)], "next_page": None})
        page = {
            "count": 4,
            "values": [
                _row("1881", 2023, 80.0),
                _row("1881", 2024, None),
                _row("0000", 2023, 70.0),
            ],
            "next_page": f"{request.host_url.rstrip('/')}{path}?page=2",
        }
        return _json(200, page)


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def kolada_url(httpserver):
    FakeKolada.requests = []
    FakeKolada.failures_left = 1
    httpserver.expect_request(re.compile("/.*"), method="GET").respond_with_handler(
        FakeKolada.answer
    )
    return httpserver.url_for("/").rstrip("/")


def test_client_follows_pages(kolada_url):
    client = HttpKoladaClient(kolada_url)
    values = client.values("U00442", ["1881", "0000"], [2024, 2023])
    client.close()
    assert FakeKolada.requests[0] == "/v3/data/kpi/U00442/municipality/1881,0000/year/2023,2024"
    totals = {(v.municipality, v.year): v.value for v in values if v.gender == "T"}
    assert totals == {
        ("1881", 2023): 80.0,
        ("1881", 2024): None,
        ("0000", 2023): 70.0,
        ("0000", 2024): 71.0,
    }


def test_client_retries_5xx_and_refuses_4xx(kolada_url):
    delays: list[float] = []
    client = HttpKoladaClient(kolada_url + "/flaky", sleep=delays.append)
    assert len(client.values("U00442", ["1881"], [2023])) > 0
    assert delays == [1.0]
    with pytest.raises(KoladaError, match="HTTP 404"):
        HttpKoladaClient(kolada_url + "/nothing", sleep=delays.append)._get(kolada_url + "/x")


def test_client_gives_up_on_timeouts(kolada_url, monkeypatch):
    monkeypatch.setattr(kolada, "TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(kolada, "ATTEMPTS", 2)
    client = HttpKoladaClient(kolada_url + "/slow", sleep=lambda s: None)
    with pytest.raises(KoladaError, match="gave up after 2 attempts .timed out"):
        client.values("U00442", ["1881"], [2023])
    client.close()


def test_client_refuses_answers_not_in_kolada_shape():
    with pytest.raises(KoladaError):
        kolada._parse({"values": [{"kpi": "U1", "values": [{"value": 1}]}]})
    with pytest.raises(KoladaError):
        kolada._parse([])


def test_fetch_and_show_beside_the_report(runner, db, org, client, token, kolada_url):
    args = [
        "kolada",
        "add",
        "--org",
        "kumla",
        "--municipality",
        "1881",
        "--kpi",
        "U00442",
        "--figure",
        "email.within_1_working_day",
        "--label",
        "E-post inom 1 dag",
    ]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already compared" in again.output
    fetched = runner.invoke(
        args=["kolada", "fetch", "--org", "kumla", "--years", "2023,2024", "--base-url", kolada_url]
    )
    assert fetched.exit_code == 0, fetched.output
    assert "stored 7 values" in fetched.stdout
    # Fetching again replaces values instead of adding rows.
    assert "stored 7 values" in runner.invoke(args=fetched_args(kolada_url)).stdout
    post(client, token, event("email.received", contact_id="m1", at="2024-06-03T09:00:00+02:00"))
    post(client, token, event("email.replied", contact_id="m1", at="2024-06-03T15:00:00+02:00"))
    generate_report(db, org, Month(2024, 6), now=datetime(2024, 7, 4, 4, tzinfo=UTC))
    db.commit()
    table = runner.invoke(args=["report", "show", "--org", "kumla", "--month", "2024-06"])
    assert table.exit_code == 0, table.output
    line = next(x for x in table.stdout.splitlines() if x.startswith("U00442"))
    # 2024 is missing for Kumla in Kolada, so its latest value (2023) is shown.
    assert line == "U00442\tE-post inom 1 dag\t100.0\t80.0 (2023)\t71.0 (2024)"
    doc = json.loads(
        runner.invoke(
            args=["report", "show", "--org", "kumla", "--month", "2024-06", "--format", "json"]
        ).stdout
    )
    assert doc["kolada"][0]["nation"] == {"year": 2024, "value": 71.0}


def fetched_args(url: str) -> list[str]:
    return ["kolada", "fetch", "--org", "kumla", "--years", "2023,2024", "--base-url", url]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--municipality", "1881", "--kpi", "bad", "--figure", "phone.service_level"], "--kpi"),
        (
            ["--municipality", "0000", "--kpi", "U00442", "--figure", "phone.service_level"],
            "--municipality",
        ),
    ],
)
def test_kolada_add_errors(runner, org, args, message):
    result = runner.invoke(args=["kolada", "add", "--org", "kumla", *args])
    assert result.exit_code != 0 and message in result.output


def test_fetch_without_kpis_or_with_kolada_down(runner, org):
    result = runner.invoke(args=["kolada", "fetch", "--org", "kumla"])
    assert result.exit_code != 0 and "kolada add first" in result.output


#: Kolada's KPI metadata as v3 answers a title search: the fields of rKolada's mocked v3
#: responses (LCHansson/rKolada, tests/testthat/test-api-mocked.R), paged by ``next_url``.
#: The ids and titles are made up for the test: servicedesk ships no KPI id.
def _kpi(kpi_id: str, title: str) -> dict:
    return {
        "id": kpi_id,
        "title": title,
        "description": "Beskrivning.",
        "auspice": "X",
        "has_ou_data": 0,
        "is_divided_by_gender": False,
        "municipality_type": "K",
        "operating_area": "Kommunen som helhet",
        "publication_date": "2025-03-01",
        "publ_period": "2024",
    }


def test_kpis_are_looked_up_by_title_through_the_api(httpserver, runner):
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/v3/kpi", query_string="title=e-post+svar").respond_with_json(
        {
            "values": [_kpi("X00001", "Andel som får svar på e-post inom en arbetsdag")],
            "next_url": f"{base}/v3/kpi?title=e-post+svar&page=2",
        }
    )
    httpserver.expect_request("/v3/kpi", query_string="title=e-post+svar&page=2").respond_with_json(
        {"values": [_kpi("X00002", "Gott bemötande\nvid e-post")], "next_url": None}
    )
    found = HttpKoladaClient(base).search_kpis("e-post svar")
    assert [k.id for k in found] == ["X00001", "X00002"]
    assert found[0].operating_area == "Kommunen som helhet"
    result = runner.invoke(args=["kolada", "kpis", "--search", "e-post svar", "--base-url", base])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "X00001\tAndel som får svar på e-post inom en arbetsdag\tKommunen som helhet",
        "X00002\tGott bemötande vid e-post\tKommunen som helhet",
    ]
    httpserver.expect_request("/v3/kpi", query_string="title=inget").respond_with_json(
        {"values": [], "next_url": None}
    )
    none = runner.invoke(args=["kolada", "kpis", "--search", "inget", "--base-url", base])
    assert none.exit_code == 0 and "no KPI" in none.output
    httpserver.expect_request("/v3/kpi", query_string="title=trasig").respond_with_json(
        {"unexpected": True}
    )
    broken = runner.invoke(args=["kolada", "kpis", "--search", "trasig", "--base-url", base])
    assert broken.exit_code != 0 and "kolada:" in broken.output
    assert "Traceback" not in broken.output


def test_the_survey_comparisons_are_the_per_channel_figures(runner, org):
    result = runner.invoke(
        args=[
            "kolada",
            "add",
            "--org",
            "kumla",
            "--municipality",
            "1881",
            "--kpi",
            "X00003",
            "--figure",
            "survey.ease.index",
        ]
    )
    assert result.exit_code != 0 and "survey_headline.phone_ease.index" in result.output
