"""``GET /api/v1/openapi.json``: the machine-readable description of the public HTTP API.

Every schema is generated from the pydantic models the API is built on (servicedesk/apimodels.py:
the events as a union discriminated by ``type``, each type with exactly its own fields; the
problem, answer and report shapes); this module only lays out the paths. The tests run
schemathesis against the real application with this document (tests/test_openapi.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from servicedesk.apimodels import (
    ComparisonPeriod,
    Month,
    PeriodText,
    Version,
    component_schemas,
    parameter_schema,
)

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"schema": {"type": "string"}, "description": "Seconds to wait before retrying"}
_HEALTH = _ref("Health")
#: What a client that has had too many deliveries refused is answered (nothing is stored).
_TOO_MANY = {
    "description": "Too many refused deliveries from this address; nothing stored, retry later",
    "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True}},
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

SIGNATURE_HEADERS = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "description": "Standard Webhooks header; required when the token was made with --signing",
        "schema": {"type": "string"},
    }
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
]


def _sms_replies() -> dict[str, Any]:
    """The citizens' SMS replies to surveys, as 46elks and Twilio post them (docs/surveys.md)."""
    anything: dict[str, Any] = {"schema": {}}
    return {
        "post": {
            "operationId": "surveySmsReply",
            "summary": "A citizen's SMS reply to a survey (STOPP, or a digit 1-5), posted by "
            "46elks (the number's sms_url) or Twilio (its incoming message webhook)",
            "parameters": [
                {
                    "name": "secret",
                    "in": "path",
                    "required": True,
                    "description": "The reply address's secret (`servicedesk survey "
                    "reply-address`, or Settings → Surveys)",
                    "schema": {"type": "string", "minLength": 1},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": anything},
            },
            "responses": {
                "200": {
                    "description": "Taken; the body is the reply SMS (46elks: the text; "
                    "Twilio: TwiML, <Response/> for none)",
                    "content": {"text/plain": anything, "application/xml": anything},
                },
                "204": {"description": "Taken; nothing to reply (46elks)"},
                "400": {"description": "A NUL character in the form (an error page)"},
                "401": _problem("Twilio's signature or Account SID is missing or wrong"),
                "404": _problem("No such reply address"),
                "413": _problem("Body larger than the limit"),
                "422": _problem("Not the provider's incoming-SMS request; the field is named"),
                "429": _TOO_MANY,
                "503": _problem(
                    "The database is unreachable; nothing taken, retry",
                    **{"Retry-After": _RETRY_AFTER},
                ),
            },
        }
    }


def _webhook(with_kind: bool) -> dict[str, Any]:
    """A provider's webhook endpoint; the body is the provider's own format."""
    from integrations import PROVIDERS

    parameters = [
        {
            "name": "provider",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": sorted(PROVIDERS)},
        },
        {
            "name": "token",
            "in": "path",
            "required": True,
            "description": "The integration's secret path token (`servicedesk integration add`)",
            "schema": {"type": "string", "minLength": 1},
        },
    ]
    if with_kind:
        parameters.append(
            {
                "name": "kind",
                "in": "path",
                "required": True,
                "description": "The provider's event kind, for providers with several endpoints",
                "schema": {"type": "string", "minLength": 1},
            }
        )
    anything: dict[str, Any] = {"schema": {}}
    # A provider that stops retrying on a status of its own gets every refusal with that status.
    stopping: dict[int, list[str]] = {}
    for name, adapter in sorted(PROVIDERS.items()):
        if adapter.refusal_status is not None:
            stopping.setdefault(adapter.refusal_status, []).append(name)
    refusals = {
        str(status): _problem(
            f"Refused ({', '.join(names)}): the status that stops the provider's retries, for "
            "a delivery no retry can mend (an unknown endpoint, an unreadable payload, events "
            "the core refuses, a body over the limit)"
        )
        for status, names in sorted(stopping.items())
    }
    return {
        "post": {
            "operationId": "providerWebhookKind" if with_kind else "providerWebhook",
            "summary": "A telephony or e-mail provider's webhook (signature checked per provider)",
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": anything,
                    "application/json": anything,
                },
            },
            "responses": {
                "200": {
                    "description": "Stored; the body is what the provider expects (TwiML, ...)",
                    "content": {
                        "text/xml": anything,
                        "text/plain": anything,
                        "application/json": anything,
                    },
                },
                "204": {"description": "Stored; nothing to answer"},
                "401": _problem("The provider's signature is missing or wrong"),
                "404": _problem("No such integration, or no such endpoint for the provider"),
                "413": _problem("Body larger than the limit"),
                "422": _problem("The payload cannot be read, or gives events the core refuses"),
                "429": _TOO_MANY,
                **refusals,
                "503": _problem(
                    "The database is unreachable; nothing stored, retry",
                    **{"Retry-After": _RETRY_AFTER},
                ),
            },
        }
    }


