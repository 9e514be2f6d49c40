"""Pieces the ingest endpoints share: reading a bounded body, keeping a rejected delivery."""

from __future__ import annotations

from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from servicedesk.db import get_engine, get_session, mark_write, serialized_writes
from servicedesk.ingest.service import RawDelivery, store_delivery


def read_body() -> bytes | None:
    """The request body, or None when it is over MAX_CONTENT_LENGTH."""
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None


def reject_delivery(raw: RawDelivery, org_id: int | None, response: Response) -> Response:
    """Keep a rejected delivery with its reason, in a transaction of its own; answer with it."""
    session = get_session()
    session.rollback()
    with serialized_writes(get_engine()):
        mark_write(session)
        store_delivery(
            session,
            raw,
            organisation_id=org_id,
            status="rejected",
            http_status=response.status_code,
            reason=response.get_data(as_text=True)[:4000],
        )
        session.commit()
    return response
