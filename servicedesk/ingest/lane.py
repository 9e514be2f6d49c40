"""The events API's common delivery, taken in beneath Flask's request machinery.

Nearly every request to ``POST /api/v1/events`` is the same: a known ingest token without a
signing secret, a JSON body of valid events, stored and answered 202. Through Flask that
delivery also paid for a request object, URL routing, every feature's request hooks (which
skip the machine endpoints, but each is called to say so), a response object and its headers:
a fifth of the whole delivery (issue 17, docs/benchmarks.md). This lane is a WSGI middleware
in front of the app that takes such a delivery with the same domain functions
(``find_sender``, ``parse_events``, ``prepare_events``, ``ingest_events``) in the same unit of
work, and answers it as the app does, with the request id, the security headers, the request
log line and the delivery's metrics.

Everything else goes on to the app untouched, with the body the lane has read: a request that
is not a plain JSON delivery with a bearer token, a token that is unknown or must sign, a body
that is not JSON or has an event the core refuses, text no engine can store. The app takes it
from the start and refuses it, keeps it or answers it, as it always has: there is one
implementation of every refusal, and the lane's only answer is the 202 of a delivery it has
committed. Its transaction is all or nothing, so a delivery handed on after a failed attempt
was never partly stored. When the attempt found the database unavailable, the app answers 503
with Retry-After at once instead of waiting for it a second time (``OUTAGE_KEY``). A delivery
handed on keeps the request id the lane gave it, so all its log lines carry one id.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from flask import Flask
from sqlmodel import Session

from servicedesk.db import unit_of_work, worker_turn
from servicedesk.ingest.schemas import parse_events
from servicedesk.ingest.service import IngestResult, ingest_events, prepare_events
from servicedesk.ingest.tokens import bearer, find_sender
from servicedesk.ingest.web import environ_delivery
from servicedesk.observability import (
    REQUEST_ID_ENVIRON,
    REQUEST_ID_HEADER,
    delivery_series,
    request_log,
    safe_request_id,
)
from servicedesk.unavailable import UNAVAILABLE_ERRORS
from servicedesk.web import security_headers

#: The one path the lane serves (POST only).
PATH = "/api/v1/events"

#: Where the lane leaves, for the app, the outage its attempt ran into.
OUTAGE_KEY = "servicedesk.lane_outage"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = structlog.get_logger(__name__)


class EventsLane:
    """WSGI middleware: the common events delivery here, every other request to ``app``."""

    def __init__(self, flask_app: Flask, app: WsgiApp) -> None:
        self.flask_app = flask_app
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        started = time.perf_counter()
        token = bearer(environ.get("HTTP_AUTHORIZATION"))
        body = self._body(environ) if token else None
        if token is None or body is None:
            return self.app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)  # the app reads it again, if it has to
        request_id = safe_request_id(environ.get("HTTP_X_REQUEST_ID", "")) or uuid.uuid4().hex
        environ[REQUEST_ID_ENVIRON] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        with self.flask_app.app_context():
            try:
                result = self._take(environ, token, body)
            except UNAVAILABLE_ERRORS as exc:
                environ[OUTAGE_KEY] = exc
                result = None
            except Exception as exc:  # noqa: BLE001  # the app takes it from the start
                # Text no engine can store (the app refuses it as such), or a fault of the
                # lane's own: the app's path is the reference, and it answers either.
                log.info("events lane handed a delivery on", error=type(exc).__name__)
                result = None
        if result is None:
            return self.app(environ, start_response)
        return self._answer(environ, start_response, result, request_id, started)

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        """The body of what may be a common delivery; None hands the request to the app."""
        mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        if mimetype != "application/json" or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        length = environ.get("CONTENT_LENGTH", "")
        limit = self.flask_app.config.get("MAX_CONTENT_LENGTH")
        if not (length.isascii() and length.isdigit()) or (
            limit is not None and int(length) > limit
        ):
            return None
        body: bytes = environ["wsgi.input"].read(int(length))
        if len(body) != int(length):
            # The sender stopped short: the app reads the rest (none) and answers for it.
            environ["wsgi.input"] = io.BytesIO(body)
            return None
        return body

    def _take(self, environ: dict[str, Any], token: str, body: bytes) -> IngestResult | None:
        """The delivery stored and its contacts folded, or None: the app is to take it."""
        app = self.flask_app
        engine = app.extensions["servicedesk.engine"]
        session = Session(engine, expire_on_commit=False)
        try:
            # As ``receive`` does: the body is in, so a slow sender holds no one up.
            with worker_turn(engine):
                sender = find_sender(session, token)
                if sender is None or sender.signing_secret:
                    return None
                try:
                    payload = json.loads(body)
                except ValueError:
                    return None
                events, errors = parse_events(payload)
                if errors or not events:
                    return None
                org, key = sender.organisation, app.config["PSEUDONYM_KEY"]
                ready = prepare_events(org, events, key, engine.dialect)  # before the writer's turn
                with unit_of_work(session):
                    return ingest_events(
                        session,
                        org,
                        events,
                        environ_delivery(environ, "api", body, PATH),
                        pseudonym_key=key,
                        http_status=202,
                        ready=ready,
                    )
        finally:
            session.close()

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        result: IngestResult,
        request_id: str,
        started: float,
    ) -> list[bytes]:
        """The 202 the app answers a stored delivery with, its headers, log line and metrics."""
        body = f'{{"accepted":{int(result.accepted)},"duplicates":{int(result.duplicates)}}}\n'
        encoded = body.encode()
        start_response(
            "202 ACCEPTED",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(encoded))),
                (REQUEST_ID_HEADER, request_id),
                *security_headers(environ.get("wsgi.url_scheme") == "https"),
            ],
        )
        elapsed = time.perf_counter() - started
        counted, timed = delivery_series("ingest", "accepted")
        counted.inc()
        timed.observe(elapsed)
        request_log("POST", PATH, 202, elapsed)
        return [encoded]
