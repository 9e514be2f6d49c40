"""A comparison: for a period, every shared figure ranked among the participants that share it.

The participants are this installation's own organisations that share (read from their frozen
reports, the newest version of each month) and, on a hub, the members' participants (read from
their publications, the newest version of each month). Nothing but frozen report versions is
ever compared, and each figure keeps the versions and checksums it came from.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import has_app_context
from sqlmodel import Session, col

from servicedesk.benchmarking.figures import FIGURES, direction, extract, value_of
from servicedesk.benchmarking.models import (
    BenchmarkMember,
    BenchmarkParticipant,
    BenchmarkPublication,
)
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.ranking import MIN_PARTICIPANTS, Entry, Ranking, rank
from servicedesk.cache import cache
from servicedesk.metrics.periods import Month
from servicedesk.reports.models import TOTAL_SECTIONS, Report, totals_of

#: The parts of a report a shared figure can come from: the totals each report keeps apart.
_SECTIONS = TOTAL_SECTIONS
#: How long the sections read of a frozen version are kept (they never change; this bounds the
#: cache's size, not their correctness).
SECTION_SECONDS = 7 * 86_400


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One participant's shared figures of one month, from one frozen version."""

    participant: str
    month: str
    version: int
    sha256: str
    figures: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Comparison:
    period: Period
    rankings: list[Ranking]
    #: Everyone who shares any figure for the period.
    participants: int
    #: The code of the organisation the comparison is for (its rows are marked), or None.
    own: str | None
    #: code -> (label, group) of every participant in the comparison.
    labels: dict[str, tuple[str, str]]


def label_of(participant: BenchmarkParticipant) -> str:
    """The name the others see: its own, or "Kommun A" (the letter, for the pages to word)."""
    return f"#{participant.alias}" if participant.anonymous else participant.name


def sharing_participants(session: Session) -> list[BenchmarkParticipant]:
    """Everyone taking part now: own organisations that share, and the participants of members
    that are not revoked."""
    revoked = sa.select(col(BenchmarkMember.id)).where(col(BenchmarkMember.revoked_at).is_not(None))
    return list(
        session.scalars(
            sa.select(BenchmarkParticipant)
            .where(
                col(BenchmarkParticipant.sharing).is_(True),
                sa.or_(
                    col(BenchmarkParticipant.member_id).is_(None),
                    col(BenchmarkParticipant.member_id).not_in(revoked),
                ),
            )
            .order_by(col(BenchmarkParticipant.code))
        )
    )


def _newest(rows: Iterable[MonthFigures]) -> dict[tuple[str, str], MonthFigures]:
    out: dict[tuple[str, str], MonthFigures] = {}
    for row in rows:
        key = (row.participant, row.month)
        if key not in out or out[key].version < row.version:
            out[key] = row
    return out


def _sections(session: Session, rows: list[Any]) -> dict[int, dict[str, Any]]:
    """The three sections a shared figure comes from, of each report (by id).

    Frozen versions never change, so what was read of a month's reports is kept in the shared
    cache under a digest of their ids and checksums: a new version (or another participant)
    makes a new key for that month only, and an id a deleted report had cannot bring back old
    figures. One cache entry per month keeps the cache's writes to a dozen."""
    by_month: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_month[row.month].append(row)
    found: dict[int, dict[str, Any]] = {}
    keys = {
        month: "benchmark:sections:"
        + hashlib.sha256(
            ",".join(f"{r.id}:{r.sha256}" for r in sorted(group, key=lambda r: r.id)).encode()
        ).hexdigest()
        for month, group in by_month.items()
    }
    cached = cache.get_many(*keys.values()) if has_app_context() and keys else [None] * len(keys)
    missing: list[int] = []
    for (month, _key), value in zip(keys.items(), cached, strict=True):
        if value is None:
            missing += [r.id for r in by_month[month]]
        else:
            found |= value
    if missing:
        # The totals each report keeps apart (``Report.totals``, small); a row made without
        # them is read from its document, as its text parsed once here (an engine's JSON path
        # operators would parse the whole document again for every section asked for).
        fresh = {}
        whole: list[int] = []
        for rid, totals in session.execute(
            sa.select(col(Report.id), col(Report.totals)).where(col(Report.id).in_(missing))
        ):
            if totals is None:
                whole.append(rid)
            else:
                fresh[rid] = {s: totals.get(s) for s in _SECTIONS}
        if whole:
            for rid, text in session.execute(
                sa.select(col(Report.id), sa.cast(col(Report.document), sa.Text)).where(
                    col(Report.id).in_(whole)
                )
            ):
                fresh[rid] = totals_of(json.loads(text))
        found |= fresh
        if has_app_context():
            cache.set_many(
                {
                    key: {r.id: fresh[r.id] for r in by_month[month] if r.id in fresh}
                    for month, key in keys.items()
                    if all(r.id in fresh for r in by_month[month])
                },
                timeout=SECTION_SECONDS,
            )
    return found


