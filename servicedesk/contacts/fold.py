"""Folding events into contact rows: a pure function of the set of a contact's events.

The contact is recomputed from all its stored events whenever new ones arrive, so arrival order
and repeats cannot change the result. Ties between events at the same instant are broken by the
sender's event id, never by arrival.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from servicedesk.calendars.contacts import C as CONTACTS
from servicedesk.calendars.contacts import set_email_working_times
from servicedesk.calendars.worktime import contact_local_times
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.contacts.surveys import link_surveys, record_survey_responses
from servicedesk.db import advisory_lock, dialect_of, insert_for, table_of
from servicedesk.ingest.models import Event
from servicedesk.metrics.models import drop_for_contacts, drop_months_from
from servicedesk.orgs.models import Organisation, Queue
from servicedesk.statements import in_list, list_value, prepared
from servicedesk.timeutil import local_date, utcnow

#: The event that opens a contact of each channel.
START_TYPE = {"phone": "call.queued", "email": "email.received"}
ANSWER_TYPE = {"phone": "call.answered", "email": "email.replied"}

ContactKey = tuple[str, str]  # (channel, contact_id)

#: How far a call's answer may come before its queue time and still be its answer (wait 0):
#: the clocks of a queue system and of an agent's phone may differ by a few seconds.
CLOCK_SKEW_SECONDS = 10
CLOCK_SKEW = timedelta(seconds=CLOCK_SKEW_SECONDS)


@dataclass(frozen=True, slots=True)
class FoldEvent:
    """The columns of an event that a contact is computed from."""

    event_id: str
    type: str
    occurred_at: datetime
    queue: str | None
    agent: str | None
    caller_hash: str | None
    direct_answer: bool | None

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_id)


def _first(events: Iterable[FoldEvent]) -> FoldEvent | None:
    return min(events, key=lambda e: e.order, default=None)


def _last(events: Iterable[FoldEvent]) -> FoldEvent | None:
    return max(events, key=lambda e: e.order, default=None)


def _queue_visit(
    channel: str, events: list[FoldEvent], start: FoldEvent, answer: FoldEvent | None
) -> FoldEvent:
    """The queue visit the contact's wait and unit are measured in.

    A call may wait in several queues (an overflow from Växel to Bygglov, a transfer, a flow
    that enqueues it again). It counts in the queue that answered it, from when it entered that
    queue: the latest ``call.queued`` at or before the answer; unanswered, the latest one. An
    e-mail, and a call with a single ``call.queued``, keep their start.
    """
    if channel != "phone":
        return start
    queued = sorted((e for e in events if e.type == "call.queued"), key=lambda e: e.order)
    if answer is not None:
        queued = [e for e in queued if e.occurred_at <= answer.occurred_at]
    return queued[-1] if queued else start


def _call_end(events: list[FoldEvent]) -> FoldEvent | None:
    """When the call ended: its latest hang-up, not an agent's wrap-up keyed in later.

    A ``call.ended`` that carries only a verdict (a wrap-up code, an IVR result) belongs to the
    call but may arrive hours after it; it gives the end only when no plain hang-up is known.
    A call queued again after its last end (an overflow after a time-out) is not over.
    """
    ends = [e for e in events if e.type == "call.ended"]
    end = _last(e for e in ends if e.direct_answer is None) or _last(ends)
    requeued = _last(e for e in events if e.type == "call.queued")
    if end is not None and requeued is not None and requeued.occurred_at > end.occurred_at:
        return None
    return end


def compute_contact(channel: str, events: list[FoldEvent]) -> dict[str, Any]:
    """The contact's derived columns (without ids and the local date)."""
    starts = [e for e in events if e.type == START_TYPE[channel]]
    start = _first(starts) or _first(events)
    assert start is not None, "a contact has at least one event"
    started_at = start.occurred_at
    answers = [e for e in events if e.type == ANSWER_TYPE[channel]]
    if channel == "email":
        # Only a reply after the citizen's message answers it (docs/metrics.md, E-mail).
        answers = [e for e in answers if e.occurred_at >= started_at]
    else:
        # An answer a few seconds before the queue time is two clocks that disagree: the call
        # was answered at once (wait 0). Earlier than that it is a sender's error, not an answer
        # of this call (docs/metrics.md, "Answers before the queue time").
        answers = [e for e in answers if e.occurred_at >= started_at - CLOCK_SKEW]
    answer = _first(answers)
    visit = _queue_visit(channel, events, start, answer)
    ended = _call_end(events) if channel == "phone" else None
    verdict = _last(e for e in events if e.type == "call.ended" and e.direct_answer is not None)
    # The queue the contact waited in (see _queue_visit), else the first event naming one; the
    # agent who answered it, else the first one named.
    queued_in = visit if visit.queue else _first(e for e in events if e.queue)
    agent_event = (answer if answer and answer.agent else None) or _first(
        e for e in events if e.agent
    )
    caller_event = _first(e for e in events if e.caller_hash)
    answered_at = answer.occurred_at if answer else None
    ended_at = ended.occurred_at if ended else None
    return {
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "wait_seconds": (
            max(0.0, (answered_at - visit.occurred_at).total_seconds())
            if channel == "phone" and answered_at is not None
            else None
        ),
        "handle_seconds": _handle_seconds(channel, answered_at, ended_at),
        "direct_answer": verdict.direct_answer if verdict else None,
        "queue": queued_in.queue if queued_in else None,
        "agent": agent_event.agent if agent_event else None,
        "caller_hash": caller_event.caller_hash if caller_event else None,
        "event_count": len(events),
    }


