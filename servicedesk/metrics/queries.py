"""The figures of docs/metrics.md, computed by SQL aggregation on SQLite and PostgreSQL.

Every function takes an inclusive range of local dates (a day, a week, a month: see
``servicedesk.metrics.periods``), optional queue ids to restrict to, and ``by``:

- ``None``: one figures dict for the whole range;
- ``"queue"``: ``{queue_id: figures}`` (``None`` is the key of contacts without a queue);
- ``"day"``: ``{date: figures}``;
- ``"queue_day"``: ``{(queue_id, date): figures}``.

A group appears when it has a contact of either channel (a queue with e-mails only shows
``offered: 0`` for phone); survey results list groups with responses. Only aggregates and, for
percentiles, the values at the ranks they need leave the database; nothing loops over contacts
in Python. The functions only read (apart from ``ensure_calendar``, which may rebuild a stale
calendar and flushes, and per-transaction tuning of the connection: see ``_roomy_session``).

A month's figures are three index walks (see the indexes on ``Contact``): one pass over
``ix_contacts_rollup`` for every additive measure of both channels, one over the small
``ix_contacts_surveyed`` for the surveys (the fold copies the scores onto the contacts), and
the ordered reads of ``servicedesk.metrics.percentiles`` for medians and 90th percentiles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.calendars.service import ensure_calendar
from servicedesk.contacts.models import Contact, scored
from servicedesk.metrics.definitions import (
    CHANNELS,
    FILTER_QUESTION,
    HEADLINE,
    ONE_WORKING_DAY,
    QUESTIONS,
    TWO_WORKING_DAYS,
)
from servicedesk.metrics.percentiles import MEDIAN, P90, group_key, percentiles
from servicedesk.metrics.survey_stats import ScoreSums, filter_figure, question_figure
from servicedesk.orgs.models import Organisation, Queue

C = Contact.__table__  # type: ignore[attr-defined]

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


def _check(bys: Iterable[str | None]) -> list[str | None]:
    bys = list(bys)
    for by in bys:
        if by not in BY:
            raise ValueError(f"by must be one of {BY}")
    return bys


def _sort_key(key: Any) -> Any:
    """Groups in a stable order (None, a queue without name, first)."""
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((p is not None, p) for p in parts)


def _add(into: list[Any], values: Sequence[Any]) -> None:
    for i, v in enumerate(values):
        into[i] += v or 0


def _roll(cells: dict[tuple[Any, Any], Sequence[Any]], by: str | None, width: int) -> dict:
    """Sum the (queue, day) cells of additive measures into the groups ``by`` asks for."""
    out: dict[Any, list[Any]] = {}
    for (queue_id, day), values in cells.items():
        _add(out.setdefault(group_key(by, queue_id, day), [0] * width), values)
    return out


def _period(org: Organisation, start: date, end: date, queue_ids: list[int] | None) -> list:
    conds = [C.c.organisation_id == org.id, C.c.start_date >= start, C.c.start_date <= end]
    if queue_ids is not None:
        conds.append(C.c.queue_id.in_(queue_ids))
    return conds


def _ids(queue_ids: Iterable[int] | None) -> list[int] | None:
    return list(queue_ids) if queue_ids is not None else None


# ---------------------------------------------------------------------------------------------
# contacts: every additive measure, one pass per channel

#: The additive measures of a (queue, day) cell, in the order ``_contact_cells`` fills them.
MEASURES = (
    "phone_offered",
    "phone_answered",
    "phone_within",
    "phone_direct",
    "phone_wait_sum",
    "email_received",
    "email_answered",
    "email_within_1",
    "email_within_2",
    "events",
    "email_timed",
)
_EVENTS = MEASURES.index("events")
#: Where each channel's pass puts its sums, in the order ``_channel_sums`` reads them.
_PHONE_SLOTS = [
    MEASURES.index(name)
    for name in (
        "phone_offered",
        "phone_answered",
        "phone_within",
        "phone_direct",
        "phone_wait_sum",
    )
]
_EMAIL_SLOTS = [
    MEASURES.index(name)
    for name in (
        "email_received",
        "email_answered",
        "email_within_1",
        "email_within_2",
        "email_timed",
    )
]


def _count_if(cond: Any) -> Any:
    """How many rows meet ``cond`` (COUNT of a CASE without ELSE: the same on both engines)."""
    return sa.func.count(sa.case((cond, 1)))


def _channel_sums(org: Organisation, channel: str) -> tuple[list[int], list[Any]]:
    """The cell slots one channel's pass fills, and the aggregates it reads for them."""
    x = C.c.answer_seconds
    if channel == "phone":
        return _PHONE_SLOTS, [
            sa.func.count(),
            sa.func.count(x),
            _count_if(x <= org.service_level_seconds),
            _count_if(C.c.direct_answer),
            sa.func.sum(x),
        ]
    return _EMAIL_SLOTS, [
        sa.func.count(),
        sa.func.count(C.c.answered_local_date),
        _count_if(x <= ONE_WORKING_DAY),
        _count_if(x <= TWO_WORKING_DAYS),
        sa.func.count(x),
    ]