def own_month_figures(
    session: Session, participants: list[BenchmarkParticipant], months: Iterable[Month]
) -> list[MonthFigures]:
    """The own organisations' shared figures from every frozen version of the months."""
    by_org = {p.organisation_id: p for p in participants if p.organisation_id is not None}
    if not by_org:
        return []
    rows = session.execute(
        sa.select(
            col(Report.id),
            col(Report.organisation_id),
            col(Report.month),
            col(Report.version),
            col(Report.sha256),
        ).where(
            col(Report.organisation_id).in_(list(by_org)),
            col(Report.month).in_([str(m) for m in months]),
        )
    ).all()
    # Only the newest version of each month is compared: read the sections of those alone.
    newest: dict[tuple[int, str], Any] = {}
    for row in rows:
        key = (row.organisation_id, row.month)
        if key not in newest or newest[key].version < row.version:
            newest[key] = row
    sections = _sections(session, list(newest.values()))
    shared = {org_id: (p.code, list(p.figures)) for org_id, p in by_org.items()}
    return [
        MonthFigures(
            shared[row.organisation_id][0],
            row.month,
            row.version,
            row.sha256,
            extract(sections.get(row.id, {}), shared[row.organisation_id][1]),
        )
        for row in newest.values()
    ]


def published_month_figures(
    session: Session, participants: list[BenchmarkParticipant], months: Iterable[Month]
) -> list[MonthFigures]:
    """The members' participants' figures from every publication of the months."""
    by_id = {p.id: p for p in participants if p.member_id is not None}
    if not by_id:
        return []
    rows = session.execute(
        sa.select(BenchmarkPublication).where(
            col(BenchmarkPublication.participant_id).in_(list(by_id)),
            col(BenchmarkPublication.month).in_([str(m) for m in months]),
        )
    ).scalars()
    out = []
    for pub in rows:
        p = by_id[pub.participant_id]
        figures = {k: v for k, v in pub.figures.items() if k in p.figures}
        out.append(MonthFigures(p.code, pub.month, pub.report_version, pub.report_sha256, figures))
    return out


def month_figures(
    session: Session, months: Iterable[Month], group: str | None = None
) -> tuple[list[BenchmarkParticipant], dict[tuple[str, str], MonthFigures]]:
    """The participants (of one municipality group, if asked), and the newest version of each
    one's month."""
    months = list(months)
    participants = sharing_participants(session)
    if group:
        participants = [p for p in participants if p.group == group]
    rows = own_month_figures(session, participants, months) + published_month_figures(
        session, participants, months
    )
    return participants, _newest(rows)


def entries(
    participants: list[BenchmarkParticipant],
    newest: Mapping[tuple[str, str], MonthFigures],
    period: Period,
) -> dict[str, list[Entry]]:
    """Per figure, one entry per participant that shares it and has at least one month of it:
    the months' numerators and denominators added (a single month keeps its value as frozen)."""
    by_participant: dict[str, dict[str, MonthFigures]] = defaultdict(dict)
    for (code, month), mf in newest.items():
        by_participant[code][month] = mf
    months = [str(m) for m in period.months]
    kinds = {f.key: (f.unit, f.survey) for f in FIGURES}
    out: dict[str, list[Entry]] = defaultdict(list)
    for p in participants:
        code, label, group = p.code, label_of(p), p.group
        mine = by_participant.get(code)
        if not mine:
            continue
        present = [(m, mine[m]) for m in months if m in mine]
        for key in p.figures:
            if key not in kinds:
                continue
            unit, survey = kinds[key]
            found = [(m, mf.figures[key], mf) for m, mf in present if key in mf.figures]
            if not found:
                continue
            numerator = sum(f["numerator"] for _, f, _ in found)
            denominator = sum(f["denominator"] for _, f, _ in found)
            value = (
                found[0][1]["value"] if len(found) == 1 else value_of(unit, numerator, denominator)
            )
            out[key].append(
                Entry(
                    participant=code,
                    label=label,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                    group=group,
                    months=len(found),
                    sources=tuple((m, mf.version, mf.sha256) for m, _, mf in found),
                    survey=survey,
                )
            )
    return out


def compare(
    session: Session,
    period: Period,
    own: str | None = None,
    *,
    group: str | None = None,
    min_participants: int = MIN_PARTICIPANTS,
) -> Comparison:
    """Every shared figure's ranking for the period (among one municipality group's
    participants, if asked); ``own`` marks a participant's rows."""
    participants, newest = month_figures(session, period.months, group)
    per_figure = entries(participants, newest, period)
    rankings = [
        rank(f.key, direction(f.key), per_figure[f.key], min_participants=min_participants)
        for f in FIGURES
        if per_figure.get(f.key)
    ]
    present = {e.participant for es in per_figure.values() for e in es}
    labels = {p.code: (label_of(p), p.group) for p in participants if p.code in present}
    return Comparison(period, rankings, len(present), own, labels)


def history(
    session: Session,
    months: list[Month],
    own: str,
    *,
    group: str | None = None,
    min_participants: int = MIN_PARTICIPANTS,
) -> dict[str, list[tuple[Month, int | None, int]]]:
    """The own places over the months: per figure, (month, place or None, ranked participants)."""
    participants, newest = month_figures(session, months, group)
    out: dict[str, list[tuple[Month, int | None, int]]] = defaultdict(list)
    for month in months:
        per_figure = entries(participants, newest, Period.of_month(month))
        for f in FIGURES:
            ranking = rank(
                f.key,
                direction(f.key),
                per_figure.get(f.key, []),
                min_participants=min_participants,
            )
            place = ranking.place_of(own)
            out[f.key].append(
                (
                    month,
                    place.place if place else None,
                    ranking.participants if ranking.ranked else 0,
                )
            )
    return dict(out)