def _handle_seconds(
    channel: str, answered_at: datetime | None, ended_at: datetime | None
) -> float | None:
    """The handle time (docs/metrics.md, "Handle time"): answered -> ended, for a call answered
    and ended in that order; None otherwise (an end before the answer is two clocks that
    disagree, not a call of negative length)."""
    if channel != "phone" or answered_at is None or ended_at is None or ended_at < answered_at:
        return None
    return (ended_at - answered_at).total_seconds()


# Statements are built once per dialect and reused: building an upsert's ``excluded`` columns
# costs more than executing it on the ingest hot path.


def _contact_upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    table = table_of(Contact)
    stmt = insert_for(dialect, table)
    keys = ("organisation_id", "channel", "contact_id")
    return stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in columns if name not in keys},
    )


def _contact_insert_new(dialect: str, _columns: tuple[str, ...]) -> Any:
    """INSERT of contacts not stored yet: one already stored is left to ``_contact_upsert``."""
    keys = ("organisation_id", "channel", "contact_id")
    return insert_for(dialect, table_of(Contact)).on_conflict_do_nothing(index_elements=keys)


@lru_cache(maxsize=4)
def _queue_insert(dialect: str) -> Any:
    table = table_of(Queue)
    stmt = insert_for(dialect, table)
    return stmt.on_conflict_do_nothing(index_elements=["organisation_id", "name"])


_QUEUES = table_of(Queue)
_EV = table_of(Event)
_SR = table_of(SurveyResponse)
#: A row of the fold's query that says "this contact id has survey responses", not an event.
SURVEYED_MARK = "survey.response"
_FOLD_COLUMNS = (
    "channel", "contact_id", "event_id", "type", "occurred_at", "queue", "agent", "caller_hash",
    "direct_answer",
)  # fmt: skip


def _queue_select(dialect: str, _keys: tuple[str, ...]) -> Any:
    return sa.select(_QUEUES.c.name, _QUEUES.c.id).where(
        _QUEUES.c.organisation_id == sa.bindparam("org_id"),
        in_list(_QUEUES.c.name, "names", dialect),
    )


