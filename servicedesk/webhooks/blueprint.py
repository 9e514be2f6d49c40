"""Provider webhooks: ``POST /hooks/<provider>/<token>[/<kind>]``.

Every delivery is kept as it arrived, accepted or rejected with its reason; accepted ones hand
their canonical events to the same ingest service as the generic API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from integrations import PROVIDERS, PayloadError, RequestParts, SignatureError
from servicedesk.db import get_engine, get_session, mark_write, serialized_writes
from servicedesk.ingest.schemas import parse_events
from servicedesk.ingest.service import RawDelivery, ingest_events
from servicedesk.ingest.web import read_body, reject_delivery
from servicedesk.orgs.models import Organisation
from servicedesk.problems import problem
from servicedesk.timeutil import utcnow
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable
from servicedesk.webhooks.operations import (
    IntegrationError,
    build_adapter,
    find_integration,
    verification_secret,
)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")


def public_url() -> str:
    """The URL the provider called, as it signed it: the public base URL and the raw path."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        query = request.query_string.decode("latin-1")
        raw = request.script_root + request.path + (f"?{query}" if query else "")
    base = current_app.config.get("PUBLIC_URL") or ""
    if base:
        return base.rstrip("/") + raw
    return request.host_url.rstrip("/") + raw


def _client_address(options: dict[str, Any]) -> str | None:
    """The caller's address; behind ``proxy_hops`` reverse proxies, the one they saw."""
    hops = int(options.get("proxy_hops") or 0)
    if hops <= 0:
        return request.remote_addr
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [a for a in forwarded if a]
    return forwarded[-hops] if len(forwarded) >= hops else None


@bp.post("/<provider>/<token>")
@bp.post("/<provider>/<token>/<kind>")
def receive(provider: str, token: str, kind: str = "") -> Response:
    """One provider delivery: verify, parse, ingest, answer what the provider expects."""
    adapter_cls = PROVIDERS.get(provider)
    try:
        if adapter_cls is not None and adapter_cls.stateful:
            # Verifying and parsing write too (replay nonces, thread keys): one writer throughout.
            with serialized_writes(get_engine()):
                mark_write(get_session())
                return _receive(provider, token, kind)
        return _receive(provider, token, kind)
    except UNAVAILABLE_ERRORS as exc:
        return database_unavailable(exc)


def _refuse(
    adapter_cls: Any,
    raw: RawDelivery,
    org_id: int | None,
    status: int,
    title: str,
    detail: str,
    **extra: Any,
) -> Response:
    """Refuse a delivery, with the status that stops its provider's retries where it has one.

    A delivery refused for what it is (unknown URL, forged, unreadable) will be refused again:
    Postmark retries anything but a 403 for six hours, Mailgun anything but a 406 for eight.
    A 413 stays a 413 (a smaller delivery may pass).
    """
    refusal = getattr(adapter_cls, "refusal_status", None)
    if refusal is not None and status != 413:
        status = refusal
    return reject_delivery(raw, org_id, problem(status, title, detail, **extra))


def _receive(provider: str, token: str, kind: str) -> Response:
    body = read_body()
    adapter_cls = PROVIDERS.get(provider)
    raw = RawDelivery(
        source=provider if adapter_cls is not None else "hooks",
        body=body or b"",
        content_type=request.content_type,
        headers=dict(request.headers),
        audit_headers=adapter_cls.audit_headers if adapter_cls is not None else (),
    )
    session = get_session()
    found_hook = find_integration(session, provider, token)
    if found_hook is None:
        return _refuse(adapter_cls, raw, None, 404, "Not Found", "no such integration")
    integration, org = found_hook
    org_id = org.id
    if body is None:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return _refuse(adapter_cls, raw, org_id, 413, "Payload Too Large", f"over {limit} bytes")
    adapter = build_adapter(session, integration, current_app.config["PSEUDONYM_KEY"])
    if kind not in adapter.kinds:
        kinds = ", ".join(k for k in adapter.kinds if k) or "(none)"
        return _refuse(
            adapter_cls, raw, org_id, 404, "Not Found", f"{provider} endpoints are: {kinds}"
        )
    parts = RequestParts(
        url=public_url(),
        body=body,
        headers=dict(request.headers),
        kind=kind,
        token=token,
        remote_addr=_client_address(integration.options or {}),
        received_at=utcnow(),
    )
    try:
        adapter.verify(parts, verification_secret(integration, current_app.config["SECRET_KEY"]))
    except (SignatureError, IntegrationError) as exc:
        return _refuse(adapter_cls, raw, org_id, 401, "Invalid signature", str(exc))
    try:
        found = adapter.parse(parts)
    except PayloadError as exc:
        return _refuse(
            adapter_cls,
            raw,
            org_id,
            422,
            "Invalid payload",
            str(exc),
            errors=[{"index": None, "field": "(body)", "message": str(exc)}],
        )
    events, errors = parse_events({"events": found}) if found else ([], [])
    if errors:
        return _refuse(
            adapter_cls,
            raw,
            org_id,
            422,
            "Invalid events",
            "the payload gave events the core refuses",
            errors=[e.model_dump() for e in errors],
        )
    reply = adapter.reply(parts, found)
    if adapter.stateful:
        _ingest(session, org, events, raw, reply.status)
    else:
        # Verified and parsed on a read; only the ingest itself takes the write lock.
        session.rollback()
        with serialized_writes(get_engine()):
            mark_write(session)
            _ingest(session, org, events, raw, reply.status)
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


def _ingest(session: Any, org: Organisation, events: list, raw: RawDelivery, status: int) -> None:
    ingest_events(
        session,
        org,
        events,
        raw,
        pseudonym_key=current_app.config["PSEUDONYM_KEY"],
        http_status=status,
    )
    session.commit()