def _contact_cells(
    session: Session, org: Organisation, start: date, end: date, queue_ids: list[int] | None
) -> dict[tuple[Any, Any], list[Any]]:
    """Every additive measure per (queue, local day): one pass per channel over its rows.

    Read from ix_contacts_rollup alone and grouped in its order (channel, day, queue), so
    neither engine sorts or visits the table, and each pass computes only its channel's
    measures. "Within" is the phone wait within the service level, and the e-mail's working
    time within one and two working days.
    """
    cells: dict[tuple[Any, Any], list[Any]] = {}
    for channel in CHANNELS:
        slots, sums = _channel_sums(org, channel)
        stmt = (
            sa.select(C.c.start_date, C.c.queue_id, *sums, sa.func.sum(C.c.event_count))
            .where(*_period(org, start, end, queue_ids), C.c.channel == channel)
            .group_by(C.c.start_date, C.c.queue_id)
        )
        for day, queue_id, *values in session.execute(stmt):
            cell = cells.setdefault((queue_id, day), [0] * len(MEASURES))
            for slot, value in zip(slots, values[:-1], strict=True):
                cell[slot] = value or 0
            cell[_EVENTS] += values[-1] or 0
    return cells


# ---------------------------------------------------------------------------------------------
# phone


def empty_phone(org: Organisation) -> dict[str, Any]:
    """The phone figures of a period without calls."""
    return _phone_figures(org, [0] * len(MEASURES), [None, None])