_MONTH = parameter_schema(Month)
_MONTH_IN_PATH = {"name": "month", "in": "path", "required": True, "schema": _MONTH}
_VERSION_IN_PATH = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": parameter_schema(Version),
}
_FORMAT_IN_QUERY = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "Instead of a suffix on the path; default json",
    "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]},
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag from an earlier answer: 304 when the report is still the same",
    "schema": {"type": "string"},
}
_CACHE_HEADERS = {
    "ETag": {
        "required": True,
        "description": "The report's sha256 (with a national comparison: and that one's hash)",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"required": True, "schema": {"type": "string", "const": "private"}},
}
_REPORT_MEDIA = {
    "json": {"application/json": {"schema": _ref("Report")}},
    "csv": {"text/csv": {"schema": {"type": "string"}}},
    "xlsx": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        }
    },
}
_REPORTS_REFUSALS = {
    "401": _problem(
        "No token, or an unknown or revoked one",
        **{"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "403": _problem("The token is not a reports:read token (an ingest token, say)"),
    "422": _problem("A malformed month, version or format; the field is named"),
    "503": _problem("The database is unreachable; retry", **{"Retry-After": _RETRY_AFTER}),
}


def _report_path(version: bool, suffix: str | None) -> dict[str, Any]:
    """One of the reports API's report URLs: latest or one version, with a format suffix or not."""
    parameters = [_MONTH_IN_PATH, *([_VERSION_IN_PATH] if version else [])]
    if suffix is None:
        parameters.append(_FORMAT_IN_QUERY)
        media = {k: v for part in _REPORT_MEDIA.values() for k, v in part.items()}
    else:
        media = _REPORT_MEDIA[suffix]
    name = ("getReportVersion" if version else "getReport") + (suffix or "").capitalize()
    which = "One version" if version else "The latest version"
    return {
        "get": {
            "operationId": name,
            "summary": f"{which} of the month's report" + (f" as {suffix}" if suffix else ""),
            "security": [{"reportsToken": []}],
            "parameters": [*parameters, _IF_NONE_MATCH],
            "responses": {
                "200": {
                    "description": "The report; JSON exactly as `report show --format json`",
                    "headers": _CACHE_HEADERS,
                    "content": media,
                },
                "304": {"description": "Not modified (If-None-Match)", "headers": _CACHE_HEADERS},
                "404": _problem("No report for the month, or no such version"),
                **_REPORTS_REFUSALS,
            },
        }
    }


def _reports_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/v1/reports": {
            "get": {
                "operationId": "listReports",
                "summary": "The organisation's report versions, newest first",
                "security": [{"reportsToken": []}],
                "parameters": [
                    {"name": "month", "in": "query", "required": False, "schema": _MONTH}
                ],
                "responses": {
                    "200": {
                        "description": "Every version (of the month, if asked)",
                        "content": {"application/json": {"schema": _ref("ReportList")}},
                    },
                    **_REPORTS_REFUSALS,
                },
            }
        }
    }
    paths["/api/v1/reports/periods/{period}"] = {
        "get": {
            "operationId": "getPeriodFigures",
            "summary": "Any period's figures now, beside the period before and a year before",
            "security": [{"reportsToken": []}],
            "parameters": [
                {"name": "period", "in": "path", "required": True,
                 "schema": parameter_schema(PeriodText)},
            ],
            "responses": {
                "200": {
                    "description": "The figures, computed from the contacts now (not frozen)",
                    "content": {"application/json": {"schema": _ref("PeriodFigures")}},
                },
                **_REPORTS_REFUSALS,
                "422": _problem("Not a period, or one that has not begun; the field is named"),
            },
        }
    }  # fmt: skip
    for version, base in (
        (False, "/api/v1/reports/{month}"),
        (True, "/api/v1/reports/{month}/versions/{version}"),
    ):
        paths[base] = _report_path(version, None)
        for suffix in _REPORT_MEDIA:
            paths[f"{base}.{suffix}"] = _report_path(version, suffix)
    return paths


