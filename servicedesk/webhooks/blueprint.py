"""Provider webhooks: ``POST /hooks/<provider>/<token>[/<kind>]``.

Every delivery is kept as it arrived, accepted or rejected with its reason; accepted ones hand
their canonical events to the same ingest service as the generic API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import DataError, StatementError

from integrations import PROVIDERS, PayloadError, RequestParts, SignatureError
from servicedesk.db import get_engine, get_session, mark_write, serialized_writes
from servicedesk.ingest.refusals import (
    DeliveryRefused,
    begin_delivery,
    delivery_sender,
    too_deep,
    unstorable_text,
)
from servicedesk.ingest.schemas import parse_events
from servicedesk.ingest.service import RawDelivery, ingest_events
from servicedesk.ingest.web import raw_delivery, read_body
from servicedesk.orgs.models import Organisation
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


def refusal_status(provider: str, exc: DeliveryRefused) -> int | None:
    """The status a provider needs for a refusal that no retry can change, if it needs one.

    Providers retry what they take for a passing fault; some stop only on a status of their own
    (an adapter's ``refusal_status``). Refusals a retry may mend (a signature, an outage, a rate
    limit) keep their own status.
    """
    if not exc.final:
        return None
    return getattr(PROVIDERS.get(provider), "refusal_status", None)


@bp.post("/<provider>/<token>")
@bp.post("/<provider>/<token>/<kind>")
def receive(provider: str, token: str, kind: str = "") -> Response:
    """One provider delivery: verify, parse, ingest, answer what the provider expects."""
    adapter_cls = PROVIDERS.get(provider)
    context = begin_delivery(provider if adapter_cls is not None else "hooks")
    if adapter_cls is not None:
        context.audit_headers = adapter_cls.audit_headers
    try:
        if adapter_cls is not None and adapter_cls.stateful:
            # Verifying and parsing write too (replay nonces, thread keys): one writer throughout.
            with serialized_writes(get_engine()):
                mark_write(get_session())
                return _receive(provider, token, kind)
        return _receive(provider, token, kind)
    except UNAVAILABLE_ERRORS as exc:
        return database_unavailable(exc)
    except (DataError, StatementError, UnicodeError) as exc:
        # Text no engine can take (a lone surrogate an adapter hashed, a NUL in what it keeps
        # besides events, such as a Mailgun token): the sender's fault, refused as bad text.
        if isinstance(exc, StatementError) and not (
            isinstance(exc, DataError) or isinstance(exc.orig, UnicodeError)
        ):
            raise
        refusal = unstorable_text()
        raise refusal.answered_as(refusal_status(provider, refusal)) from None
    except DeliveryRefused as exc:
        raise exc.answered_as(refusal_status(provider, exc)) from None


def _receive(provider: str, token: str, kind: str) -> Response:
    body = read_body()
    source = provider if provider in PROVIDERS else "hooks"
    session = get_session()
    found_hook = find_integration(session, provider, token)
    if found_hook is None:
        raise DeliveryRefused(404, "Not Found", "no such integration")
    integration, org = found_hook
    delivery_sender(org.id, authenticated=False)
    if body is None:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        raise DeliveryRefused(413, "Payload Too Large", f"over {limit} bytes", final=True)
    adapter = build_adapter(session, integration, current_app.config["PSEUDONYM_KEY"])
    if kind not in adapter.kinds:
        kinds = ", ".join(k for k in adapter.kinds if k) or "(none)"
        raise DeliveryRefused(404, "Not Found", f"{provider} endpoints are: {kinds}", final=True)
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
        raise DeliveryRefused(401, "Invalid signature", str(exc)) from None
    delivery_sender(org.id, authenticated=True)
    try:
        found = adapter.parse(parts)
    except RecursionError:
        raise too_deep() from None
    except PayloadError as exc:
        raise DeliveryRefused(
            422,
            "Invalid payload",
            str(exc),
            errors=[{"index": None, "field": "(body)", "message": str(exc)}],
            final=True,
        ) from None
    events, errors = parse_events({"events": found}) if found else ([], [])
    if errors:
        raise DeliveryRefused(
            422,
            "Invalid events",
            "the payload gave events the core refuses",
            errors=[e.model_dump() for e in errors],
            final=True,
        )
    raw = raw_delivery(source, body, adapter.audit_headers)
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
