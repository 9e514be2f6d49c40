"""Provider webhooks: ``POST /hooks/<provider>/<token>[/<kind>]``.

Every delivery is kept as it arrived, accepted or rejected with its reason; accepted ones hand
their canonical events to the same ingest service as the generic API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlmodel import Session

from integrations import PROVIDERS, PayloadError, RequestParts, SignatureError
from servicedesk.ingest.delivery import (
    Arrival,
    accepted_events,
    sender_known,
    sender_proven,
    within_limit,
)
from servicedesk.ingest.delivery import (
    receive as receive_delivery,
)
from servicedesk.ingest.refusals import DeliveryRefused, too_deep
from servicedesk.ingest.web import raw_delivery
from servicedesk.timeutil import utcnow
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


class ProviderHook:
    """Deliveries from one provider, read by its adapter (``integrations.PROVIDERS``): the
    adapter declares how it is kept, whether reading writes, and the status that ends retries."""

    def __init__(self, provider: str, token: str, kind: str) -> None:
        self.provider, self.token, self.kind = provider, token, kind
        adapter = PROVIDERS.get(provider)
        self.source = provider if adapter is not None else "hooks"
        self.audit_headers: tuple[str, ...] = adapter.audit_headers if adapter else ()
        self.refusal_status: int | None = adapter.refusal_status if adapter else None
        self.stateful: bool = bool(adapter and adapter.stateful)

    def read(self, session: Session, body: bytes | None) -> Arrival:
        found_hook = find_integration(session, self.provider, self.token)
        if found_hook is None:
            raise DeliveryRefused(404, "Not Found", "no such integration")
        integration, org = found_hook
        sender_known(org)
        body = within_limit(body)
        adapter = build_adapter(session, integration, current_app.config["PSEUDONYM_KEY"])
        if self.kind not in adapter.kinds:
            kinds = ", ".join(k for k in adapter.kinds if k) or "(none)"
            raise DeliveryRefused(
                404, "Not Found", f"{self.provider} endpoints are: {kinds}", final=True
            )
        parts = RequestParts(
            url=public_url(),
            body=body,
            headers=dict(request.headers),
            kind=self.kind,
            token=self.token,
            remote_addr=_client_address(integration.options or {}),
            received_at=utcnow(),
        )
        try:
            secret = verification_secret(integration, current_app.config["SECRET_KEY"])
            adapter.verify(parts, secret)
        except (SignatureError, IntegrationError) as exc:
            raise DeliveryRefused(401, "Invalid signature", str(exc)) from None
        sender_proven(org)
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
        events = accepted_events({"events": found}) if found else []
        reply = adapter.reply(parts, found)
        raw = raw_delivery(self.source, body, adapter.audit_headers)

        def answer(_result: Any) -> Response:
            return Response(reply.body, status=reply.status, content_type=reply.content_type)

        return Arrival(org, events, raw, reply.status, answer)


@bp.post("/<provider>/<token>")
@bp.post("/<provider>/<token>/<kind>")
def receive(provider: str, token: str, kind: str = "") -> Response:
    """One provider delivery: verify, parse, ingest, answer what the provider expects."""
    return receive_delivery(ProviderHook(provider, token, kind))
