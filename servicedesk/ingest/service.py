"""The one path every event takes: store the delivery, store new events, fold their contacts.

The generic API and every provider adapter call these functions; they flush and never commit, so
the caller's transaction makes a delivery's events all-or-nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from servicedesk.contacts.fold import (
    ContactColumns,
    ContactKey,
    fold_events,
    plan_contacts,
    plan_parameters,
)
from servicedesk.db import insert_for, table_of
from servicedesk.ingest.models import Delivery, Event
from servicedesk.ingest.schemas import EventIn
from servicedesk.orgs.models import Organisation
from servicedesk.privacy import pseudonymise
from servicedesk.privacy.keys import rekey_callers
from servicedesk.statements import prepared, prepared_insert
from servicedesk.timeutil import utcnow

#: Request headers worth keeping with every delivery (ids and signatures; never credentials).
#: A provider's own ones are declared by its adapter (``audit_headers``).
AUDIT_HEADERS = (
    "content-type",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-request-id",
    "x-forwarded-for",
)


@dataclass(frozen=True, slots=True)
class RawDelivery:
    """What arrived, before anything was made of it."""

    source: str
    #: What is kept of the body: all of it, or of a stranger's refused delivery the first bytes.
    body: bytes
    content_type: str | None = None
    headers: Mapping[str, str] | None = None
    #: Headers to keep beside AUDIT_HEADERS (the provider's, from its adapter).
    audit_headers: tuple[str, ...] = ()
    source_address: str | None = None
    path: str | None = None
    #: The size and SHA-256 of the whole body as it arrived, when it differs from ``body``.
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    delivery_id: int
    accepted: int
    duplicates: int


_DELIVERIES = table_of(Delivery)
_EVENTS = table_of(Event)
_DELIVERY_COLUMNS = (
    "organisation_id", "source", "received_at", "status", "http_status", "reason",
    "content_type", "headers", "body", "accepted", "duplicates", "source_address", "path",
    "body_size", "body_sha256",
)  # fmt: skip
_EVENT_COLUMNS = (
    "organisation_id", "delivery_id", "event_id", "type", "channel", "contact_id",
    "occurred_at", "queue", "agent", "caller_hash", "direct_answer", "question", "score",
    "received_at",
)  # fmt: skip
_DELIVERY_COUNTS = (
    sa.update(_DELIVERIES)
    .where(_DELIVERIES.c.id == sa.bindparam("delivery_id"))
    .values(accepted=sa.bindparam("n_accepted"), duplicates=sa.bindparam("n_duplicates"))
)

_DELIVERY_ADD = (
    sa.update(_DELIVERIES)
    .where(_DELIVERIES.c.id == sa.bindparam("delivery_id"))
    .values(
        accepted=_DELIVERIES.c.accepted + sa.bindparam("n_accepted"),
        duplicates=_DELIVERIES.c.duplicates + sa.bindparam("n_duplicates"),
    )
)


def _delivery_insert(_dialect: str, _keys: tuple[str, ...]) -> Any:
    return sa.insert(_DELIVERIES).returning(_DELIVERIES.c.id)


def _event_insert(dialect: str, _keys: tuple[str, ...]) -> Any:
    """INSERT of new events that skips (and does not return) the ones already stored."""
    return (
        insert_for(dialect, _EVENTS)
        .on_conflict_do_nothing(index_elements=["organisation_id", "event_id"])
        .returning(_EVENTS.c.event_id)
    )


def _audit_headers(
    headers: Mapping[str, str] | None, extra: tuple[str, ...] = ()
) -> dict[str, str]:
    if not headers:
        return {}
    lower = {k.lower(): v for k, v in headers.items()}
    return {name: lower[name][:500] for name in (*AUDIT_HEADERS, *extra) if name in lower}


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def store_delivery(
    session: Session,
    raw: RawDelivery,
    *,
    organisation_id: int | None,
    status: str,
    http_status: int,
    reason: str | None = None,
    accepted: int = 0,
    duplicates: int = 0,
) -> int:
    """Keep a delivery as it arrived; returns its id."""
    conn = session.connection()
    insert = prepared(conn.dialect, _delivery_insert, _DELIVERY_COLUMNS)
    rows = insert.execute(
        conn,
        {
            "organisation_id": organisation_id,
            "source": raw.source,
            "received_at": utcnow(),
            "status": status,
            "http_status": http_status,
            "reason": reason,
            "content_type": (raw.content_type or "")[:200] or None,
            "headers": _audit_headers(raw.headers, raw.audit_headers),
            "body": raw.body,
            "accepted": accepted,
            "duplicates": duplicates,
            "source_address": raw.source_address,
            "path": (raw.path or "")[:300] or None,
            "body_size": raw.size if raw.size is not None else len(raw.body),
            "body_sha256": raw.sha256 if raw.size is not None else _sha256(raw.body),
        },
    )
    return int(rows[0][0])


def _event_row(org: Organisation, key: bytes, e: EventIn, now: datetime) -> dict[str, Any]:
    return {
        "organisation_id": org.id,
        "delivery_id": None,  # set once the delivery is stored
        "event_id": e.id,
        "type": e.type,
        "channel": e.event_channel,
        "contact_id": e.contact_id,
        "occurred_at": e.occurred_at_utc,
        "queue": e.queue,
        "agent": e.agent,
        "caller_hash": pseudonymise(e.caller, key, org.country) if e.caller else None,
        "direct_answer": e.direct_answer,
        "question": e.question,
        "score": e.stored_score,
        "received_at": now,
    }


#: What a feature does with the new events of a delivery while their callers are in clear
#: (the surveys keep the number of a contact drawn for a survey, sealed): called with the
#: session, the organisation, those events and the pseudonymisation key. The app factory lists
#: them (``ARRIVAL_HOOKS``), so ingest imports no feature above it.
ArrivalHook = Callable[[Session, Organisation, Sequence[EventIn], bytes], None]


def _arrival_hooks() -> list[ArrivalHook]:
    """The running app's hooks (none outside one)."""
    if not has_app_context():
        return []
    return list(current_app.extensions.get("servicedesk.arrival_hooks", ()))


