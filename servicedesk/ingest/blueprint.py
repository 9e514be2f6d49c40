"""The generic events API: ``POST /api/v1/events`` (docs/api.md)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlmodel import Session

from servicedesk.ingest import signatures
from servicedesk.ingest.delivery import (
    Arrival,
    accepted_events,
    receive,
    sender_known,
    sender_proven,
    within_limit,
)
from servicedesk.ingest.refusals import DeliveryRefused, too_deep
from servicedesk.ingest.service import IngestResult
from servicedesk.ingest.tokens import bearer, find_sender
from servicedesk.ingest.web import raw_delivery

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")


class EventsApi:
    """Deliveries of canonical events: a bearer token, maybe a Standard Webhooks signature."""

    source: str = "api"
    audit_headers: tuple[str, ...] = ()
    refusal_status: int | None = None
    stateful: bool = False

    def read(self, session: Session, body: bytes | None) -> Arrival:
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
        sender_known(org, proven=not sender.signing_secret)
        body = within_limit(body)
        if sender.signing_secret:
            try:
                signatures.verify(
                    sender.signing_secret,
                    dict(request.headers),
                    body,
                    now=time.time(),
                    tolerance=current_app.config["WEBHOOK_TOLERANCE_SECONDS"],
                )
            except signatures.SignatureError as exc:
                raise DeliveryRefused(401, "Invalid signature", str(exc)) from None
        sender_proven(org)
        events = accepted_events(_json_payload())
        return Arrival(org, events, raw_delivery(self.source, body), 202, _accepted)


def _json_payload() -> Any:
    """The body as JSON, or 415 / 422 saying why it is not."""
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
    return payload


def _accepted(result: IngestResult) -> Response:
    # Two integers: formatted directly, as jsonify would write them (jsonify's provider and
    # encoder were a twentieth of a single-event delivery's time).
    body = f'{{"accepted":{int(result.accepted)},"duplicates":{int(result.duplicates)}}}\n'
    return Response(body, status=202, mimetype="application/json")


@bp.post("/events")
def post_events() -> Response:
    """Accept one event or a batch; all stored or none; duplicates counted, not stored twice."""
    return receive(EventsApi())