def _fold_select(dialect: str, _keys: tuple[str, ...]) -> Any:
    """The contacts' events, and in the same round trip which of the ids have survey responses
    (rows of type SURVEYED_MARK with nothing else): only those need their scores linked. The
    columns are those of ``_FOLD_COLUMNS``, in that order. The ids are one parameter (a list),
    so one statement serves a single event and a batch of 1,000 alike."""
    org: sa.BindParameter[int] = sa.bindparam("org_id")
    return sa.union_all(
        sa.select(*(_EV.c[name] for name in _FOLD_COLUMNS)).where(
            _EV.c.organisation_id == org,
            _EV.c.channel.in_([sa.literal_column("'phone'"), sa.literal_column("'email'")]),
            in_list(_EV.c.contact_id, "ids", dialect),
            _EV.c.type != sa.literal_column(f"'{SURVEYED_MARK}'"),
            # The events of the delivery being stored are in hand (``fold_contacts``' fresh).
            sa.or_(_EV.c.delivery_id.is_(None), _EV.c.delivery_id != sa.bindparam("fresh_in")),
        ),
        sa.select(
            sa.null(), _SR.c.contact_id, sa.null(), sa.literal_column(f"'{SURVEYED_MARK}'"),
            sa.null(), sa.null(), sa.null(), sa.null(), sa.null(),
        ).where(_SR.c.organisation_id == org, in_list(_SR.c.contact_id, "ids", dialect)),
    )  # fmt: skip


def queue_ids(session: Session, org_id: int, names: set[str]) -> dict[str, int]:
    """Queue ids by name, creating the queues the organisation has not seen before."""
    if not names:
        return {}
    conn = session.connection()
    dialect = conn.dialect.name
    select = prepared(conn.dialect, _queue_select, ("org_id", "names"))
    found: dict[str, int] = dict(
        select.execute(conn, {"org_id": org_id, "names": list_value(dialect, sorted(names))})
    )
    missing = names - found.keys()
    if missing:
        now = utcnow()
        conn.execute(
            _queue_insert(dialect),
            [{"organisation_id": org_id, "name": n, "created_at": now} for n in sorted(missing)],
        )
        found.update(
            select.execute(conn, {"org_id": org_id, "names": list_value(dialect, sorted(missing))})
        )
    return found


#: ``fold_contacts``' delivery id when it has no fresh events in hand (no delivery has it).
NO_DELIVERY = -1

#: A contact's columns as its events make them, with its queue's name (``queue``) where the
#: row stored has the queue's id: what ``plan_contacts`` makes before the writer's turn.
ContactColumns = dict[str, Any]


_FOLD_VALUES = operator.itemgetter(*_FOLD_COLUMNS[2:])


def _fold_event(row: Mapping[str, Any]) -> FoldEvent:
    return FoldEvent(*_FOLD_VALUES(row))


def _folds(row: Mapping[str, Any]) -> bool:
    """Whether an event row is one a contact is computed from (not a survey answer)."""
    return row["type"] != SURVEYED_MARK and row["channel"] in START_TYPE


def _contact_columns(
    org: Organisation, channel: str, events: list[FoldEvent], now: datetime
) -> ContactColumns:
    c = compute_contact(channel, events)
    start_date = local_date(c["started_at"], org.timezone)
    return {
        "start_date": start_date,
        "start_month": start_date.year * 100 + start_date.month,
        # E-mail: the working time, from the calendar (``fold_contacts``).
        "answer_seconds": c["wait_seconds"],
        "updated_at": now,
        **c,
        **_working_time_columns(c, org),
    }


def _contact_row(
    org_id: int, key: ContactKey, columns: ContactColumns, queue_id: int | None
) -> dict[str, Any]:
    """The row stored (always these keys in this order: one compiled statement serves all)."""
    row = {"organisation_id": org_id, "channel": key[0], "contact_id": key[1],
           "queue_id": queue_id, **columns}  # fmt: skip
    del row["queue"]
    return row


def plan_contacts(
    org: Organisation, rows: Iterable[Mapping[str, Any]], now: datetime
) -> dict[ContactKey, ContactColumns]:
    """The contacts as a delivery's own events make them, computed before the writer's turn.

    Most contacts of a batch have no other event stored: ``fold_contacts`` stores these as they
    are, and computes again only the contacts it finds other events of. On SQLite the writers
    take turns, so what is done here no longer holds the others up (issue 17).
    """
    by_key: dict[ContactKey, list[FoldEvent]] = defaultdict(list)
    for row in rows:
        if _folds(row):
            by_key[(row["channel"], row["contact_id"])].append(_fold_event(row))
    return {key: _contact_columns(org, key[0], events, now) for key, events in by_key.items()}


