"""The generic events API: ``POST /api/v1/events`` (CONTRACT.md)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from servicedesk.db import get_engine, get_session, mark_write, serialized_writes
from servicedesk.ingest import signatures
from servicedesk.ingest.refusals import (
    DeliveryRefused,
    begin_delivery,
    delivery_sender,
    too_deep,
)
from servicedesk.ingest.schemas import parse_events
from servicedesk.ingest.service import ingest_events
from servicedesk.ingest.tokens import bearer, find_sender
from servicedesk.ingest.web import raw_delivery, read_body
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")


@bp.post("/events")
def post_events() -> Response:
    """Accept one event or a batch; all stored or none; duplicates counted, not stored twice."""
    try:
        return _post_events()
    except UNAVAILABLE_ERRORS as exc:
        return database_unavailable(exc)


def _post_events() -> Response:
    begin_delivery("api")
    max_bytes = current_app.config["MAX_CONTENT_LENGTH"]
    body = read_body()
    session = get_session()
    presented = bearer(request.headers.get("Authorization"))
    sender = find_sender(session, presented) if presented else None
    if sender is None:
        raise DeliveryRefused(
            401,
            "Unauthorized",
            "a valid ingest token is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    org = sender.organisation
    # A token alone proves the sender, unless its signature is required too.
    delivery_sender(org.id, authenticated=not sender.signing_secret)
    if body is None:
        raise DeliveryRefused(
            413, "Payload Too Large", f"the body exceeds {max_bytes} bytes", final=True
        )
    if sender.signing_secret:
        try:
            signatures.verify(
                sender.signing_secret,
                request.headers,
                body,
                now=time.time(),
                tolerance=current_app.config["WEBHOOK_TOLERANCE_SECONDS"],
            )
        except signatures.SignatureError as exc:
            raise DeliveryRefused(401, "Invalid signature", str(exc)) from None
    delivery_sender(org.id, authenticated=True)
    if request.mimetype != "application/json":
        raise DeliveryRefused(
            415,
            "Unsupported Media Type",
            "Content-Type must be application/json",
            errors=[{"index": None, "field": "Content-Type", "message": "not JSON"}],
            final=True,
        )
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        raise too_deep() from None
    if payload is None:
        raise DeliveryRefused(
            422,
            "Invalid JSON",
            "the body is not valid JSON",
            errors=[{"index": None, "field": "(body)", "message": "not valid JSON"}],
            final=True,
        )
    events, errors = parse_events(payload)
    if errors:
        raise DeliveryRefused(
            422,
            "Invalid events",
            f"{len(errors)} problem(s); nothing of this delivery was stored",
            errors=[e.model_dump() for e in errors],
            final=True,
        )
    raw = raw_delivery("api", body)
    session.rollback()
    with serialized_writes(get_engine()):
        mark_write(session)
        result = ingest_events(
            session, org, events, raw, pseudonym_key=current_app.config["PSEUDONYM_KEY"]
        )
        session.commit()
    response = jsonify(accepted=result.accepted, duplicates=result.duplicates)
    response.status_code = 202
    return response
