"""The figures of docs/metrics.md, computed by SQL aggregation on SQLite and PostgreSQL.

Every function takes an inclusive range of local dates (a day, a week, a month: see
``servicedesk.metrics.periods``), optional queue ids to restrict to, and ``by``:

- ``None``: one figures dict for the whole range;
- ``"queue"``: ``{queue_id: figures}`` (``None`` is the key of contacts without a queue);
- ``"day"``: ``{date: figures}``;
- ``"queue_day"``: ``{(queue_id, date): figures}``.

Groups without any contact are absent. Only aggregates and, for percentiles, the two rows around
each position leave the database; nothing loops over contacts in Python. The functions only read
(apart from ``ensure_calendar``, which may rebuild a stale calendar and flushes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.calendars import sql as calsql
from servicedesk.calendars.service import ensure_calendar
from servicedesk.contacts.models import Contact, SurveyResponse
from servicedesk.metrics.definitions import (
    CHANNELS,
    ONE_WORKING_DAY,
    QUESTIONS,
    TWO_WORKING_DAYS,
)
from servicedesk.orgs.models import Organisation, Queue

C = Contact.__table__  # type: ignore[attr-defined]
SR = SurveyResponse.__table__  # type: ignore[attr-defined]

#: Percentile positions as exact fractions (integer arithmetic in SQL, same on both engines).
MEDIAN = (1, 2)
P90 = (9, 10)

BY = (None, "queue", "day", "queue_day")


# ---------------------------------------------------------------------------------------------
# helpers


def rounded(value: float | None, places: int = 2) -> float | None:
    """Round half away from zero on the decimal value (the same on every engine and platform)."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def rate(part: int | float, whole: int | float) -> float | None:
    """A percentage, null when there is nothing to divide by."""
    return rounded(100.0 * part / whole) if whole else None


def _group_cols(by: str | None, table: Any = C) -> list[Any]:
    if by not in BY:
        raise ValueError(f"by must be one of {BY}")
    return {
        None: [],
        "queue": [table.c.queue_id],
        "day": [table.c.start_date],
        "queue_day": [table.c.queue_id, table.c.start_date],
    }[by]


def _key(by: str | None, values: Sequence[Any]) -> Any:
    if by is None:
        return None
    if by == "queue_day":
        return (values[0], values[1])
    return values[0]


def _where(
    org: Organisation, channel: str, start: date, end: date, queue_ids: Iterable[int] | None
) -> list[Any]:
    conds = [
        C.c.organisation_id == org.id,
        C.c.channel == channel,
        C.c.start_date >= start,
        C.c.start_date <= end,
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(list(queue_ids)))
    return conds


def _result(by: str | None, groups: dict[Any, dict[str, Any]], empty: dict[str, Any]) -> Any:
    if by is None:
        return groups.get(None, empty)
    return groups


def _interpolate(points: dict[int, float], n: int, fraction: tuple[int, int]) -> float | None:
    """Linear interpolation between closest ranks (percentile_cont) from the two rows fetched."""
    if n == 0:
        return None
    num, den = fraction
    lo, rest = divmod((n - 1) * num, den)
    low = points[lo]
    if rest == 0:
        return low
    return low + (points[lo + 1] - low) * rest / den


def _percentiles(
    session: Session,
    base: sa.Select[Any],
    ngroups: int,
    fractions: Sequence[tuple[int, int]],
) -> dict[tuple[Any, ...], list[float | None]]:
    """Percentiles of ``base``'s last column per group of its first ``ngroups`` columns.

    ``ROW_NUMBER`` and ``COUNT`` window functions rank the values inside the database; only the
    rows at the ranks each percentile needs are fetched.
    """
    v = base.subquery("v")
    cols = list(v.c)
    gcols, x = cols[:ngroups], cols[ngroups]
    over = {"partition_by": gcols} if gcols else {}
    ranked = sa.select(
        *gcols,
        x.label("x"),
        (sa.func.row_number().over(order_by=x, **over) - 1).label("rn"),
        sa.func.count().over(**over).label("n"),
    ).subquery("r")
    wanted = []
    for num, den in fractions:
        # Integer division of integers ("/" on both engines); ranks lo and lo + 1.
        lo = ((ranked.c.n - 1) * num).op("/")(den)
        wanted += [ranked.c.rn == lo, ranked.c.rn == lo + 1]
    rgcols = list(ranked.c)[:ngroups]
    rows = session.execute(
        sa.select(*rgcols, ranked.c.n, ranked.c.rn, ranked.c.x).where(sa.or_(*wanted))
    ).all()
    points: dict[tuple[Any, ...], dict[int, float]] = defaultdict(dict)
    counts: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row[:ngroups])
        counts[key] = row[ngroups]
        points[key][row[ngroups + 1]] = float(row[ngroups + 2])
    return {key: [_interpolate(points[key], counts[key], f) for f in fractions] for key in counts}


