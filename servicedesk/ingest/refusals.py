"""One way to refuse a delivery: raise ``DeliveryRefused``; one handler keeps it and answers.

Any layer that handles a delivery (the events API, the provider hooks, the parsers below them)
raises ``DeliveryRefused`` with the problem it found. The one handler (``ingest/web.py``) rolls
back what the request had begun, keeps the refused delivery in a transaction of its own and
answers with the problem+json. So a refusal is kept the same way wherever it was decided, and
nothing of a refused delivery's events can be committed with it.

The web layer of a delivery endpoint says what the handler should know before anything can be
refused (``begin_delivery``: the source) and once the sender is known (``delivery_sender``: the
organisation, and whether it authenticated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, g, request

from servicedesk.problems import problem


class DeliveryRefused(Exception):
    """A delivery that will not be stored as accepted, with the problem to answer.

    ``final`` marks a refusal that a retry of the same delivery can never change (an unreadable
    payload, events the core refuses, a body over the limit). A provider hook may answer those
    with the status that stops that provider's retries (``refusal_status``).
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: Iterable[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        final: bool = False,
    ) -> None:
        super().__init__(f"{status} {title}: {detail or ''}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.final = final

    def answered_as(self, status: int | None) -> DeliveryRefused:
        """The same refusal answered with another status (None: unchanged)."""
        if status is not None:
            self.status = status
        return self

    def response(self) -> Response:
        return problem(
            self.status, self.title, self.detail, errors=self.errors, headers=self.headers
        )


def too_deep() -> DeliveryRefused:
    """A body nested deeper than the parser's recursion allows (100,000 ``[``)."""
    return DeliveryRefused(
        422,
        "Invalid payload",
        "the body is nested too deeply",
        errors=[{"index": None, "field": "(body)", "message": "nested too deeply"}],
        final=True,
    )


def unstorable_text() -> DeliveryRefused:
    """Text a database refused (NUL on PostgreSQL, a lone surrogate anywhere)."""
    return DeliveryRefused(
        422,
        "Invalid text",
        "the payload holds text that cannot be stored (NUL or a lone surrogate)",
        errors=[{"index": None, "field": "(body)", "message": "NUL or a lone surrogate"}],
        final=True,
    )


@dataclass(slots=True)
class DeliveryContext:
    """What the handler knows of the delivery being refused."""

    source: str
    organisation_id: int | None = None
    #: True once the sender proved who it is (token, and signature where one is required).
    authenticated: bool = False
    #: The provider's own headers to keep with the delivery (its adapter's ``audit_headers``).
    audit_headers: tuple[str, ...] = ()


def begin_delivery(source: str) -> DeliveryContext:
    """Start a delivery's context (its source: "api" or the provider's name)."""
    context = DeliveryContext(source=source)
    g.delivery = context
    return context


def delivery_sender(organisation_id: int | None, *, authenticated: bool) -> None:
    """The organisation the delivery belongs to, and whether its sender is proven."""
    context = current_delivery()
    context.organisation_id = organisation_id
    context.authenticated = authenticated


def current_delivery() -> DeliveryContext:
    context: DeliveryContext | None = g.get("delivery")
    if context is None:
        context = begin_delivery(request.blueprint or "unknown")
    return context
