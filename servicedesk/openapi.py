"""``GET /api/v1/openapi.json``: the machine-readable description of the public HTTP API.

Written by hand from CONTRACT.md and kept honest by the tests, which run schemathesis against the
real application with this document (tests/test_openapi.py).
"""

from __future__ import annotations

from typing import Any, get_args

from flask import Blueprint, Response, jsonify

from servicedesk.ingest.schemas import MAX_BATCH, Channel, EventType, Question

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_STRING_1_128 = {"type": "string", "minLength": 1, "maxLength": 128}

EVENT = {
    "type": "object",
    "description": "One canonical event (CONTRACT.md). Unknown fields are refused.",
    "additionalProperties": False,
    "required": ["id", "type", "contact_id", "occurred_at"],
    "properties": {
        "id": {**_STRING_1_128, "description": "The sender's id; the same id again is a duplicate"},
        "type": {
            "type": "string",
            "enum": list(get_args(EventType)),
        },
        "contact_id": {"type": "string", "minLength": 1, "maxLength": 256},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with an offset, between 1970 and 2100",
        },
        "queue": _STRING_1_128,
        "agent": _STRING_1_128,
        "caller": {
            "type": "string",
            "minLength": 1,
            "maxLength": 320,
            "description": "Phone number or e-mail address; pseudonymised on arrival",
        },
        "direct_answer": {"type": "boolean", "description": "Only on call.ended"},
        "question": {"type": "string", "enum": list(get_args(Question))},
        "score": {"type": "integer", "minimum": 1, "maximum": 5},
        "channel": {
            "type": "string",
            "enum": list(get_args(Channel)),
            "description": "Only on survey.response: the channel the grade is about",
        },
    },
}

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "field", "message"],
                "properties": {
                    "index": {"type": ["integer", "null"]},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _problem(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"schema": {"type": "string"}, "description": "Seconds to wait before retrying"}
_HEALTH = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}

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
    anything = {"schema": {}}
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
                "503": _problem(
                    "The database is unreachable; nothing stored, retry",
                    **{"Retry-After": _RETRY_AFTER},
                ),
            },
        }
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service's public HTTP API."""
    from importlib.metadata import version

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "servicedesk",
            "version": version("servicedesk"),
            "description": "Service desk metrics for Nordic municipalities: the ingest API.",
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
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Event"},
                                        {"$ref": "#/components/schemas/Batch"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Stored; duplicates recognised and counted",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["accepted", "duplicates"],
                                        "properties": {
                                            "accepted": {"type": "integer", "minimum": 0},
                                            "duplicates": {"type": "integer", "minimum": 0},
                                        },
                                    }
                                }
                            },
                        },
                        "401": _problem("Bad or missing token or signature"),
                        "413": _problem("Body larger than the limit (1 MB by default)"),
                        "415": _problem("Content-Type is not application/json"),
                        "422": _problem("Invalid; each bad event named by index and field"),
                        "503": _problem(
                            "The database is unreachable; nothing stored, retry",
                            **{"Retry-After": _RETRY_AFTER},
                        ),
                    },
                }
            },
            "/hooks/{provider}/{token}": _webhook(with_kind=False),
            "/hooks/{provider}/{token}/{kind}": _webhook(with_kind=True),
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
            "schemas": {
                "Event": EVENT,
                "Batch": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["events"],
                    "properties": {
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_BATCH,
                            "items": {"$ref": "#/components/schemas/Event"},
                        }
                    },
                },
                "Problem": PROBLEM,
            },
            "securitySchemes": {
                "ingestToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An ingest token from `servicedesk token create`",
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())