def _phone_figures(org: Organisation, m: Sequence[Any], pcts: list[float | None]) -> dict:
    offered, answered, within, direct, wait_sum = (m[0], m[1], m[2], m[3], m[4])
    abandoned = offered - answered
    return {
        "offered": int(offered),
        "answered": int(answered),
        "abandoned": int(abandoned),
        "direct_answers": int(direct),
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
    return figures_by(session, org, start_date, end_date, [by], queue_ids, parts=("phone",))[by]


# ---------------------------------------------------------------------------------------------
# e-mail


def empty_email() -> dict[str, Any]:
    """The e-mail figures of a period without e-mails."""
    return _email_figures([0] * len(MEASURES), None)


def _email_figures(m: Sequence[Any], median_seconds: float | None) -> dict[str, Any]:
    received, answered, within1, within2 = m[5], m[6], m[7], m[8]
    return {
        "received": int(received),
        "answered": int(answered),
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
    return figures_by(session, org, start_date, end_date, [by], queue_ids, parts=("email",))[by]


# ---------------------------------------------------------------------------------------------
# surveys


def _survey_cells(
    session: Session, org: Organisation, start: date, end: date, queue_ids: list[int] | None
) -> tuple[dict, dict]:
    """Per (queue, day): {(question, channel): (responses, index sum, good, index square sum)}
    and {channel: answered contacts with a response}, from the scores the fold keeps on the
    contacts (ix_contacts_surveyed holds only the contacts that have one). The filter question
    is under (FILTER_QUESTION, channel) as (answered it, said yes, 0, 0)."""
    sums = []
    for q in QUESTIONS:
        score = C.c[f"{q}_score"]
        sums += [
            sa.func.count(score),
            sa.func.sum(score),
            _count_if(score >= 4),
            sa.func.sum(score * score),
        ]
    got = C.c.got_answer
    stmt = (
        sa.select(
            C.c.start_date,
            C.c.queue_id,
            C.c.channel,
            sa.func.count(C.c.answered_at),
            sa.func.count(got),
            _count_if(got.is_(True)),
            *sums,
        )
        .where(
            *_period(org, start, end, queue_ids),
            C.c.channel.in_(CHANNELS),
            scored(),  # the partial index's predicate, so that the planners use it
        )
        .group_by(C.c.start_date, C.c.queue_id, C.c.channel)
    )
    cells: dict[tuple[Any, Any], dict] = defaultdict(dict)
    responding: dict[tuple[Any, Any], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(CHANNELS, 0)
    )
    for day, queue_id, channel, n_answered, asked, yes, *values in session.execute(stmt):
        responding[(queue_id, day)][channel] = int(n_answered or 0)
        if asked:
            cells[(queue_id, day)][(FILTER_QUESTION, channel)] = (int(asked), int(yes or 0), 0, 0)
        for k, q in enumerate(QUESTIONS):
            n, total, good, squares = values[4 * k : 4 * k + 4]
            if n:
                n, total = int(n), int(total)
                # The sums of (score - 1) * 25 and of its square, in integers: the same on every
                # engine. Σ(25(s-1))² = 625 (Σs² - 2Σs + n).
                index_sum = 25 * (total - n)
                square_sum = 625 * (int(squares) - 2 * total + n)
                cells[(queue_id, day)][(q, channel)] = (n, index_sum, int(good or 0), square_sum)
    return cells, responding


def _question_figures(responses: int, index_sum: int, good: int, *_: int) -> dict[str, Any]:
    return {
        "responses": responses,
        "index": rounded(index_sum / responses) if responses else None,
        "good_share": rate(good, responses),
    }


def empty_survey() -> dict[str, Any]:
    """The survey figures of a period without responses."""
    return _survey_figures({})


def _survey_figures(cells: dict[tuple[str, str], Sequence[int]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for question in QUESTIONS:
        total = [0, 0, 0, 0]
        by_channel = {}
        for channel in CHANNELS:
            cell = tuple(cells.get((question, channel), (0, 0, 0, 0)))
            _add(total, cell)
            by_channel[channel] = _question_figures(*cell)
        out[question] = {**_question_figures(*total), "by_channel": by_channel}
    return out


def _sums(cell: Sequence[int]) -> ScoreSums:
    n, index_sum, good, squares = cell
    return ScoreSums(responses=n, index_sum=index_sum, index_square_sum=squares, good=good)


def headline_figures(
    cells: dict[tuple[str, str], Sequence[int]], response_rates: dict[str, float | None]
) -> dict[str, Any]:
    """SKR's four headline figures (index, good share, responses, response rate, 95 % interval,
    small-sample flag) and the e-mail filter question's yes-share, from a group's survey cells.

    ``response_rates`` is each channel's survey response rate (responding / answered contacts).
    The filter question appears for the e-mail channel, where SKR asks it, and for the phone
    channel when a sender posted it about calls (only then).
    """
    out: dict[str, Any] = {}
    for key, channel, question in HEADLINE:
        sums = _sums(cells.get((question, channel), (0, 0, 0, 0)))
        out[key] = {
            "channel": channel,
            "question": question,
            **question_figure(sums, response_rates.get(channel)),
        }
    for channel in CHANNELS:
        asked, yes, *_ = cells.get((FILTER_QUESTION, channel), (0, 0, 0, 0))
        if channel == "email" or asked:
            out[f"{channel}_{FILTER_QUESTION}"] = {"channel": channel, **filter_figure(asked, yes)}
    return out


def empty_headline() -> dict[str, Any]:
    """The headline survey figures of a period without responses."""
    return headline_figures({}, {})


def _roll_survey(cells: dict, by: str | None) -> dict[Any, dict[tuple[str, str], list[int]]]:
    out: dict[Any, dict[tuple[str, str], list[int]]] = defaultdict(dict)
    for (queue_id, day), cell in cells.items():
        group = out[group_key(by, queue_id, day)]
        for qc, values in cell.items():
            _add(group.setdefault(qc, [0, 0, 0, 0]), values)
    return out


def _roll_responding(cells: dict, by: str | None) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    for (queue_id, day), per_channel in cells.items():
        group = out[group_key(by, queue_id, day)]
        for channel, n in per_channel.items():
            group[channel] += n
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
    "email": {...}}}}`` for treatment, ease and clarity, or a dict of those keyed by group
    (groups with responses only). The index is the mean of (score - 1) * 25, summed as integers
    so both engines agree exactly.
    """
    cells, _ = _survey_cells(session, org, start_date, end_date, _ids(queue_ids))
    groups = {k: _survey_figures(v) for k, v in _roll_survey(cells, by).items()}
    return groups.get(None, empty_survey()) if by is None else groups


# ---------------------------------------------------------------------------------------------
# everything together


#: SQLite page cache (KiB) while figures are computed: the month's rows and the sorts of the
#: percentiles then stay in memory instead of going back to the OS page by page.
SQLITE_CACHE_KIB = 131_072
#: PostgreSQL sort memory for the percentile windows (per sort, this transaction only).
PG_WORK_MEM = "128MB"


@contextmanager
def _roomy_session(session: Session) -> Iterator[None]:
    """Give the figures' queries room on this connection for a while.

    SQLite: a large page cache and in-memory temporary B-trees, set back afterwards.
    PostgreSQL: more work_mem so the window sorts stay in memory, and no JIT (these queries
    run in a second; compiling them costs more than it saves), until the transaction ends.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
        session.execute(sa.text("SET LOCAL jit = off"))
        yield
        return
    if dialect != "sqlite":
        yield
        return
    conn = session.connection()
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
        conn.exec_driver_sql("PRAGMA temp_store = DEFAULT")


def figures_by(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    bys: Iterable[str | None] = (None,),
    queue_ids: Iterable[int] | None = None,
    parts: Sequence[str] = ("phone", "email", "survey"),
    counts: dict[str, int] | None = None,
) -> dict[str | None, Any]:
    """The figures for several groupings at once: one pass for the additive measures, one
    window query per percentile measure (all groupings together), one for surveys.

    Returns ``{by: result}`` where each result is what ``figures(..., by=by)`` returns (with
    only the sections named in ``parts``; with a single part, just that section's figures).
    A ``counts`` dict, when given, receives what the figures were made from (phone_contacts,
    email_contacts, events) out of the same pass.
    """
    with _roomy_session(session):
        ensure_calendar(session, org)
        ids = _ids(queue_ids)
        cells = _contact_cells(session, org, start_date, end_date, ids)
        if counts is not None:
            total = _roll(cells, None, len(MEASURES)).get(None, [0] * len(MEASURES))
            counts.update(
                phone_contacts=int(total[0]),
                email_contacts=int(total[5]),
                events=int(total[9]),
            )
        return _figures_by(session, org, start_date, end_date, _check(bys), ids, parts, cells)


def _sizes(cells: dict, bys: list[str | None], slot: int) -> dict[str | None, dict[Any, int]]:
    """How many values each group's percentiles are of, per grouping, from the cells."""
    sizes: dict[str | None, dict[Any, int]] = {}
    for by in bys:
        groups: dict[Any, int] = defaultdict(int)
        for (queue_id, day), m in cells.items():
            groups[group_key(by, queue_id, day)] += int(m[slot] or 0)
        sizes[by] = dict(groups)
    return sizes


def _figures_by(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    bys: list[str | None],
    ids: list[int] | None,
    parts: Sequence[str],
    cells: dict[tuple[Any, Any], tuple[Any, ...]],
) -> dict[str | None, Any]:
    waits = medians = None
    if "phone" in parts:
        sizes = _sizes(cells, bys, MEASURES.index("phone_answered"))
        waits = percentiles(session, org, "phone", start_date, end_date, ids, sizes, [MEDIAN, P90])
    if "email" in parts:
        sizes = _sizes(cells, bys, MEASURES.index("email_timed"))
        medians = percentiles(session, org, "email", start_date, end_date, ids, sizes, [MEDIAN])
    survey_cells = responding_cells = None
    if "survey" in parts:
        survey_cells, responding_cells = _survey_cells(session, org, start_date, end_date, ids)
    result: dict[str | None, Any] = {}
    for by in bys:
        sums = _roll(cells, by, len(MEASURES))
        if by is None:
            sums.setdefault(None, [0] * len(MEASURES))
        sections: dict[Any, dict[str, Any]] = {}
        for key in sorted(sums, key=_sort_key):
            m = sums[key]
            out: dict[str, Any] = {}
            if waits is not None:
                out["phone"] = _phone_figures(org, m, waits[by].get(key, [None, None]))
            if medians is not None:
                out["email"] = _email_figures(m, medians[by].get(key, [None])[0])
            sections[key] = out
        if survey_cells is not None and responding_cells is not None:
            surveys = _roll_survey(survey_cells, by)
            responding = _roll_responding(responding_cells, by)
            for key, out in sections.items():
                out["survey"] = _survey_figures(surveys.get(key, {}))
                r = responding.get(key, dict.fromkeys(CHANNELS, 0))
                rates: dict[str, float | None] = {}
                for channel in CHANNELS:
                    if channel in out:
                        answered = out[channel]["answered"]
                        rates[channel] = rate(r[channel], answered)
                        out[channel]["survey_response_rate"] = rates[channel]
                out["survey_headline"] = headline_figures(surveys.get(key, {}), rates)
        if len(parts) == 1:
            sections = {k: v[parts[0]] for k, v in sections.items()}
        result[by] = sections[None] if by is None else sections
    return result


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
    contact; its other channel has the empty figures). For several groupings of one period
    use ``figures_by``, which reads the rows once.
    """
    return figures_by(session, org, start_date, end_date, [by], queue_ids)[by]


def queue_names(session: Session, org: Organisation) -> dict[int, str]:
    """The organisation's queues by id."""
    rows = session.execute(
        sa.select(Queue.id, Queue.name).where(Queue.organisation_id == org.id)  # type: ignore[arg-type]
    )
    return {int(qid): name for qid, name in rows}
