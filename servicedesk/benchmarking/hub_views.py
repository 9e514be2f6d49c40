"""The hub's publication endpoint: ``POST /api/v1/benchmark/members/<member>/messages``.

Authenticated by the member's Standard Webhooks signature (the ``standardwebhooks`` library
checks it; the timestamp must be within the service's tolerance), so a forged message is
refused before its body is read as JSON, and a replayed one (a message id the hub has) is
refused with 409. Every refusal is problem+json naming the field at fault.
"""

from __future__ import annotations

import json
import re
import time
from typing import NoReturn

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from servicedesk.auth.access import public
from servicedesk.benchmarking.hub import (
    ALREADY_RECEIVED,
    Refused,
    find_member,
    member_secret,
    receive,
)
from servicedesk.db import get_session, unit_of_work
from servicedesk.ingest.signatures import SignatureError, verify
from servicedesk.problems import problem
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable

bp = Blueprint("benchmark_hub", __name__, url_prefix="/api/v1/benchmark")

for _error in UNAVAILABLE_ERRORS:
    bp.register_error_handler(_error, database_unavailable)


#: A message id the hub can keep: printable ASCII (no NUL, which PostgreSQL cannot store).
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,128}")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON has")


def _refuse(status: int, title: str, detail: str, field: str, code: str = "") -> NoReturn:
    error = {"index": None, "field": field, "message": detail}
    if code:
        abort(problem(status, title, detail, errors=[error], code=code))
    abort(problem(status, title, detail, errors=[error]))


@bp.post("/members/<member>/messages")
@public
def messages(member: str) -> Response:
    """Keep a member's signed publication or withdrawal."""
    session = get_session()
    found = find_member(session, member)
    if found is None:
        _refuse(404, "Not Found", f"no member {member} on this hub", "member")
    body = request.get_data(cache=False)
    try:
        verify(
            member_secret(found, current_app.config["SECRET_KEY"]),
            dict(request.headers),
            body,
            now=time.time(),
            tolerance=current_app.config["WEBHOOK_TOLERANCE_SECONDS"],
        )
    except SignatureError as exc:
        _refuse(401, "Unauthorized", str(exc), "webhook-signature")
    try:
        message = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        _refuse(400, "Bad Request", "the body is not JSON (NaN and Infinity are not)", "body")
    message_id = request.headers["webhook-id"]
    if not _MESSAGE_ID.fullmatch(message_id):
        _refuse(422, "Invalid message id", "at most 128 printable characters", "webhook-id")
    member_id = found.id
    try:
        with unit_of_work() as db:
            live = db.get(type(found), member_id)
            assert live is not None
            received = receive(db, live, message_id, message)
            publication_id = received.publication.id if received.publication else None
            version = received.publication.report_version if received.publication else None
    except Refused as exc:
        _refuse(exc.status, exc.title, exc.detail, exc.field, exc.code)
    except IntegrityError:  # the same message twice at once: the other one was kept
        _refuse(
            409,
            "Conflict",
            f"message {message_id} was received already",
            "webhook-id",
            ALREADY_RECEIVED,
        )
    new = received.publication is not None and received.publication.message_id == message_id
    status = 201 if new else 200
    response = jsonify(
        type=received.kind,
        participant=received.participant,
        publication=publication_id,
        version=version,
        replaces=received.replaces,
    )
    response.status_code = status
    return response
