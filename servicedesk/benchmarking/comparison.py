"""A comparison: for a period, every shared figure ranked among the participants that share it.

The participants are this installation's own organisations that share (read from their frozen
reports, the newest version of each month) and, on a hub, the members' participants (read from
their publications, the newest version of each month). Nothing but frozen report versions is
ever compared, and each figure keeps the versions and checksums it came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import has_app_context
from sqlmodel import Session, col

from servicedesk.benchmarking.figures import BY_KEY, FIGURES, direction, extract, value_of
from servicedesk.benchmarking.models import (
    BenchmarkMember,
    BenchmarkParticipant,
    BenchmarkPublication,
)
from servicedesk.benchmarking.periods import Period
from servicedesk.benchmarking.ranking import MIN_PARTICIPANTS, Entry, Ranking, rank
from servicedesk.cache import cache
from servicedesk.metrics.periods import Month
from servicedesk.reports.models import Report

#: The parts of a report a shared figure can come from (read as JSON paths, not whole documents).
_SECTIONS = ("phone", "email", "survey_headline")
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

    A frozen version never changes, so what was read of it is kept in the shared cache under its
    id and checksum (an id a deleted report had cannot bring back the old figures): reading the
    sections takes a JSON parse of the whole document per section, a cache hit does not."""
    keys = {row.id: f"benchmark:report:{row.id}:{row.sha256}" for row in rows}
    found: dict[int, dict[str, Any]] = {}
    if has_app_context() and keys:
        cached = cache.get_many(*keys.values())
        found = {rid: value for rid, value in zip(keys, cached, strict=True) if value is not None}
    missing = [rid for rid in keys if rid not in found]
    if missing:
        doc = col(Report.document)
        read = session.execute(
            sa.select(col(Report.id), *(doc[s].label(s) for s in _SECTIONS)).where(
                col(Report.id).in_(missing)
            )
        ).mappings()
        fresh = {row["id"]: {s: row[s] for s in _SECTIONS} for row in read}
        if has_app_context() and fresh:
            cache.set_many(
                {keys[rid]: value for rid, value in fresh.items()}, timeout=SECTION_SECONDS
            )
        found |= fresh
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
    return [
        MonthFigures(
            by_org[row.organisation_id].code,
            row.month,
            row.version,
            row.sha256,
            extract(sections.get(row.id, {}), by_org[row.organisation_id].figures),
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
    session: Session, months: Iterable[Month]
) -> tuple[list[BenchmarkParticipant], dict[tuple[str, str], MonthFigures]]:
    """The participants, and the newest version of each one's month."""
    months = list(months)
    participants = sharing_participants(session)
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
    out: dict[str, list[Entry]] = defaultdict(list)
    for p in participants:
        for key in p.figures:
            figure = BY_KEY.get(key)
            if figure is None:
                continue
            found = [
                (m, newest[(p.code, str(m))])
                for m in period.months
                if (p.code, str(m)) in newest and key in newest[(p.code, str(m))].figures
            ]
            if not found:
                continue
            numerator = sum(mf.figures[key]["numerator"] for _, mf in found)
            denominator = sum(mf.figures[key]["denominator"] for _, mf in found)
            value = (
                found[0][1].figures[key]["value"]
                if len(found) == 1
                else value_of(figure.unit, numerator, denominator)
            )
            out[key].append(
                Entry(
                    participant=p.code,
                    label=label_of(p),
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                    group=p.group,
                    months=len(found),
                    sources=tuple((str(m), mf.version, mf.sha256) for m, mf in found),
                    survey=figure.survey,
                )
            )
    return out


def compare(
    session: Session,
    period: Period,
    own: str | None = None,
    *,
    min_participants: int = MIN_PARTICIPANTS,
) -> Comparison:
    """Every shared figure's ranking for the period; ``own`` marks a participant's rows."""
    participants, newest = month_figures(session, period.months)
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
    session: Session, months: list[Month], own: str, *, min_participants: int = MIN_PARTICIPANTS
) -> dict[str, list[tuple[Month, int | None, int]]]:
    """The own places over the months: per figure, (month, place or None, ranked participants)."""
    participants, newest = month_figures(session, months)
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
