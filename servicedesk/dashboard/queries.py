"""What the dashboards show beyond the report figures: the live state, distributions, contacts.

The KKiK figures themselves come from ``servicedesk.metrics.queries`` (and frozen reports);
this module only counts what those do not: calls waiting now, unanswered e-mails by their
working-time age, how waits, grades and answer times are distributed, and the contact rows
behind a figure. Everything is aggregated in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.calendars import sql as calsql
from servicedesk.calendars.service import calendar_day
from servicedesk.calendars.worktime import DAY_SECONDS, local_parts, working_clock
from servicedesk.contacts.models import Contact, scored
from servicedesk.db import table_of
from servicedesk.metrics.definitions import QUESTIONS
from servicedesk.metrics.queries import queue_names
from servicedesk.orgs.models import Organisation
from servicedesk.timeutil import to_utc, utcnow

C = table_of(Contact)

#: Upper bounds (seconds) of the wait-time buckets; the last bucket is open.
WAIT_BUCKETS = (30, 60, 120, 300, 600)
#: Upper bounds (working days) of the e-mail answer-time buckets; the last is open.
EMAIL_BUCKETS = (1, 2, 3, 5)
#: A call still queued after this long without any event is taken to be lost, not waiting.
WAITING_HORIZON = timedelta(hours=4)
#: Unanswered e-mails older than this are not "open" any more on the live page.
OPEN_EMAIL_HORIZON = timedelta(days=60)


def _period(org: Organisation, channel: str, first: date, last: date, queue_ids: Any) -> list[Any]:
    conds = [
        C.c.organisation_id == org.id,
        C.c.channel == channel,
        C.c.start_date >= first,
        C.c.start_date <= last,
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(queue_ids)))
    return conds


def has_contacts_on(session: Session, org: Organisation, day: date) -> bool:
    """Whether any call or e-mail of the organisation started on ``day`` (its local date)."""
    stmt = sa.select(sa.exists().where(C.c.organisation_id == org.id, C.c.start_date == day))
    return bool(session.scalar(stmt))


def _by_queue(rows: Iterable[Sequence[Any]]) -> dict[int | None, Any]:
    return {row[0]: row[1:] for row in rows}


# ---------------------------------------------------------------------------------------------
# the live state


def waiting_now(
    session: Session, org: Organisation, now: datetime, queue_ids: Any = None
) -> dict[int | None, tuple[int, float]]:
    """Calls queued and neither answered nor ended: {queue_id: (count, longest wait seconds)}."""
    since = now - WAITING_HORIZON
    conds = [
        C.c.organisation_id == org.id,
        C.c.channel == "phone",
        C.c.start_date >= (since.date() - timedelta(days=1)),
        C.c.started_at >= since,
        C.c.started_at <= now,
        C.c.answered_at.is_(None),
        C.c.ended_at.is_(None),
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(queue_ids)))
    rows = session.execute(
        sa.select(C.c.queue_id, sa.func.count(), sa.func.min(C.c.started_at))
        .where(*conds)
        .group_by(C.c.queue_id)
    )
    return {qid: (int(n), (now - to_utc(oldest)).total_seconds()) for qid, n, oldest in rows if n}


def _clock_now(session: Session, org: Organisation, now: datetime) -> float:
    day, seconds = local_parts(now, org.timezone)
    row = calendar_day(session, org, day)
    if row is None:
        raise ValueError(f"{day} is outside the calendar")
    return working_clock(row.working_seconds_before, row.is_working, seconds)


def open_emails(
    session: Session, org: Organisation, now: datetime, queue_ids: Any = None
) -> dict[int | None, dict[str, Any]]:
    """Unanswered e-mails by queue, by working-time age: under 1, 1-2 and over 2 working days."""
    clock = _clock_now(session, org, now)
    cs = calsql.calendar_alias("cal_start")
    age = sa.literal(clock) - calsql.working_clock(cs, C.c.start_local_seconds)
    first = (now - OPEN_EMAIL_HORIZON).date()
    conds = [
        C.c.organisation_id == org.id,
        C.c.channel == "email",
        C.c.start_date >= first,
        C.c.answered_at.is_(None),
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(queue_ids)))
    stmt = (
        sa.select(
            C.c.queue_id,
            sa.func.count(),
            sa.func.sum(sa.case((age < DAY_SECONDS, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(age >= DAY_SECONDS, age < 2 * DAY_SECONDS), 1), else_=0)),
            sa.func.sum(sa.case((age >= 2 * DAY_SECONDS, 1), else_=0)),
            sa.func.max(age),
        )
        .select_from(C)
        .outerjoin(cs, sa.and_(cs.organisation_id == C.c.organisation_id, cs.day == C.c.start_date))
        .where(*conds)
        .group_by(C.c.queue_id)
    )
    result = {}
    for qid, n, under1, one_two, over2, oldest in session.execute(stmt):
        result[qid] = {
            "open": int(n),
            "under_1": int(under1 or 0),
            "1_to_2": int(one_two or 0),
            "over_2": int(over2 or 0),
            "oldest_working_hours": (float(oldest) / 3600) if oldest is not None else None,
        }
    return result


def calls_by_hour(
    session: Session, org: Organisation, day: date, queue_ids: Any = None
) -> dict[int, tuple[int, int]]:
    """Calls offered and answered per local hour of one day: {hour: (offered, answered)}."""
    hour = sa.cast(sa.func.floor(C.c.start_local_seconds / 3600), sa.Integer)
    rows = session.execute(
        sa.select(hour, sa.func.count(), sa.func.count(C.c.answered_at))
        .where(*_period(org, "phone", day, day, queue_ids), C.c.start_local_seconds.is_not(None))
        .group_by(hour)
    )
    return {int(h): (int(n), int(a)) for h, n, a in rows}


# ---------------------------------------------------------------------------------------------
# distributions of a period


def _bucket_counts(x: Any, bounds: Sequence[float]) -> list[Any]:
    """Counts of ``x`` <= the first bound, between each two bounds, and above the last."""
    cases = []
    low = None
    for high in bounds:
        cond = x <= high if low is None else sa.and_(x > low, x <= high)
        cases.append(sa.func.count(sa.case((cond, 1))))
        low = high
    cases.append(sa.func.count(sa.case((x > low, 1))))
    return cases


def wait_distribution(
    session: Session, org: Organisation, first: date, last: date, queue_ids: Any = None
) -> list[int]:
    """Answered calls per wait bucket (WAIT_BUCKETS, then the open last bucket).

    The wait is the calls' ``answer_seconds``, so the covering rollup index answers this.
    """
    x = C.c.answer_seconds
    row = session.execute(
        sa.select(*_bucket_counts(x, WAIT_BUCKETS)).where(
            *_period(org, "phone", first, last, queue_ids), x.is_not(None)
        )
    ).one()
    return [int(v or 0) for v in row]


def email_answer_distribution(
    session: Session, org: Organisation, first: date, last: date, queue_ids: Any = None
) -> list[int]:
    """E-mails per answer time in working days (EMAIL_BUCKETS, the open last, unanswered)."""
    bounds = [high * DAY_SECONDS for high in EMAIL_BUCKETS]
    unanswered = sa.func.count(sa.case((C.c.answered_local_date.is_(None), 1)))
    stmt = sa.select(*_bucket_counts(C.c.answer_seconds, bounds), unanswered).where(
        *_period(org, "email", first, last, queue_ids)
    )
    return [int(v or 0) for v in session.execute(stmt).one()]


def score_distribution(
    session: Session, org: Organisation, first: date, last: date, queue_ids: Any = None
) -> dict[str, list[int]]:
    """Responses per grade 1-5 for each question, about contacts started in the period.

    Read from the scores the fold keeps on the contacts, so a response counts here exactly
    where it counts in the figures (docs/metrics.md, Surveys).
    """
    conds = [
        C.c.organisation_id == org.id,
        C.c.start_date >= first,
        C.c.start_date <= last,
        scored(),
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(queue_ids)))
    result: dict[str, list[int]] = {}
    for question in QUESTIONS:
        score = C.c[f"{question}_score"]
        rows = session.execute(
            sa.select(score, sa.func.count()).where(*conds, score.is_not(None)).group_by(score)
        )
        for value, n in rows:
            if 1 <= value <= 5:
                result.setdefault(question, [0] * 5)[value - 1] += int(n)
    return result


# ---------------------------------------------------------------------------------------------
# the contacts behind a figure


@dataclass(frozen=True)
class ContactFilter:
    channel: str = "phone"
    first: date | None = None
    last: date | None = None
    queue_ids: tuple[int, ...] | None = None
    agent: str | None = None
    #: "answered", "abandoned", "direct", "not_direct" (phone) or "answered", "unanswered" (email)
    outcome: str | None = None
    #: "met" or "missed": phone within the service level; e-mail within ``deadline_days``.
    deadline: str | None = None
    deadline_days: int = 1
    #: A grade 1-5 any question of the contact got.
    rating: int | None = None
    question: str | None = None


def contacts(
    session: Session,
    org: Organisation,
    flt: ContactFilter,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """The contacts matching ``flt`` (total count, one page), newest first, pseudonymised."""
    worked = sa.case((C.c.channel == "email", C.c.answer_seconds), else_=None)
    conds = [C.c.organisation_id == org.id, C.c.channel == flt.channel]
    if flt.first:
        conds.append(C.c.start_date >= flt.first)
    if flt.last:
        conds.append(C.c.start_date <= flt.last)
    if flt.queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(flt.queue_ids)))
    if flt.agent:
        conds.append(C.c.agent == flt.agent)
    outcome = {
        "answered": C.c.answered_at.is_not(None),
        "unanswered": C.c.answered_at.is_(None),
        "abandoned": C.c.answered_at.is_(None),
        "direct": C.c.direct_answer.is_(True),
        "not_direct": sa.or_(C.c.direct_answer.is_(None), C.c.direct_answer.is_(False)),
    }.get(flt.outcome or "")
    if outcome is not None:
        conds.append(outcome)
    if flt.deadline in ("met", "missed"):
        if flt.channel == "phone":
            met = sa.and_(
                C.c.wait_seconds.is_not(None), C.c.wait_seconds <= org.service_level_seconds
            )
        else:
            met = sa.and_(worked.is_not(None), worked <= flt.deadline_days * DAY_SECONDS)
        conds.append(met if flt.deadline == "met" else sa.not_(met))
    if flt.rating is not None or flt.question:
        questions = [flt.question] if flt.question in QUESTIONS else list(QUESTIONS)
        scores = [C.c[f"{q}_score"] for q in questions]
        if flt.rating is not None:
            conds.append(sa.or_(*(score == flt.rating for score in scores)))
        else:
            conds.append(sa.or_(*(score.is_not(None) for score in scores)))
    base = sa.select(C.c.id).where(*conds)
    total = session.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    # How long an unanswered e-mail has waited, in working seconds: its deadline may still be open.
    waited: Any = sa.null()
    if flt.channel == "email":
        clock = _clock_now(session, org, utcnow())
        started = calsql.working_clock_of(C.c, C.c.start_date, C.c.start_local_seconds)
        waited = sa.case((C.c.answered_at.is_(None), sa.literal(clock) - started))
    rows = session.execute(
        sa.select(
            C.c.id,
            C.c.contact_id,
            C.c.queue_id,
            C.c.agent,
            C.c.caller_hash,
            C.c.started_at,
            C.c.answered_at,
            C.c.wait_seconds,
            C.c.direct_answer,
            worked.label("worked"),
            waited.label("waited"),
            *(C.c[f"{q}_score"] for q in QUESTIONS),
        )
        .where(*conds)
        .order_by(C.c.started_at.desc(), C.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    names = queue_names(session, org)
    result = []
    for r in rows:
        deadline_met = None
        limit = flt.deadline_days * DAY_SECONDS
        if flt.channel == "phone":
            deadline_met = (
                r.wait_seconds is not None and r.wait_seconds <= org.service_level_seconds
            )
        elif r.worked is not None:
            deadline_met = r.worked <= limit
        elif r.answered_at is None:
            # Not within as the figure counts it today, but not missed while time is left.
            deadline_met = None if r.waited is not None and r.waited < limit else False
        result.append(
            {
                "id": r.id,
                "reference": pseudonym(r.contact_id),
                "queue": names.get(r.queue_id),
                "agent": r.agent,
                "caller": (r.caller_hash or "").split(":")[-1][:10] or None,
                "started_at": to_utc(r.started_at),
                "answered_at": to_utc(r.answered_at) if r.answered_at else None,
                "wait_seconds": r.wait_seconds,
                "direct_answer": r.direct_answer,
                "working_hours": (float(r.worked) / 3600) if r.worked is not None else None,
                "deadline_met": deadline_met,
                "deadline_open": deadline_met is None and r.answered_at is None,
                "grades": {
                    q: int(r._mapping[f"{q}_score"])
                    for q in QUESTIONS
                    if r._mapping[f"{q}_score"] is not None
                },
            }
        )
    return int(total), result


def pseudonym(contact_id: str) -> str:
    """A short stand-in for the provider's contact id (which may embed a number or address)."""
    import hashlib

    return hashlib.sha256(contact_id.encode()).hexdigest()[:10]


def agents(
    session: Session, org: Organisation, first: date, last: date, queue_ids: Any = None
) -> list[str]:
    """The agents who handled contacts in the period (for the drill-down filter)."""
    conds = [
        C.c.organisation_id == org.id,
        C.c.start_date >= first,
        C.c.start_date <= last,
        C.c.agent.is_not(None),
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(queue_ids)))
    return list(session.scalars(sa.select(C.c.agent).where(*conds).distinct().order_by(C.c.agent)))