def _previous_keys() -> Sequence[bytes]:
    """The rotated-out pseudonymisation keys of the running app (none outside one)."""
    return current_app.config.get("PSEUDONYM_PREVIOUS_KEYS", ()) if has_app_context() else ()


@dataclass(frozen=True, slots=True)
class NewEvents:
    """A delivery's events made ready to store: one per id (the first of several with one id
    in a delivery wins, as a later delivery would), as rows with their callers pseudonymised.

    Made before the writer's turn (``prepare_events``): on SQLite writers take turns, and for a
    batch of 500 this is some 2-3 ms that no longer holds the others up.
    """

    unique: dict[str, EventIn]
    rows: list[dict[str, Any]]
    #: Their contacts as these events alone make them (``plan_contacts``).
    contacts: dict[ContactKey, ContactColumns]
    #: The rows as the database driver takes them (without the delivery's id), when made for
    #: a dialect; None: converted in the writer's turn.
    params: list[Any] | None = None
    #: The contacts' rows as the driver takes them (``plan_parameters``), when made for a dialect.
    contact_params: dict[ContactKey, Any] | None = None


def prepare_events(
    org: Organisation,
    events: Sequence[EventIn],
    pseudonym_key: bytes,
    dialect: Dialect | None = None,
) -> NewEvents:
    unique: dict[str, EventIn] = {}
    for event in events:
        unique.setdefault(event.id, event)
    now = utcnow()
    rows = [_event_row(org, pseudonym_key, e, now) for e in unique.values()]
    contacts = plan_contacts(org, rows, now)
    if dialect is None:
        return NewEvents(unique, rows, contacts)
    insert = prepared_insert(dialect, _event_insert, _EVENT_COLUMNS).one
    params = [insert.parameters(row) for row in rows]
    return NewEvents(unique, rows, contacts, params, plan_parameters(dialect, org.id, contacts))


def ingest_events(
    session: Session,
    org: Organisation,
    events: Sequence[EventIn],
    raw: RawDelivery,
    *,
    pseudonym_key: bytes,
    http_status: int = 202,
    previous_keys: Sequence[bytes] | None = None,
    delivery_id: int | None = None,
    ready: NewEvents | None = None,
) -> IngestResult:
    """Store a valid delivery and its events, skipping duplicates, and fold what changed.

    With ``delivery_id`` the events belong to a delivery stored before (a call list imported in
    chunks is one delivery): ``raw`` is not stored again and the counts are added to its own.
    ``ready`` is ``prepare_events`` of these events, when the caller made it beforehand.
    """
    ready = ready or prepare_events(org, events, pseudonym_key)
    if delivery_id is not None:
        return _ingest(
            session, org, events, ready, delivery_id, pseudonym_key, previous_keys, add=True
        )
    # Counted as all accepted; corrected below in the (rare) case of duplicates, which saves
    # an UPDATE on the hot path.
    delivery_id = store_delivery(
        session,
        raw,
        organisation_id=org.id,
        status="accepted",
        http_status=http_status,
        accepted=len(events),
    )
    return _ingest(
        session, org, events, ready, delivery_id, pseudonym_key, previous_keys, add=False
    )


def _ingest(
    session: Session,
    org: Organisation,
    events: Sequence[EventIn],
    ready: NewEvents,
    delivery_id: int,
    pseudonym_key: bytes,
    previous_keys: Sequence[bytes] | None,
    *,
    add: bool,
) -> IngestResult:
    unique, rows = ready.unique, ready.rows
    for row in rows:
        row["delivery_id"] = delivery_id
    inserted: set[str] = set()
    if rows:
        conn = session.connection()
        insert = prepared_insert(conn.dialect, _event_insert, _EVENT_COLUMNS)
        params = None
        if ready.params is not None:
            params = [insert.one.with_value(p, "delivery_id", delivery_id) for p in ready.params]
        inserted = {r[0] for r in insert.run(conn, rows, params)}
    new = [r for r in rows if r["event_id"] in inserted]
    if previous_keys is None:
        previous_keys = _previous_keys()
    if previous_keys and new:
        # During a key rotation, a returning caller's older rows move to the current key.
        callers = [e.caller for e in unique.values() if e.caller and e.id in inserted]
        rekey_callers(session, org, callers, pseudonym_key, previous_keys)
    # A new delivery's events are all in ``new``: the fold need not read them back.
    if add:
        fold_events(session, org, new)
    else:
        fold_events(
            session,
            org,
            new,
            delivery_id=delivery_id,
            planned=ready.contacts,
            planned_parameters=ready.contact_params,
        )
    fresh = [e for e in unique.values() if e.caller and e.id in inserted]
    if fresh:
        # The only place a clear caller is seen after pseudonymisation: a hook keeps what its
        # feature must (docs/privacy.md); every other one is gone with this request.
        for hook in _arrival_hooks():
            hook(session, org, fresh, pseudonym_key)
    duplicates = len(events) - len(new)
    if add:
        session.connection().execute(
            _DELIVERY_ADD,
            {"delivery_id": delivery_id, "n_accepted": len(new), "n_duplicates": duplicates},
        )
    elif duplicates:
        session.connection().execute(
            _DELIVERY_COUNTS,
            {"delivery_id": delivery_id, "n_accepted": len(new), "n_duplicates": duplicates},
        )
    return IngestResult(delivery_id=delivery_id, accepted=len(new), duplicates=duplicates)