def plan_parameters(
    dialect: Dialect, org_id: int, planned: Mapping[ContactKey, ContactColumns]
) -> dict[ContactKey, Any]:
    """``plan_contacts``' rows as the database driver takes them, their queue id left out
    (known only in the writer's turn): converting some forty values a contact is then done
    before the turn too."""
    out = {}
    for key, columns in planned.items():
        row = _contact_row(org_id, key, columns, None)
        out[key] = prepared(dialect, _contact_upsert, tuple(row)).parameters(row)
    return out


def fold_contacts(
    session: Session,
    org: Organisation,
    keys: set[ContactKey],
    *,
    fresh: Sequence[Mapping[str, Any]] = (),
    fresh_in: int = NO_DELIVERY,
    planned: Mapping[ContactKey, ContactColumns] | None = None,
    planned_parameters: Mapping[ContactKey, Any] | None = None,
) -> set[str]:
    """Recompute the contacts with these keys from all their stored events; returns the
    contact ids among them that have survey responses.

    ``fresh`` are the event rows just stored by the delivery ``fresh_in``, all of them (a
    delivery stored in this transaction): they are taken as they are instead of read back, and
    only the other deliveries' events are read. For a batch of new calls that is nearly nothing
    to read, where reading its own 500 events back was a fifth of its time (issue 17).
    ``planned`` is ``plan_contacts`` of that delivery's events (all of them, stored or found to
    be repeats): used for each contact no other delivery has an event of, as it is then exact
    (a repeat is an event another delivery stored, so its contact is computed again), with
    ``planned_parameters`` (``plan_parameters``) their rows already converted for the driver.
    """
    surveyed: set[str] = set()
    if not keys:
        return surveyed
    by_key: dict[ContactKey, list[FoldEvent]] = defaultdict(list)
    conn = session.connection()
    dialect = conn.dialect.name
    ids = list_value(dialect, sorted({cid for _, cid in keys}))
    select = prepared(conn.dialect, _fold_select, ("org_id", "ids", "fresh_in"))
    stored = select.execute(conn, {"org_id": org.id, "ids": ids, "fresh_in": fresh_in})
    for channel, contact_id, *rest in stored:
        if rest[1] == SURVEYED_MARK:
            surveyed.add(contact_id)
        elif (channel, contact_id) in keys:
            # occurred_at comes back aware UTC from its column type on both engines.
            by_key[(channel, contact_id)].append(FoldEvent(*rest))
    seen = set(by_key)  # the contacts other deliveries have events of
    computed: dict[ContactKey, ContactColumns] = {}
    if planned is not None and fresh_in != NO_DELIVERY:
        computed = {key: planned[key] for key in keys if key not in by_key and key in planned}
    for row in fresh:
        key = (row["channel"], row["contact_id"])
        if key in keys and key not in computed and _folds(row):
            by_key[key].append(_fold_event(row))
    now = utcnow()
    for key, events in by_key.items():
        computed[key] = _contact_columns(org, key[0], events, now)
    queues = queue_ids(session, org.id, {c["queue"] for c in computed.values() if c["queue"]})
    rows: list[dict[str, Any]] = []
    for key, c in sorted(computed.items()):
        rows.append(_contact_row(org.id, key, c, queues.get(c["queue"]) if c["queue"] else None))
    if rows:
        made = {}
        if planned_parameters is not None:
            made = {key: planned_parameters[key] for key in computed.keys() - by_key.keys()}
        _store_contacts(conn, rows, seen, made)
        # A contact of a closed month makes that month's stored aggregates stale (no statement
        # when every contact is of the running month, the common case).
        drop_months_from(session, org, {r["start_month"] for r in rows})
    # By the calendar as it is now; an operation that changes the calendar recomputes these.
    answered = [r["contact_id"] for r in rows if r["channel"] == "email" and r["answered_at"]]
    if answered:
        for start in range(0, len(answered), 500):
            set_email_working_times(
                session, org.id, CONTACTS.c.contact_id.in_(answered[start : start + 500])
            )
    return surveyed


