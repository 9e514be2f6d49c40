"""A period's figures beside the period before and the same period a year before.

Any period (``servicedesk.metrics.periods.Period``: a day, an ISO week, a month, a quarter, a
year, the year to date, a chosen range) is an inclusive range of local dates in the
organisation's time zone, so its figures are the very functions the monthly report uses
(``figures_by``), over other dates: the same definitions, computed in the database. The phone
section gets the handle time (``handling``), which the frozen report does not carry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from servicedesk.metrics.cells import Cells, contact_cells, roll
from servicedesk.metrics.figures import figures_by, queue_names, roomy_session
from servicedesk.metrics.groups import id_list
from servicedesk.metrics.handling import empty_handle, handle_times_by
from servicedesk.metrics.periods import Period
from servicedesk.metrics.stored_periods import stored_cells, stored_figures_by, worth_storing
from servicedesk.orgs.models import Organisation


@dataclass
class PeriodFigures:
    """One period's figures (report JSON shapes, plus ``phone.handle_seconds``)."""

    period: Period
    #: {"phone": ..., "email": ..., "survey": ..., "survey_headline": ...}
    total: dict[str, Any]
    #: [(queue name, figures)] sorted by name; empty when not asked for.
    queues: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def with_handle(figs: dict[str, Any], handle: dict[str, Any]) -> dict[str, Any]:
    """A copy of the figures with the handle time in the phone section."""
    return {**figs, "phone": {**figs["phone"], "handle_seconds": handle}}


def period_figures(
    session: Session,
    org: Organisation,
    period: Period,
    queue_ids: Iterable[int] | None = None,
    with_queues: bool = True,
    build: bool = False,
) -> PeriodFigures:
    """The period's figures, in total and (``with_queues``) per queue. Closed months with
    stored aggregates are read from those; ``build`` builds and stores the missing ones (a
    session with nothing uncommitted only: the pages', see ``month_store.months_data``)."""
    ids = id_list(queue_ids)
    bys: list[str | None] = [None, "queue"] if with_queues else [None]
    if worth_storing(org, period.first, period.last):
        # Closed months from their stored aggregates, the rest from the contacts: the same
        # figures (servicedesk/metrics/stored_periods.py).
        groups, handles = stored_figures_by(
            session, org, period.first, period.last, bys, ids, build
        )
    else:
        groups = figures_by(session, org, period.first, period.last, bys, ids)
        handles = handle_times_by(session, org, period.first, period.last, ids, bys)
    total = with_handle(groups[None], handles[None])
    queues: list[tuple[str, dict[str, Any]]] = []
    if with_queues:
        names = queue_names(session, org)
        per_queue_handle = handles["queue"]
        queues = sorted(
            (names.get(qid, "–"), with_handle(figs, per_queue_handle.get(qid, empty_handle())))
            for qid, figs in groups["queue"].items()
            if qid is not None
        )
    return PeriodFigures(period, total, queues)


def compared(
    session: Session,
    org: Organisation,
    period: Period,
    queue_ids: Iterable[int] | None = None,
    build: bool = False,
) -> tuple[PeriodFigures, PeriodFigures, PeriodFigures]:
    """The period (with its queues), the period before and the same period a year before."""
    ids = id_list(queue_ids)
    return (
        period_figures(session, org, period, ids, build=build),
        period_figures(session, org, period.previous(), ids, with_queues=False, build=build),
        period_figures(session, org, period.year_before(), ids, with_queues=False, build=build),
    )


#: The additive counts of one day: calls offered, answered, answered within the service level,
#: answered directly; e-mails received and answered within 1 and 2 working days.
DAY_COUNTS = ("offered", "answered", "within", "direct", "received", "within_1", "within_2")


def daily_counts(
    session: Session,
    org: Organisation,
    first: date,
    last: date,
    queue_ids: Iterable[int] | None = None,
    build: bool = False,
) -> dict[date, dict[str, int]]:
    """Each day's additive counts (``DAY_COUNTS``), for the charts over a period: one pass over
    the rollup index (the closed months' cells from their aggregates), no percentiles."""
    ids = id_list(queue_ids)
    if worth_storing(org, first, last):
        cells = stored_cells(session, org, first, last, ids, build)
    else:
        with roomy_session(session):
            cells = contact_cells(session, org, first, last, ids)
    return day_counts(cells)


def day_counts(cells: Cells) -> dict[date, dict[str, int]]:
    """Each day's additive counts (``DAY_COUNTS``) of (queue, day) cells."""
    out: dict[date, dict[str, int]] = {}
    for day, cell in roll(cells, "day").items():
        p, e = cell.phone, cell.email
        out[day] = {
            "offered": int(p.offered),
            "answered": int(p.answered),
            "within": int(p.within),
            "direct": int(p.direct),
            "received": int(e.received),
            "within_1": int(e.within_1),
            "within_2": int(e.within_2),
        }
    return out