# ---------------------------------------------------------------------------------------------
# phone


def empty_phone(org: Organisation) -> dict[str, Any]:
    """The phone figures of a period without calls."""
    return _phone_figures(org, 0, 0, 0, 0, 0.0, [None, None])


def _phone_figures(
    org: Organisation,
    offered: int,
    answered: int,
    within: int,
    direct: int,
    wait_sum: float,
    pcts: list[float | None],
) -> dict[str, Any]:
    abandoned = offered - answered
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "direct_answers": direct,
        "direct_answer_rate": rate(direct, offered),
        "abandon_rate": rate(abandoned, offered),
        "service_level": rate(within, offered),
        "service_level_seconds": org.service_level_seconds,
        "wait_seconds": {
            "mean": rounded(wait_sum / answered) if answered else None,
            "median": rounded(pcts[0]),
            "p90": rounded(pcts[1]),
        },
    }


def phone_figures(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
) -> Any:
    """Phone figures (offered, answered, rates, wait mean/median/p90) of calls started in
    ``start_date``..``end_date`` (local dates, inclusive), grouped as ``by`` says.

    Returns ``{"offered", "answered", "abandoned", "direct_answers", "direct_answer_rate",
    "abandon_rate", "service_level", "service_level_seconds", "wait_seconds": {"mean", "median",
    "p90"}}`` (rates in % or None), or a dict of those keyed by group.
    """
    queue_ids = list(queue_ids) if queue_ids is not None else None
    gcols = _group_cols(by)
    answered = C.c.answered_at.is_not(None)
    within = sa.and_(answered, C.c.wait_seconds <= org.service_level_seconds)
    stmt = (
        sa.select(
            *gcols,
            sa.func.count(),
            sa.func.count(C.c.answered_at),
            sa.func.sum(sa.case((within, 1), else_=0)),
            sa.func.sum(sa.case((C.c.direct_answer.is_(True), 1), else_=0)),
            sa.func.sum(sa.case((answered, C.c.wait_seconds), else_=0.0)),
        )
        .where(*_where(org, "phone", start_date, end_date, queue_ids))
        .group_by(*gcols)
    )
    aggregates = {tuple(row[: len(gcols)]): row[len(gcols) :] for row in session.execute(stmt)}
    waits = sa.select(*gcols, C.c.wait_seconds).where(
        *_where(org, "phone", start_date, end_date, queue_ids), answered
    )
    pcts = _percentiles(session, waits, len(gcols), [MEDIAN, P90])
    groups = {
        _key(by, key): _phone_figures(
            org,
            int(offered),
            int(n_answered),
            int(within_n or 0),
            int(direct or 0),
            float(wait_sum or 0.0),
            pcts.get(key, [None, None]),
        )
        for key, (offered, n_answered, within_n, direct, wait_sum) in aggregates.items()
    }
    return _result(by, groups, empty_phone(org))


# ---------------------------------------------------------------------------------------------
# e-mail


def empty_email() -> dict[str, Any]:
    """The e-mail figures of a period without e-mails."""
    return _email_figures(0, 0, 0, 0, None)


