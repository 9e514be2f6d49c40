"""The figures of docs/metrics.md for any period, grouping and scope, assembled per channel.

Every function takes an inclusive range of local dates (a day, a week, a month: see
``servicedesk.metrics.periods``), optional queue ids to restrict to, and ``by``:

- ``None``: one figures dict for the whole range;
- ``"queue"``: ``{queue_id: figures}`` (``None`` is the key of contacts without a queue);
- ``"day"``: ``{date: figures}``;
- ``"queue_day"``: ``{(queue_id, date): figures}``.

A group appears when it has a contact of either channel (a queue with e-mails only shows
``offered: 0`` for phone); survey figures alone list the groups with responses. Only aggregates
and, for percentiles, the values at the ranks they need leave the database; nothing loops over
contacts in Python. The functions only read (apart from per-transaction tuning of the
connection: see ``roomy_session``).

A month's figures are three index walks (see the indexes on ``Contact``): the additive pass of
``cells`` over ``ix_contacts_rollup``, one pass of ``surveys`` over the small
``ix_contacts_surveyed``, and the ordered reads of ``percentiles`` for medians and 90th
percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from servicedesk.metrics.arithmetic import rate
from servicedesk.metrics.cells import (
    CHANNEL_FIGURES,
    Cell,
    Cells,
    contact_cells,
    roll,
    timed_counts,
)
from servicedesk.metrics.definitions import CHANNELS
from servicedesk.metrics.email import empty_email
from servicedesk.metrics.groups import check_bys, id_list, sort_key
from servicedesk.metrics.percentiles import percentiles
from servicedesk.metrics.phone import empty_phone
from servicedesk.metrics.surveys import (
    SurveyCells,
    empty_headline,
    empty_survey,
    headline_section,
    roll_filters,
    roll_responding,
    roll_scores,
    survey_cells,
    survey_section,
)
from servicedesk.orgs.models import Organisation, Queue

#: The sections of a figures dict, in the report's order.
PARTS = ("phone", "email", "survey")

#: SQLite page cache (KiB) while figures are computed: the month's rows and the sorts of the
#: percentiles then stay in memory instead of going back to the OS page by page.
SQLITE_CACHE_KIB = 131_072
#: PostgreSQL sort memory for the percentile windows (per sort, this transaction only).
PG_WORK_MEM = "128MB"

#: {grouping: {group: [value per percentile]}} of one channel.
Times = dict[str | None, dict[Any, list[float | None]]]


@contextmanager
def roomy_session(session: Session) -> Iterator[None]:
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
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or 0)}")
        conn.exec_driver_sql("PRAGMA temp_store = DEFAULT")


def figures_by(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    bys: Iterable[str | None] = (None,),
    queue_ids: Iterable[int] | None = None,
    parts: Sequence[str] = PARTS,
    counts: dict[str, int] | None = None,
) -> dict[str | None, Any]:
    """The figures for several groupings at once: one additive pass, one read per percentile
    measure (all groupings together), one pass for surveys.

    Returns ``{by: result}`` where each result is what ``figures(..., by=by)`` returns (with
    only the sections named in ``parts``; with a single part, just that section's figures).
    A ``counts`` dict, when given, receives what the figures were made from (phone_contacts,
    email_contacts, events) out of the same pass.
    """
    groupings = check_bys(bys)
    ids = id_list(queue_ids)
    channels = [c for c in CHANNEL_FIGURES if c.name in parts]
    cells: Cells = {}
    times: dict[str, Times] = {}
    surveys = None
    with roomy_session(session):
        if channels or counts is not None:
            cells = contact_cells(session, org, start_date, end_date, ids)
        if counts is not None:
            total = roll(cells, None).get(None, Cell())
            counts.update(
                phone_contacts=int(total.phone.offered),
                email_contacts=int(total.email.received),
                events=total.events,
            )
        for channel in channels:
            sizes = timed_counts(cells, groupings, channel)
            times[channel.name] = percentiles(
                session, org, channel.name, start_date, end_date, ids, sizes, channel.percentiles
            )
        if "survey" in parts:
            surveys = survey_cells(session, org, start_date, end_date, ids)
    result: dict[str | None, Any] = {}
    for by in groupings:
        sections = _channel_sections(org, by, cells, times) if channels else None
        if surveys is not None:
            sections = _with_surveys(sections, by, surveys)
        assert sections is not None, "parts names no section"
        if len(parts) == 1:
            sections = {key: out[parts[0]] for key, out in sections.items()}
        result[by] = sections[None] if by is None else sections
    return result


def _channel_sections(
    org: Organisation, by: str | None, cells: Cells, times: dict[str, Times]
) -> dict[Any, dict[str, Any]]:
    """Each group's phone and e-mail figures (the channels in ``times``)."""
    sums = roll(cells, by)
    if by is None:
        sums.setdefault(None, Cell())
    sections: dict[Any, dict[str, Any]] = {}
    for key in sorted(sums, key=sort_key):
        sections[key] = {
            channel.name: channel.section(
                org,
                sums[key].of(channel.name),
                times[channel.name][by].get(key, [None] * len(channel.percentiles)),
            )
            for channel in CHANNEL_FIGURES
            if channel.name in times
        }
    return sections


def _with_surveys(
    sections: dict[Any, dict[str, Any]] | None, by: str | None, surveys: SurveyCells
) -> dict[Any, dict[str, Any]]:
    """The groups' survey figures added, and each channel's survey response rate.

    Without channel sections, the groups are those with responses (and the whole range).
    """
    scores = roll_scores(surveys.scores, by)
    if sections is None:
        keys = sorted(set(scores) | ({None} if by is None else set()), key=sort_key)
        sections = {key: {} for key in keys}
    responding = roll_responding(surveys.responding, by)
    filters = roll_filters(surveys.filters, by)
    for key, out in sections.items():
        out["survey"] = survey_section(scores.get(key, {}))
        per_channel = responding.get(key, dict.fromkeys(CHANNELS, 0))
        rates: dict[str, float | None] = {}
        for channel in CHANNELS:
            if channel in out:
                rates[channel] = rate(per_channel[channel], out[channel]["answered"])
                out[channel]["survey_response_rate"] = rates[channel]
        out["survey_headline"] = headline_section(scores.get(key, {}), filters.get(key, {}), rates)
    return sections


def figures(
    session: Session,
    org: Organisation,
    start_date: date,
    end_date: date,
    queue_ids: Iterable[int] | None = None,
    by: str | None = None,
    parts: Sequence[str] = PARTS,
) -> Any:
    """Phone, e-mail and survey figures together, as the report JSON shapes them.

    Returns ``{"phone": {... "survey_response_rate"}, "email": {... "survey_response_rate"},
    "survey": {...}}``, or a dict of those keyed by group (a group appears when it has any
    contact; its other channel has the empty figures). With one of ``parts``, that section's
    figures alone. For several groupings of one period use ``figures_by``, which reads the
    rows once.
    """
    return figures_by(session, org, start_date, end_date, [by], queue_ids, parts)[by]


#: One section's figures alone (``figures`` with one part): ``{"offered", "answered",
#: "abandoned", "direct_answers", "direct_answer_rate", "abandon_rate", "service_level",
#: "service_level_seconds", "wait_seconds": {"mean", "median", "p90"}}`` for the phone;
#: ``{"received", "answered", "within_1_working_day", "within_2_working_days",
#: "median_working_hours"}`` for e-mail; ``{question: {"responses", "index", "good_share",
#: "by_channel": {...}}}`` for the surveys. Rates in % or None.
phone_figures = partial(figures, parts=("phone",))
email_figures = partial(figures, parts=("email",))
survey_figures = partial(figures, parts=("survey",))


def empty_figures(org: Organisation) -> dict[str, Any]:
    """The figures of a period without contacts, in the shape ``figures`` returns."""
    return {
        "phone": {**empty_phone(org), "survey_response_rate": None},
        "email": {**empty_email(), "survey_response_rate": None},
        "survey": empty_survey(),
        "survey_headline": empty_headline(),
    }


def queue_names(session: Session, org: Organisation) -> dict[int, str]:
    """The organisation's queues by id."""
    rows = session.execute(
        sa.select(col(Queue.id), col(Queue.name)).where(col(Queue.organisation_id) == org.id)
    )
    return {int(qid): name for qid, name in rows}
