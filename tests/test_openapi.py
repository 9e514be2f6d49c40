"""The published OpenAPI document tells the truth, and no input makes the API fail.

schemathesis generates requests from ``/api/v1/openapi.json`` (valid and invalid ones) against the
real application; hypothesis throws arbitrary JSON and bytes at the events parser. Every answer is
documented, no answer is a 5xx, every 4xx is problem+json, and a rejected delivery leaves nothing
behind but its raw delivery row.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from servicedesk.benchmarking.sharing import share
from servicedesk.ingest.models import Delivery, Event
from servicedesk.ingest.schemas import parse_events
from servicedesk.metrics.periods import Month
from servicedesk.reports.service import generate_report
from tests.helpers import event

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)


def _counts(app) -> tuple[int, int, int]:
    with app.extensions["servicedesk.engine"].connect() as conn:
        events = conn.scalar(sa.select(sa.func.count()).select_from(Event))
        deliveries = conn.scalar(sa.select(sa.func.count()).select_from(Delivery))
        rejected = conn.scalar(
            sa.select(sa.func.count()).select_from(Delivery).where(Delivery.status == "rejected")
        )
    return int(events or 0), int(deliveries or 0), int(rejected or 0)


def _assert_rejection_kept_only_the_delivery(app, before, status: int, content_type: str) -> None:
    after = _counts(app)
    if status == 429:  # too many refused from this address: answered, by design not stored
        assert content_type.startswith("application/problem+json"), content_type
        assert after == before, "a rate-limited delivery stored something"
    elif 400 <= status < 500:
        assert content_type.startswith("application/problem+json"), content_type
        assert after[0] == before[0], "a rejected delivery stored events"
        assert after[2] == before[2] + 1, "the rejected delivery was not kept"
    else:
        assert status in (200, 202, 204), status


def test_document_is_served_and_names_only_real_routes(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    rules = {
        (rule.rule, method.lower()) for rule in app.url_map.iter_rules() for method in rule.methods
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert {("/api/v1/events", "post"), ("/healthz", "get"), ("/readyz", "get")} <= documented
    flask_style = {(re.sub(r"\{(\w+)\}", r"<\1>", path), method) for path, method in documented}
    assert flask_style <= rules, flask_style - rules
    public = {(rule, method) for rule, method in rules if rule.startswith(("/api/", "/hooks/"))}
    assert public - {("/api/v1/openapi.json", "get")} <= flask_style | {
        (rule, m) for rule, m in public if m in ("head", "options")
    }


def _fuzz_operation(app, token: str, operation, mode, seen: list[int]) -> None:
    is_delivery = operation.path.startswith(("/api/v1/events", "/hooks/"))

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        before = _counts(app)
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)
        seen.append(response.status_code)
        if is_delivery:
            content_type = response.headers.get("content-type", [""])[0]
            _assert_rejection_kept_only_the_delivery(
                app, before, response.status_code, content_type
            )

    check()


def _run_schemathesis(app, token: str, reader: str, mode: schemathesis.GenerationMode) -> list[int]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen: list[int] = []
    operations = [("/api/v1/events", "POST")]
    if mode == schemathesis.GenerationMode.POSITIVE:  # the health checks take no input to spoil
        operations += [("/healthz", "GET"), ("/readyz", "GET")]
    operations += [
        ("/hooks/{provider}/{token}", "POST"),
        ("/hooks/{provider}/{token}/{kind}", "POST"),
        ("/api/v1/benchmark/members/{member}/messages", "POST"),
    ]
    for path, method in operations:
        _fuzz_operation(app, token, schema[path][method], mode, seen)
    for path in REPORT_PATHS:
        _fuzz_operation(app, reader, schema[path]["GET"], mode, seen)
    return seen


#: The reports API, fuzzed with a reports:read token.
REPORT_PATHS = [
    "/api/v1/reports",
    *(
        base + suffix
        for base in ("/api/v1/reports/{month}", "/api/v1/reports/{month}/versions/{version}")
        for suffix in ("", ".json", ".csv", ".xlsx")
    ),
    "/api/v1/reports/comparisons/{period}",
]


@pytest.fixture
def reader(db, org, make_token) -> str:
    """A reports:read token, and a June 2026 report for it to find (shared for comparison)."""
    generate_report(db, org, Month(2026, 6))
    share(db, org)
    db.commit()
    return make_token(org, scope="reports:read")


def test_the_reports_api_answers_as_documented(app, reader, token):
    """Found, not found, not modified, wrong token: each answer checked against the document."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    cases = [
        ("/api/v1/reports", {}, {}, reader, 200),
        ("/api/v1/reports", {}, {"month": "2026-06"}, token, 403),
        ("/api/v1/reports/{month}", {"month": "2026-06"}, {}, reader, 200),
        ("/api/v1/reports/{month}", {"month": "2026-06"}, {"format": "xlsx"}, reader, 200),
        ("/api/v1/reports/{month}", {"month": "2026-07"}, {}, reader, 404),
        ("/api/v1/reports/{month}.csv", {"month": "2026-06"}, {}, reader, 200),
        ("/api/v1/reports/{month}.xlsx", {"month": "2026-06"}, {}, "sdk_unknown", 401),
        (
            "/api/v1/reports/{month}/versions/{version}",
            {"month": "2026-06", "version": 1},
            {},
            reader,
            200,
        ),
        (
            "/api/v1/reports/{month}/versions/{version}.json",
            {"month": "2026-06", "version": 2},
            {},
            reader,
            404,
        ),
        ("/api/v1/reports/comparisons/{period}", {"period": "2026-06"}, {}, reader, 200),
        ("/api/v1/reports/comparisons/{period}", {"period": "2026-Q2"}, {}, reader, 200),
        ("/api/v1/reports/comparisons/{period}", {"period": "2026"}, {}, token, 403),
    ]
    for path, parameters, query, bearer, status in cases:
        case = schema[path]["GET"].Case(path_parameters=parameters, query=query)
        response = case.call(headers={"Authorization": f"Bearer {bearer}"})
        assert response.status_code == status, (path, parameters, query)
        case.validate_response(response, checks=CHECKS)
        etag = response.headers.get("etag", [None])[0]
        if status == 200 and etag:
            again = case.call(headers={"Authorization": f"Bearer {bearer}", "If-None-Match": etag})
            assert again.status_code == 304
            case.validate_response(again, checks=CHECKS)


