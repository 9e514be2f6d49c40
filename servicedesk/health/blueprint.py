"""``/healthz``: the process answers. ``/readyz``: the database answers and is migrated."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from servicedesk.db import get_engine
from servicedesk.migrate import current_revision, head_revision
from servicedesk.unavailable import UNAVAILABLE_ERRORS

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    engine = get_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        current = current_revision(engine)
    except UNAVAILABLE_ERRORS:
        return jsonify(status="unavailable", database="unreachable"), 503
    head = head_revision()
    if current != head:
        return jsonify(status="unavailable", migration=current, head=head), 503
    return jsonify(status="ok", migration=current), 200
