"""Pieces the ingest endpoints share: reading a bounded body, keeping a refused delivery."""

from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from servicedesk.db import get_engine, get_session, mark_write, serialized_writes
from servicedesk.ingest.refusals import DeliveryContext, DeliveryRefused
from servicedesk.ingest.service import RawDelivery, store_delivery
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable


def read_body() -> bytes | None:
    """The request body, or None when it is over MAX_CONTENT_LENGTH."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None


def keep_refused(context: DeliveryContext, exc: DeliveryRefused) -> Response:
    """Keep a refused delivery with its reason, in a transaction of its own; answer with it."""
    response = exc.response()
    body = read_body()
    raw = RawDelivery(
        source=context.source,
        body=body if body is not None else b"",
        content_type=request.content_type,
        headers=dict(request.headers),
    )
    session = get_session()
    try:
        session.rollback()
        with serialized_writes(get_engine()):
            mark_write(session)
            store_delivery(
                session,
                raw,
                organisation_id=context.organisation_id,
                status="rejected",
                http_status=response.status_code,
                reason=response.get_data(as_text=True)[:4000],
            )
            session.commit()
    except UNAVAILABLE_ERRORS as db_error:
        return database_unavailable(db_error)
    return response
