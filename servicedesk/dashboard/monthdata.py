"""The figures the Month and Today pages show, from frozen reports or the metrics functions.

Nothing here computes a KKiK figure: an organisation-wide month comes from its latest frozen
report when there is one (what quality staff sign off), else from
``servicedesk.metrics.queries.figures`` / ``servicedesk.reports.service.month_figures``; a team
leader limited to some queues gets the same functions with their queue ids. Live results are
kept for a short while in the shared cache (``servicedesk.cache``), so that many open dashboards
cost one computation, whichever worker they reach; a change to the organisation's data drops
them (``forget_org_after_commit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from servicedesk.cache import org_key, remember
from servicedesk.metrics.coverage import coverage
from servicedesk.metrics.coverage import first_contact_date as first_contact
from servicedesk.metrics.periods import Month
from servicedesk.metrics.queries import empty_figures, figures, queue_names
from servicedesk.orgs.models import Organisation
from servicedesk.reports.models import Report
from servicedesk.reports.service import month_figures

#: Seconds a live computation is reused: the running month changes by the minute, older months
#: only through late events (and get a frozen report on the 3rd working day).
LIVE_TTL = 30
PAST_TTL = 300
TREND_MONTHS = 13
#: The sections of a report the pages read (a report made before 2026.3 has no survey_headline).
SECTIONS = ("phone", "email", "survey", "survey_headline")


def _ttl(month: Month, today: date) -> int:
    return LIVE_TTL if month >= Month.of(today) else PAST_TTL


def _key(kind: str, org: Organisation, *parts: Any) -> str:
    return org_key(org.id, kind, *parts)


@dataclass
class MonthFigures:
    month: Month
    #: {"phone": ..., "email": ..., "survey": ..., "survey_headline": ...} (report JSON shapes)
    total: dict[str, Any]
    #: [(queue name, figures)] sorted by name
    queues: list[tuple[str, dict[str, Any]]]
    #: The frozen report they come from, or None when computed now.
    report: Report | None = None
    #: Which days the data covers (``metrics.coverage.coverage``), or None when unknown.
    coverage: dict[str, Any] | None = None

    @property
    def partial(self) -> bool:
        return bool(self.coverage and self.coverage.get("partial"))


def latest_reports(session: Session, org: Organisation, months: list[Month]) -> dict[str, Report]:
    """The newest version of each month's report (one query)."""
    wanted = [str(m) for m in months]
    newest = (
        sa.select(col(Report.month), sa.func.max(col(Report.version)).label("v"))
        .where(col(Report.organisation_id) == org.id, col(Report.month).in_(wanted))
        .group_by(col(Report.month))
        .subquery()
    )
    rows = session.scalars(
        sa.select(Report).join(
            newest,
            sa.and_(
                col(Report.organisation_id) == org.id,
                col(Report.month) == newest.c.month,
                col(Report.version) == newest.c.v,
            ),
        )
    )
    return {r.month: r for r in rows}


def sections_of(doc: dict[str, Any] | None) -> dict[str, Any]:
    """The figure sections of a report document (or of its previous_month / year_before)."""
    doc = doc or {}
    return {k: doc.get(k) or {} for k in SECTIONS}


def _from_report(month: Month, report: Report) -> MonthFigures:
    doc = report.document
    total = sections_of(doc)
    queues = sorted(doc.get("queues", {}).items())
    return MonthFigures(month, total, queues, report)


def first_contact_date(session: Session, org: Organisation) -> date | None:
    """The local date of the organisation's first contact (an index lookup, kept 5 minutes)."""
    return remember(org_key(org.id, "first"), PAST_TTL, lambda: first_contact(session, org))


def month_figures_for(
    session: Session,
    org: Organisation,
    month: Month,
    queue_ids: list[int] | None,
    today: date,
    report: Report | None = None,
    with_queues: bool = True,
) -> MonthFigures:
    """One month's figures for the user's scope (frozen when possible), with their coverage."""
    first = first_contact_date(session, org)
    found = _month_figures(session, org, month, queue_ids, today, report, with_queues, first)
    found.coverage = coverage(month, first, today)
    return found


def _month_figures(
    session: Session,
    org: Organisation,
    month: Month,
    queue_ids: list[int] | None,
    today: date,
    report: Report | None,
    with_queues: bool,
    first: date | None,
) -> MonthFigures:
    if queue_ids is None and report is not None:
        return _from_report(month, report)
    if first is None or month.last < first:
        # Nothing can have happened yet: no query (the metrics scan even an empty month).
        return MonthFigures(month, empty_figures(org), [])
    scope = tuple(queue_ids) if queue_ids is not None else None
    ttl = _ttl(month, today)
    if queue_ids is None and with_queues:
        doc = remember(
            _key("month", org, str(month)),
            ttl,
            lambda: month_figures(session, org, month, days=False),
        )
        return MonthFigures(month, sections_of(doc), sorted(doc["queues"].items()))
    total = remember(
        _key("total", org, str(month), scope),
        ttl,
        lambda: figures(session, org, month.first, month.last, queue_ids),
    )
    queues: list[tuple[str, dict[str, Any]]] = []
    if with_queues:
        names = queue_names(session, org)
        per_queue = remember(
            _key("queues", org, str(month), scope),
            ttl,
            lambda: figures(session, org, month.first, month.last, queue_ids, by="queue"),
        )
        queues = sorted((names.get(q, "–"), f) for q, f in per_queue.items() if q is not None)
    return MonthFigures(month, total, queues)


def trend(
    session: Session,
    org: Organisation,
    month: Month,
    queue_ids: list[int] | None,
    today: date,
    months: int = TREND_MONTHS,
) -> list[MonthFigures]:
    """The figures of the ``months`` months up to ``month``, oldest first."""
    series = [month]
    while len(series) < months:
        series.insert(0, series[0].previous())
    reports = latest_reports(session, org, series) if queue_ids is None else {}
    # The chosen month comes with its queues (the page shows them): one computation serves both.
    return [
        month_figures_for(session, org, m, queue_ids, today, reports.get(str(m)), m == month)
        for m in series
    ]


def day_figures(
    session: Session, org: Organisation, day: date, queue_ids: list[int] | None
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Today's figures, in total and by queue (reused for a few seconds across dashboards)."""
    scope = tuple(queue_ids) if queue_ids is not None else None
    names = queue_names(session, org)

    def compute() -> tuple[dict[str, Any], dict[Any, Any]]:
        return (
            figures(session, org, day, day, queue_ids),
            figures(session, org, day, day, queue_ids, by="queue"),
        )

    total, per_queue = remember(_key("day", org, day.isoformat(), scope), 10, compute)
    queues = sorted((names.get(q, "–"), f) for q, f in per_queue.items() if q is not None)
    return total, queues


def dig(figs: dict[str, Any] | None, path: str) -> Any:
    """A figure by its dotted path ("phone.wait_seconds.median"), None when absent."""
    value: Any = figs
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
