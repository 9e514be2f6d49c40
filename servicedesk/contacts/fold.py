"""Folding events into contact rows: a pure function of the set of a contact's events.

The contact is recomputed from all its stored events whenever new ones arrive, so arrival order
and repeats cannot change the result. Ties between events at the same instant are broken by the
sender's event id, never by arrival.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from servicedesk.calendars.worktime import contact_local_times
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.ingest.models import Event
from servicedesk.orgs.models import Organisation, Queue
from servicedesk.timeutil import local_date, to_utc, utcnow

#: The event that opens a contact of each channel.
START_TYPE = {"phone": "call.queued", "email": "email.received"}
ANSWER_TYPE = {"phone": "call.answered", "email": "email.replied"}

ContactKey = tuple[str, str]  # (channel, contact_id)


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


def compute_contact(channel: str, events: list[FoldEvent]) -> dict[str, Any]:
    """The contact's derived columns (without ids and the local date)."""
    starts = [e for e in events if e.type == START_TYPE[channel]]
    start = _first(starts) or _first(events)
    assert start is not None, "a contact has at least one event"
    started_at = start.occurred_at
    answers = [e for e in events if e.type == ANSWER_TYPE[channel]]
    if channel == "email":
        # Only a reply after the citizen's message answers it (METRICS.md, e-mail).
        answers = [e for e in answers if e.occurred_at >= started_at]
    answer = _first(answers)
    ended = _last(e for e in events if e.type == "call.ended")
    verdict = _last(e for e in events if e.type == "call.ended" and e.direct_answer is not None)
    # The queue the contact arrived in; the agent who answered it, else the first one named.
    queued_in = _first(e for e in events if e.queue) if not start.queue else start
    agent_event = (answer if answer and answer.agent else None) or _first(
        e for e in events if e.agent
    )
    caller_event = _first(e for e in events if e.caller_hash)
    answered_at = answer.occurred_at if answer else None
    return {
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended.occurred_at if ended else None,
        "wait_seconds": (
            (answered_at - started_at).total_seconds()
            if channel == "phone" and answered_at is not None
            else None
        ),
        "direct_answer": verdict.direct_answer if verdict else None,
        "queue": queued_in.queue if queued_in else None,
        "agent": agent_event.agent if agent_event else None,
        "caller_hash": caller_event.caller_hash if caller_event else None,
        "event_count": len(events),
    }


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def queue_ids(session: Session, org_id: int, names: set[str]) -> dict[str, int]:
    """Queue ids by name, creating the queues the organisation has not seen before."""
    if not names:
        return {}
    table = Queue.__table__  # type: ignore[attr-defined]
    found = dict(
        session.execute(
            sa.select(table.c.name, table.c.id).where(
                table.c.organisation_id == org_id, table.c.name.in_(names)
            )
        ).all()
    )
    missing = names - found.keys()
    if missing:
        now = utcnow()
        session.execute(
            _insert(session, table).on_conflict_do_nothing(
                index_elements=["organisation_id", "name"]
            ),
            [{"organisation_id": org_id, "name": n, "created_at": now} for n in sorted(missing)],
        )
        found.update(
            session.execute(
                sa.select(table.c.name, table.c.id).where(
                    table.c.organisation_id == org_id, table.c.name.in_(missing)
                )
            ).all()
        )
    return found


def fold_contacts(session: Session, org: Organisation, keys: set[ContactKey]) -> int:
    """Recompute the contacts with these keys from all their stored events; returns how many."""
    if not keys:
        return 0
    ev = Event.__table__  # type: ignore[attr-defined]
    by_key: dict[ContactKey, list[FoldEvent]] = defaultdict(list)
    ids = sorted({cid for _, cid in keys})
    for start in range(0, len(ids), 500):
        rows = session.execute(
            sa.select(
                ev.c.channel,
                ev.c.contact_id,
                ev.c.event_id,
                ev.c.type,
                ev.c.occurred_at,
                ev.c.queue,
                ev.c.agent,
                ev.c.caller_hash,
                ev.c.direct_answer,
            ).where(
                ev.c.organisation_id == org.id,
                ev.c.contact_id.in_(ids[start : start + 500]),
                ev.c.channel.in_(("phone", "email")),
                ev.c.type != "survey.response",
            )
        )
        for channel, contact_id, *rest in rows:
            if (channel, contact_id) in keys:
                event = FoldEvent(*rest)
                by_key[(channel, contact_id)].append(
                    event if event.occurred_at.tzinfo else _with_utc(event)
                )
    computed = {key: compute_contact(key[0], events) for key, events in by_key.items()}
    queues = queue_ids(session, org.id, {c["queue"] for c in computed.values() if c["queue"]})  # type: ignore[arg-type]
    now = utcnow()
    rows = []
    for (channel, contact_id), c in sorted(computed.items()):
        queue = c.pop("queue")
        rows.append(
            {
                "organisation_id": org.id,
                "channel": channel,
                "contact_id": contact_id,
                "queue_id": queues.get(queue) if queue else None,
                "start_date": local_date(c["started_at"], org.timezone),
                "updated_at": now,
                **c,
                **_working_time_columns(c, org),
            }
        )
    if rows:
        table = Contact.__table__  # type: ignore[attr-defined]
        stmt = _insert(session, table)
        update = {
            name: stmt.excluded[name]
            for name in rows[0]
            if name not in ("organisation_id", "channel", "contact_id")
        }
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["organisation_id", "channel", "contact_id"], set_=update
            ),
            rows,
        )
    return len(rows)


def _working_time_columns(c: dict[str, Any], org: Organisation) -> dict[str, Any]:
    """The local wall-clock parts the e-mail working-time arithmetic reads (see calendars/)."""
    return contact_local_times(c["started_at"], c["answered_at"], org.timezone)


def _with_utc(event: FoldEvent) -> FoldEvent:
    return FoldEvent(
        event.event_id,
        event.type,
        to_utc(event.occurred_at),
        event.queue,
        event.agent,
        event.caller_hash,
        event.direct_answer,
    )


def record_survey_responses(session: Session, org: Organisation, events: list[Any]) -> int:
    """Keep the latest answer per (contact, question); an older or repeated one changes nothing."""
    latest: dict[tuple[str, str], Any] = {}
    for e in events:
        key = (e["contact_id"], e["question"])
        if key not in latest or (e["occurred_at"], e["event_id"]) > (
            latest[key]["occurred_at"],
            latest[key]["event_id"],
        ):
            latest[key] = e
    if not latest:
        return 0
    table = SurveyResponse.__table__  # type: ignore[attr-defined]
    stmt = _insert(session, table)
    newer = sa.or_(
        stmt.excluded.occurred_at > table.c.occurred_at,
        sa.and_(
            stmt.excluded.occurred_at == table.c.occurred_at,
            stmt.excluded.event_id > table.c.event_id,
        ),
    )
    rows = [
        {
            "organisation_id": org.id,
            "contact_id": e["contact_id"],
            "channel": e["channel"],
            "question": e["question"],
            "score": e["score"],
            "occurred_at": e["occurred_at"],
            "event_id": e["event_id"],
        }
        for _, e in sorted(latest.items())
    ]
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["organisation_id", "contact_id", "question"],
            set_={
                "channel": stmt.excluded.channel,
                "score": stmt.excluded.score,
                "occurred_at": stmt.excluded.occurred_at,
                "event_id": stmt.excluded.event_id,
            },
            where=newer,
        ),
        rows,
    )
    return len(rows)