def _store_contacts(
    conn: sa.Connection,
    rows: list[dict[str, Any]],
    seen: set[ContactKey],
    made: Mapping[ContactKey, Any],
) -> None:
    """Insert or update the contacts' rows; ``seen`` are the keys other deliveries had events of,
    ``made`` the driver's parameters made before the writer's turn, without the queue id.

    On SQLite an upsert that may update a row costs three to four times a plain insert while
    foreign keys are checked (measured: 6.5 against 2.0 ms for 167 new contacts, issue 17). So
    the contacts no other delivery had events of, nearly all of a batch, are first inserted
    with ``DO NOTHING``; only if some of them were there after all (their events purged, the
    contact kept) does the upsert run over them too. PostgreSQL upserts them all at once.
    """
    upsert = prepared(conn.dialect, _contact_upsert, tuple(rows[0]))

    def parameters(chosen: list[dict[str, Any]]) -> list[Any]:
        out = []
        for row in chosen:
            params = made.get((row["channel"], row["contact_id"]))
            out.append(
                upsert.parameters(row)
                if params is None
                else upsert.with_value(params, "queue_id", row["queue_id"])
            )
        return out

    if conn.dialect.name != "sqlite":
        upsert.executemany(conn, rows, parameters(rows))
        return
    known = set(seen)
    new = [r for r in rows if (r["channel"], r["contact_id"]) not in known]
    if new:
        insert = prepared(conn.dialect, _contact_insert_new, tuple(rows[0]))
        # The INSERT takes the upsert's parameters in the same order (the same columns given).
        assert insert.names == upsert.names
        if insert.executemany(conn, new, parameters(new)) != len(new):
            known.update((r["channel"], r["contact_id"]) for r in new)
    again = [r for r in rows if (r["channel"], r["contact_id"]) in known]
    upsert.executemany(conn, again, parameters(again))


def _working_time_columns(c: dict[str, Any], org: Organisation) -> dict[str, Any]:
    """The local wall-clock parts the e-mail working-time arithmetic reads (see calendars/)."""
    return contact_local_times(c["started_at"], c["answered_at"], org.timezone)


def lock_contacts(session: Session, org_id: int, contact_ids: set[str]) -> None:
    """Serialise the transactions that fold the same contact ids, until they end.

    A contact is recomputed from the events its transaction can see; two deliveries about one
    call folded at the same moment on PostgreSQL would each miss the other's event (READ
    COMMITTED) and the last write would win. An advisory lock per contact id makes the second
    fold wait and then see both. SQLite needs none: its writers already take turns.
    """
    if contact_ids and dialect_of(session) == "postgresql":
        advisory_lock(session, *(f"contact:{org_id}:{cid}" for cid in contact_ids))


def fold_events(
    session: Session,
    org: Organisation,
    new: list[dict[str, Any]],
    *,
    delivery_id: int = NO_DELIVERY,
    planned: Mapping[ContactKey, ContactColumns] | None = None,
    planned_parameters: Mapping[ContactKey, Any] | None = None,
) -> None:
    """Bring the contacts and survey responses in line with newly stored events (rows).

    ``delivery_id``: the delivery these are all the events of, stored in this transaction (not
    a call list's later chunk, whose delivery has events stored before): the fold then takes
    them from ``new`` instead of reading them back, and ``planned`` (``plan_contacts`` of the
    delivery's events) spares computing again the contacts no other delivery has events of."""
    keys = {(r["channel"], r["contact_id"]) for r in new if r["type"] != "survey.response"}
    surveys = [r for r in new if r["type"] == "survey.response"]
    ids = {r["contact_id"] for r in new}
    if not ids:
        return
    lock_contacts(session, org.id, ids)
    if delivery_id == NO_DELIVERY:
        surveyed = fold_contacts(session, org, keys)
    else:
        surveyed = fold_contacts(
            session,
            org,
            keys,
            fresh=new,
            fresh_in=delivery_id,
            planned=planned,
            planned_parameters=planned_parameters,
        )
    record_survey_responses(session, org.id, surveys)
    # Scores and matched change only where responses exist (most calls have none).
    link_surveys(session, org.id, surveyed | {r["contact_id"] for r in surveys})
    if surveys:
        # A response about a contact of a closed month changes that month's survey figures.
        drop_for_contacts(session, org, {r["contact_id"] for r in surveys})