def _email_figures(
    received: int, answered: int, within1: int, within2: int, median_seconds: float | None
) -> dict[str, Any]:
    return {
        "received": received,
        "answered": answered,
        "within_1_working_day": rate(within1, received),
        "within_2_working_days": rate(within2, received),
        "median_working_hours": rounded(median_seconds / 3600)
        if median_seconds is not None
        else None,
    }


def email_figures(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
) -> Any:
    """E-mail figures (received, answered, within 1 / 2 working days, median working hours)
    of e-mails received in ``start_date``..``end_date`` (local dates, inclusive).

    Returns ``{"received", "answered", "within_1_working_day", "within_2_working_days",
    "median_working_hours"}`` (rates in % or None), or a dict of those keyed by group.
    """
    queue_ids = list(queue_ids) if queue_ids is not None else None
    ensure_calendar(session, org)
    gcols = _group_cols(by)
    cs, ca = calsql.calendar_alias("cal_start"), calsql.calendar_alias("cal_answer")
    worked = calsql.email_working_seconds(C.c, cs, ca)
    where = _where(org, "email", start_date, end_date, queue_ids)
    stmt = calsql.join_calendars(
        sa.select(
            *gcols,
            sa.func.count(),
            sa.func.count(C.c.answered_at),
            sa.func.sum(sa.case((worked <= ONE_WORKING_DAY, 1), else_=0)),
            sa.func.sum(sa.case((worked <= TWO_WORKING_DAYS, 1), else_=0)),
        ).select_from(C),
        C.c,
        cs,
        ca,
    )
    stmt = stmt.where(*where).group_by(*gcols)
    aggregates = {tuple(row[: len(gcols)]): row[len(gcols) :] for row in session.execute(stmt)}
    times = calsql.join_calendars(
        sa.select(*gcols, worked.label("worked")).select_from(C), C.c, cs, ca
    ).where(*where, C.c.answered_at.is_not(None), worked.is_not(None))
    medians = _percentiles(session, times, len(gcols), [MEDIAN])
    groups = {
        _key(by, key): _email_figures(
            int(received),
            int(answered),
            int(w1 or 0),
            int(w2 or 0),
            medians.get(key, [None])[0],
        )
        for key, (received, answered, w1, w2) in aggregates.items()
    }
    return _result(by, groups, empty_email())


# ---------------------------------------------------------------------------------------------
# surveys


def survey_join(org: Organisation, start: date, end: date, queue_ids: list[int] | None) -> Any:
    """Survey responses joined to their contact of the period (see docs/metrics.md, Surveys)."""
    other = C.alias("c_phone")
    phone_twin = sa.exists().where(
        other.c.organisation_id == C.c.organisation_id,
        other.c.channel == "phone",
        other.c.contact_id == C.c.contact_id,
    )
    matches = sa.or_(
        SR.c.channel == C.c.channel,
        sa.and_(SR.c.channel.is_(None), sa.or_(C.c.channel == "phone", ~phone_twin)),
    )
    conds = [
        C.c.organisation_id == org.id,
        C.c.start_date >= start,
        C.c.start_date <= end,
    ]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(queue_ids))
    join = C.join(
        SR,
        sa.and_(
            SR.c.organisation_id == C.c.organisation_id,
            SR.c.contact_id == C.c.contact_id,
            matches,
        ),
    )
    return join, conds


def _question_figures(responses: int, index_sum: int, good: int) -> dict[str, Any]:
    return {
        "responses": responses,
        "index": rounded(index_sum / responses) if responses else None,
        "good_share": rate(good, responses),
    }


def empty_survey() -> dict[str, Any]:
    """The survey figures of a period without responses."""
    return _survey_figures({})


