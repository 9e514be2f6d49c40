"""RFC 9457 problem details: the one shape every API error takes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: Iterable[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response; ``errors`` lists the fields at fault."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_problem() -> bool:
    return request.path.startswith(("/api/", "/hooks/")) or request.accept_mimetypes.best in (
        "application/json",
        PROBLEM_JSON,
    )


def init_app(app: Flask) -> None:
    """Answer HTTP errors on machine endpoints with problem+json instead of HTML."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if not wants_problem():
            return exc
        response = problem(exc.code or 500, exc.name, exc.description)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]  # MethodNotAllowed's own
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]  # as above
        return response
