"""The one way a delivery comes in over HTTP, whichever endpoint it reached.

The events API and every provider hook are a ``DeliveryEndpoint``: each reads a request its own
way (its sender, its signature, its payload) and refuses it with ``DeliveryRefused`` at the
first step that fails. ``receive`` does the rest the same way for all of them: the steps every
endpoint takes in the same order (the sender known, the body within the limit, the sender
proven, the events the core accepts), the unit of work the events are ingested in, the answer
to an outage or to text no database can store, and the status that stops a sender's retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Response, current_app, request
from sqlalchemy.exc import DataError, StatementError
from sqlmodel import Session

from servicedesk.db import get_engine, get_session, unit_of_work, worker_turn
from servicedesk.ingest.lane import OUTAGE_KEY
from servicedesk.ingest.refusals import (
    DeliveryRefused,
    begin_delivery,
    delivery_sender,
    unstorable_text,
)
from servicedesk.ingest.schemas import EventIn, parse_events
from servicedesk.ingest.service import (
    IngestResult,
    NewEvents,
    RawDelivery,
    ingest_events,
    prepare_events,
)
from servicedesk.ingest.web import read_body
from servicedesk.orgs.models import Organisation
from servicedesk.unavailable import UNAVAILABLE_ERRORS, database_unavailable


@dataclass(frozen=True, slots=True)
class Arrival:
    """A delivery its endpoint has read: whose it is, its events, what to keep, the answer."""

    org: Organisation
    events: list[EventIn]
    raw: RawDelivery
    #: The status answered, kept with the delivery.
    http_status: int
    answer: Callable[[IngestResult], Response]


class DeliveryEndpoint(Protocol):
    """An endpoint deliveries arrive at."""

    #: "api", or the provider's name: what the deliveries are kept as.
    source: str
    #: Request headers of the sender's own worth keeping beside the common ones.
    audit_headers: tuple[str, ...]
    #: The status that tells the sender to stop retrying a refusal no retry can mend (a final
    #: one), where it needs its own; None keeps each refusal's status.
    refusal_status: int | None
    #: Whether reading writes (replay nonces, e-mail thread keys): then the whole request is one
    #: unit of work; else the delivery is read on a read and only the ingest takes a writer's turn.
    stateful: bool

    def read(self, session: Session, body: bytes | None) -> Arrival:
        """The delivery read, or ``DeliveryRefused`` at its first fault."""
        ...


def receive(endpoint: DeliveryEndpoint) -> Response:
    """Take a delivery in through ``endpoint``: stored with its events, or refused and kept."""
    context = begin_delivery(endpoint.source)
    context.audit_headers = endpoint.audit_headers
    outage = request.environ.pop(OUTAGE_KEY, None)
    if outage is not None:
        # The events lane's attempt found the database unavailable a moment ago: answered now,
        # not after waiting for it again (its lock timeout, say).
        return database_unavailable(outage)
    body = read_body()  # before the worker's turn: a slow sender holds no other delivery up
    try:
        with worker_turn(get_engine()):
            if endpoint.stateful:
                with unit_of_work() as session:
                    arrival = endpoint.read(session, body)
                    result = _ingest(session, arrival, _prepared(arrival))
            else:
                arrival = endpoint.read(get_session(), body)
                ready = _prepared(arrival)  # before the writer's turn
                with unit_of_work() as session:
                    result = _ingest(session, arrival, ready)
    except UNAVAILABLE_ERRORS as exc:
        return database_unavailable(exc)
    except (DataError, StatementError, UnicodeError) as exc:
        # Text no engine can take (a lone surrogate an adapter hashed, a NUL in what it keeps
        # besides events, such as a Mailgun token): the sender's fault, refused as bad text.
        if isinstance(exc, StatementError) and not (
            isinstance(exc, DataError) or isinstance(exc.orig, UnicodeError)
        ):
            raise
        raise _answered(endpoint, unstorable_text()) from None
    except DeliveryRefused as exc:
        raise _answered(endpoint, exc) from None
    return arrival.answer(result)


def _answered(endpoint: DeliveryEndpoint, refusal: DeliveryRefused) -> DeliveryRefused:
    """A final refusal answered with the status that stops the sender's retries, if it has one."""
    return refusal.answered_as(endpoint.refusal_status if refusal.final else None)


def _prepared(arrival: Arrival) -> NewEvents:
    return prepare_events(
        arrival.org, arrival.events, current_app.config["PSEUDONYM_KEY"], get_engine().dialect
    )


def _ingest(session: Session, arrival: Arrival, ready: NewEvents) -> IngestResult:
    return ingest_events(
        session,
        arrival.org,
        arrival.events,
        arrival.raw,
        pseudonym_key=current_app.config["PSEUDONYM_KEY"],
        http_status=arrival.http_status,
        ready=ready,
    )


# The steps every endpoint takes, in this order ----------------------------------------------


def sender_known(org: Organisation, *, proven: bool = False) -> None:
    """The delivery's organisation is known (and whether its sender is proven already)."""
    delivery_sender(org.id, authenticated=proven)


def within_limit(body: bytes | None) -> bytes:
    """The body, or 413 when it is over MAX_CONTENT_LENGTH (no retry can mend that)."""
    if body is None:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        raise DeliveryRefused(
            413, "Payload Too Large", f"the body exceeds {limit} bytes", final=True
        )
    return body


def sender_proven(org: Organisation) -> None:
    """The sender proved who it is (its signature, or a token that needs none)."""
    delivery_sender(org.id, authenticated=True)


def accepted_events(payload: Any) -> list[EventIn]:
    """The canonical events of a payload, or 422 naming every problem (nothing is stored)."""
    events, errors = parse_events(payload)
    if errors:
        raise DeliveryRefused(
            422,
            "Invalid events",
            f"{len(errors)} problem(s); nothing of this delivery was stored",
            errors=[e.model_dump() for e in errors],
            final=True,
        )
    return events
