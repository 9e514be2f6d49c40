"""Pieces the delivery endpoints share: reading a bounded body, keeping a refused delivery.

A delivery refused before its sender proved who it is (no or a wrong token, an unknown hook
URL, a bad signature) is a stranger's: of it the first ``REFUSED_BODY_PREFIX`` bytes are kept
with the size and SHA-256 of the whole, each client address may have so many refused a minute
(then 429), and all of them together may store ``REFUSED_DAILY_BYTES`` a day (then they are
counted, not stored). A refused delivery of a proven sender is kept whole, as an accepted one.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache
from typing import Any

import structlog
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from servicedesk.db import get_session, unit_of_work
from servicedesk.ingest.refusals import DeliveryContext, DeliveryRefused, current_delivery
from servicedesk.ingest.refused_days import claim_refused_bytes
from servicedesk.ingest.service import AUDIT_HEADERS, RawDelivery, store_delivery
from servicedesk.observability import metrics
from servicedesk.problems import problem
from servicedesk.ratelimits import SharedLimit, client_key
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable

#: Bytes kept of the body of a stranger's refused delivery: enough to see what it was.
REFUSED_BODY_PREFIX = 1024
#: Characters kept of the problem answered to a stranger (the reason).
REFUSED_REASON_CHARS = 1000

log = structlog.get_logger(__name__)


def read_body() -> bytes | None:
    """The request body, or None when it is over MAX_CONTENT_LENGTH.

    A chunked body has no Content-Length to refuse up front: it is read up to the limit, and one
    byte more of it means it is over (rather than cut silently at the limit).
    """
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is None and len(data) >= limit:
        if request.environ["wsgi.input"].read(1):
            request._cached_data = None  # type: ignore[assignment]  # werkzeug's cache: emptied
            return None
    return data


def request_path() -> str:
    """The path called, with a hook URL's secret token cut to its first characters."""
    token = (request.view_args or {}).get("token")
    if token and request.blueprint == "hooks":
        return request.path.replace(token, token[:9] + "…", 1)
    return request.path


@lru_cache(maxsize=64)
def _environ_keys(extra: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The headers a delivery keeps (``AUDIT_HEADERS`` and its sender's), with the WSGI environ's
    key of each: only those are read (the whole header set, built for each delivery and then
    filtered, cost 4 % of a single event's instructions)."""
    names = dict.fromkeys(name.lower() for name in (*AUDIT_HEADERS, *extra))
    return tuple(
        (
            name,
            "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_"),
        )
        for name in names
    )


def environ_delivery(
    environ: dict[str, Any],
    source: str,
    body: bytes,
    path: str,
    audit_headers: tuple[str, ...] = (),
) -> RawDelivery:
    """A delivery as it is kept, read from the WSGI environ: the one reading of what arrived
    for the app's request and for the events lane, which has none (``ingest/lane.py``)."""
    return RawDelivery(
        source=source,
        body=body,
        content_type=environ.get("CONTENT_TYPE"),
        headers={
            name: environ[key] for name, key in _environ_keys(audit_headers) if key in environ
        },
        audit_headers=audit_headers,
        source_address=environ.get("REMOTE_ADDR"),
        path=path,
    )


def raw_delivery(source: str, body: bytes, audit_headers: tuple[str, ...] = ()) -> RawDelivery:
    """An accepted (or a proven sender's) delivery: the whole body."""
    return environ_delivery(request.environ, source, body, request_path(), audit_headers)


def _stranger_delivery(
    source: str, body: bytes | None, audit_headers: tuple[str, ...] = ()
) -> RawDelivery:
    """What is kept of a stranger's refused delivery: a prefix, the size and hash of the whole."""
    if body is None:  # over the limit: never read, so neither kept nor hashed
        size, digest, kept = request.content_length, None, b""
    else:
        size, digest, kept = len(body), hashlib.sha256(body).hexdigest(), body
    prefix = current_app.config.get("REFUSED_BODY_PREFIX", REFUSED_BODY_PREFIX)
    return replace(raw_delivery(source, kept[:prefix], audit_headers), size=size, sha256=digest)


@lru_cache(maxsize=4)
def _refusal_limit(storage_uri: str, limits: str) -> SharedLimit:
    return SharedLimit(storage_uri, limits)


def _too_many(source: str) -> Response | None:
    """429 once this client has had too many deliveries refused; None while it may go on."""
    limits = current_app.config.get("REFUSED_RATE_LIMIT")
    if not limits:
        return None
    limit = _refusal_limit(current_app.config["RATELIMIT_STORAGE_URI"], limits)
    wait = limit.hit("refused-deliveries", client_key(request.remote_addr))
    if wait is None:
        return None
    metrics().refused.labels(source=source, outcome="rate_limited").inc()
    return problem(
        429,
        "Too Many Requests",
        "too many refused deliveries from this address; nothing was stored",
        headers={"Retry-After": str(max(1, int(wait + 0.999)))},
    )


def keep_refused(context: DeliveryContext, exc: DeliveryRefused) -> Response:
    """Keep a refused delivery with its reason, in a transaction of its own; answer with it."""
    response = exc.response()
    body = read_body()
    reason = response.get_data(as_text=True)
    session = get_session()
    try:
        session.rollback()  # what the request began (a writer's lock too) ends here
        if context.authenticated:
            raw = raw_delivery(
                context.source, body if body is not None else b"", context.audit_headers
            )
        else:
            limited = _too_many(context.source)
            if limited is not None:
                return limited
            raw = _stranger_delivery(context.source, body, context.audit_headers)
            reason = reason[:REFUSED_REASON_CHARS]
        with unit_of_work(session):
            stored = context.authenticated or claim_refused_bytes(
                session,
                len(raw.body) + len(reason) + 500,  # the row's other columns, roughly
                cap=current_app.config["REFUSED_DAILY_BYTES"],
            )
            if stored:
                store_delivery(
                    session,
                    raw,
                    organisation_id=context.organisation_id,
                    status="rejected",
                    http_status=response.status_code,
                    reason=reason[:4000],
                )
    except UNAVAILABLE_ERRORS as db_error:
        return database_unavailable(db_error)
    outcome = "kept" if context.authenticated else ("kept_bounded" if stored else "over_cap")
    metrics().refused.labels(source=context.source, outcome=outcome).inc()
    return response


def refused(exc: DeliveryRefused) -> Response:
    """The one handler of ``DeliveryRefused``: keep the delivery, answer with its problem."""
    return keep_refused(current_delivery(), exc)


def init_app(app: Flask) -> None:
    app.register_error_handler(DeliveryRefused, refused)