def _benchmark_paths() -> dict[str, Any]:
    """The comparison in the reports API, and a hub's publication endpoint."""
    return {
        "/api/v1/reports/comparisons/{period}": {
            "get": {
                "operationId": "getComparison",
                "summary": "The comparison among the organisations that share figures, for the "
                "token's organisation (docs/benchmarking.md)",
                "security": [{"reportsToken": []}],
                "parameters": [
                    {
                        "name": "period",
                        "in": "path",
                        "required": True,
                        "description": "A month (2026-06), a quarter (2026-Q2) or a year (2026)",
                        "schema": parameter_schema(ComparisonPeriod),
                    },
                    {
                        "name": "group",
                        "in": "query",
                        "required": False,
                        "description": "own: only the organisation's municipality group",
                        "schema": {"type": "string", "enum": ["own"]},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Each shared figure ranked, the organisation's own place",
                        "headers": {"Cache-Control": _CACHE_HEADERS["Cache-Control"]},
                        "content": {"application/json": {"schema": _ref("Comparison")}},
                    },
                    **_REPORTS_REFUSALS,
                    "403": _problem(
                        "Not a reports:read token, or the organisation does not take part"
                    ),
                    "422": _problem("A malformed period or group; the field is named"),
                },
            }
        },
        "/api/v1/benchmark/members/{member}/messages": {
            "post": {
                "operationId": "publishToHub",
                "summary": "A hub member publishes a month's shared figures or withdraws "
                "(Standard Webhooks signature with the member's secret)",
                "parameters": [
                    {
                        "name": "member",
                        "in": "path",
                        "required": True,
                        "description": "The member's key (`servicedesk benchmark member add`)",
                        "schema": {"type": "string", "minLength": 1},
                    },
                    *[
                        {**h, "required": True, "description": "Standard Webhooks header"}
                        for h in SIGNATURE_HEADERS
                    ],
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("BenchmarkMessage")}},
                },
                "responses": {
                    "201": {
                        "description": "A new version kept",
                        "content": {"application/json": {"schema": _ref("BenchmarkReceived")}},
                    },
                    "200": {
                        "description": "Kept: a withdrawal, or a version the hub has already",
                        "content": {"application/json": {"schema": _ref("BenchmarkReceived")}},
                    },
                    "400": _problem("The body is not JSON"),
                    "401": _problem("The signature is missing, stale or wrong"),
                    "403": _problem("The participant is not one of this member's"),
                    "404": _problem("No such member on this hub (or it was revoked)"),
                    "409": _problem(
                        "The message id was received already (code already_received), or the "
                        "version was published before with other figures"
                    ),
                    "413": _problem("The body is too large"),
                    "422": _problem(
                        "A malformed publication, or figures that do not follow from their own "
                        "counts; the field is named"
                    ),
                    "503": _problem(
                        "The database is unreachable; retry", **{"Retry-After": _RETRY_AFTER}
                    ),
                },
            }
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service's public HTTP API."""
    from importlib.metadata import version

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "servicedesk",
            "version": version("servicedesk"),
            "description": (
                "Service desk metrics for Nordic municipalities: the ingest API and the "
                "reports API."
            ),
        },
        "paths": {
            "/api/v1/events": {
                "post": {
                    "operationId": "postEvents",
                    "summary": "Deliver one event or a batch (all stored, or none)",
                    "security": [{"ingestToken": []}],
                    "parameters": SIGNATURE_HEADERS,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [_ref("Event"), _ref("Batch")]}
                            }
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Stored; duplicates recognised and counted",
                            "content": {"application/json": {"schema": _ref("Accepted")}},
                        },
                        "401": _problem("Bad or missing token or signature"),
                        "413": _problem("Body larger than the limit (1 MB by default)"),
                        "415": _problem("Content-Type is not application/json"),
                        "422": _problem("Invalid; each bad event named by index and field"),
                        "429": _TOO_MANY,
                        "503": _problem(
                            "The database is unreachable; nothing stored, retry",
                            **{"Retry-After": _RETRY_AFTER},
                        ),
                    },
                }
            },
            **_reports_paths(),
            **_benchmark_paths(),
            "/hooks/{provider}/{token}": _webhook(with_kind=False),
            "/hooks/{provider}/{token}/{kind}": _webhook(with_kind=True),
            "/s/sms/{secret}": _sms_replies(),
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "The process answers",
                    "responses": {
                        "200": {
                            "description": "Alive",
                            "content": {"application/json": {"schema": _HEALTH}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "The database answers and its migrations are at head",
                    "responses": {
                        "200": {
                            "description": "Ready",
                            "content": {"application/json": {"schema": _HEALTH}},
                        },
                        "503": {
                            "description": "Not ready (database unreachable or not migrated)",
                            "content": {"application/json": {"schema": _HEALTH}},
                        },
                    },
                }
            },
        },
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {
                "ingestToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An ingest token from `servicedesk token create`",
                },
                "reportsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "A report-reading token from "
                        "`servicedesk token create --scope reports:read`"
                    ),
                },
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())