def _survey_figures(cells: dict[tuple[str, str], tuple[int, int, int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for question in QUESTIONS:
        total = [0, 0, 0]
        by_channel = {}
        for channel in CHANNELS:
            cell = cells.get((question, channel), (0, 0, 0))
            total = [a + b for a, b in zip(total, cell, strict=True)]
            by_channel[channel] = _question_figures(*cell)
        out[question] = {**_question_figures(*total), "by_channel": by_channel}
    return out


def survey_figures(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
) -> Any:
    """Survey figures per question about contacts that started in the range.

    Returns ``{question: {"responses", "index", "good_share", "by_channel": {"phone": {...},
    "email": {...}}}}`` for treatment, ease and clarity, or a dict of those keyed by group.
    The index is the mean of (score - 1) * 25, summed as integers so both engines agree exactly.
    """
    queue_ids = list(queue_ids) if queue_ids is not None else None
    gcols = _group_cols(by)
    join, conds = survey_join(org, start_date, end_date, queue_ids)
    stmt = (
        sa.select(
            *gcols,
            SR.c.question,
            C.c.channel,
            sa.func.count(),
            sa.func.sum((SR.c.score - 1) * 25),
            sa.func.sum(sa.case((SR.c.score >= 4, 1), else_=0)),
        )
        .select_from(join)
        .where(*conds)
        .group_by(*gcols, SR.c.question, C.c.channel)
    )
    cells: dict[Any, dict[tuple[str, str], tuple[int, int, int]]] = defaultdict(dict)
    for row in session.execute(stmt):
        key = _key(by, row[: len(gcols)])
        question, channel, n, index_sum, good = row[len(gcols) :]
        cells[key][(question, channel)] = (int(n), int(index_sum or 0), int(good or 0))
    groups = {key: _survey_figures(value) for key, value in cells.items()}
    return _result(by, groups, empty_survey())


def responding_contacts(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
) -> Any:
    """How many answered contacts of each channel got at least one survey response.

    Returns ``{"phone": n, "email": n}``, or a dict of those keyed by group.
    """
    queue_ids = list(queue_ids) if queue_ids is not None else None
    gcols = _group_cols(by)
    join, conds = survey_join(org, start_date, end_date, queue_ids)
    stmt = (
        sa.select(*gcols, C.c.channel, sa.func.count(sa.distinct(C.c.id)))
        .select_from(join)
        .where(*conds, C.c.answered_at.is_not(None))
        .group_by(*gcols, C.c.channel)
    )
    groups: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    for row in session.execute(stmt):
        key = _key(by, row[: len(gcols)])
        channel, n = row[len(gcols) :]
        groups[key][channel] = int(n)
    return _result(by, dict(groups), dict.fromkeys(CHANNELS, 0))


# ---------------------------------------------------------------------------------------------
# everything together


def figures(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
) -> Any:
    """Phone, e-mail and survey figures together, as the report JSON shapes them.

    Returns ``{"phone": {... "survey_response_rate"}, "email": {... "survey_response_rate"},
    "survey": {...}}``, or a dict of those keyed by group (a group appears when it has any
    contact; its missing channels get the empty figures).
    """
    args = (session, org, start_date, end_date, queue_ids, by)
    phone, email, survey, responding = (
        phone_figures(*args),
        email_figures(*args),
        survey_figures(*args),
        responding_contacts(*args),
    )
    if by is None:
        return _assemble(phone, email, survey, responding)
    keys = set(phone) | set(email)
    return {
        key: _assemble(
            phone.get(key) or empty_phone(org),
            email.get(key) or empty_email(),
            survey.get(key) or empty_survey(),
            responding.get(key) or dict.fromkeys(CHANNELS, 0),
        )
        for key in sorted(keys, key=_sort_key)
    }


def _sort_key(key: Any) -> Any:
    """Groups in a stable order (None, a queue without name, first)."""
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((p is not None, p) for p in parts)


def _assemble(
    phone: dict[str, Any], email: dict[str, Any], survey: dict[str, Any], responding: dict[str, int]
) -> dict[str, Any]:
    return {
        "phone": {**phone, "survey_response_rate": rate(responding["phone"], phone["answered"])},
        "email": {**email, "survey_response_rate": rate(responding["email"], email["answered"])},
        "survey": survey,
    }


def queue_names(session: Session, org: Organisation) -> dict[int, str]:
    """The organisation's queues by id."""
    rows = session.execute(
        sa.select(Queue.id, Queue.name).where(Queue.organisation_id == org.id)  # type: ignore[arg-type]
    )
    return {int(qid): name for qid, name in rows}