@pytest.mark.slow
def test_schemathesis_valid_requests_are_documented_and_never_fail(app, token, reader):
    seen = _run_schemathesis(app, token, reader, schemathesis.GenerationMode.POSITIVE)
    assert 202 in seen
    assert all(status < 500 for status in seen)


@pytest.mark.slow
def test_schemathesis_invalid_requests_are_rejected_as_problems(app, token, reader):
    seen = _run_schemathesis(app, token, reader, schemathesis.GenerationMode.NEGATIVE)
    assert 422 in seen
    assert all(status < 500 for status in seen)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "id",
    "type",
    "contact_id",
    "occurred_at",
    "queue",
    "agent",
    "caller",
    "direct_answer",
    "question",
    "score",
    "channel",
]


def _post_raw(client, token: str, body: bytes, content_type: str = "application/json"):
    return client.post(
        "/api/v1/events",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )


def test_arbitrary_json_is_accepted_or_rejected_never_a_failure(app, client, token):
    @FUZZ
    @given(payload=JSON | st.fixed_dictionaries({"events": st.lists(JSON, max_size=3)}))
    def check(payload: Any) -> None:
        before = _counts(app)
        response = _post_raw(client, token, json.dumps(payload).encode())
        _assert_rejection_kept_only_the_delivery(
            app, before, response.status_code, response.content_type
        )
        assert (response.status_code == 202) == (not parse_events(payload)[1])

    check()


def test_arbitrary_bytes_never_fail(app, client, token):
    @FUZZ
    @given(
        body=st.binary(max_size=200),
        content_type=st.sampled_from(["application/json", "text/plain", ""]),
    )
    def check(body: bytes, content_type: str) -> None:
        before = _counts(app)
        response = _post_raw(client, token, body, content_type)
        _assert_rejection_kept_only_the_delivery(
            app, before, response.status_code, response.content_type
        )

    check()


def test_one_bad_field_is_named_and_nothing_is_stored(app, client, token):
    @FUZZ
    @given(field=st.sampled_from(FIELDS), value=JSON, index=st.integers(0, 2))
    def check(field: str, value: Any, index: int) -> None:
        batch = [event(contact_id=f"c{n}") for n in range(3)]
        batch[index][field] = value
        if not parse_events(batch[index])[1]:
            return  # the random value happened to be valid for that field
        before = _counts(app)
        response = _post_raw(client, token, json.dumps({"events": batch}).encode())
        assert response.status_code == 422
        errors = response.get_json()["errors"]
        assert {e["index"] for e in errors} == {index}, errors
        if field != "type":  # a changed type may make other fields wrong instead
            assert field in {e["field"].split(".")[0] for e in errors}, errors
        _assert_rejection_kept_only_the_delivery(app, before, 422, response.content_type)

    check()
